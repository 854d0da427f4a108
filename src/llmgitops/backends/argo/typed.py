"""Typed Kubernetes objects the Argo Workflows SDK has no model for (KServe, Argo Rollouts, Argo CD, core).

Each is a frozen dataclass: a typo in a field name is an error when the code runs, never a key the API
server silently drops. ``to_dict`` names keys in camelCase and leaves unset (None) fields out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None:
                continue
            out[f.metadata.get("key", _camel(f.name))] = plain(item)
        return out
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


class Typed:
    def to_dict(self) -> dict[str, Any]:
        data = plain(self)
        assert isinstance(data, dict)
        return data


@dataclass(frozen=True)
class Meta(Typed):
    name: str
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


# ---- core/v1 ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConfigMap(Typed):
    metadata: Meta
    data: dict[str, str]
    immutable: bool | None = None
    api_version: str = "v1"
    kind: str = "ConfigMap"


@dataclass(frozen=True)
class Resources(Typed):
    requests: dict[str, str] | None = None
    limits: dict[str, str] | None = None


@dataclass(frozen=True)
class EnvVar(Typed):
    name: str
    value: str


@dataclass(frozen=True)
class VolumeMount(Typed):
    name: str
    mount_path: str
    read_only: bool | None = None


@dataclass(frozen=True)
class Container(Typed):
    name: str
    image: str
    env: tuple[EnvVar, ...] | None = None
    volume_mounts: tuple[VolumeMount, ...] | None = None


@dataclass(frozen=True)
class ConfigMapVolume(Typed):
    name: str


@dataclass(frozen=True)
class Volume(Typed):
    name: str
    config_map: ConfigMapVolume


@dataclass(frozen=True)
class PodSpec(Typed):
    containers: tuple[Container, ...]
    volumes: tuple[Volume, ...] | None = None


@dataclass(frozen=True)
class PodMeta(Typed):
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


@dataclass(frozen=True)
class PodTemplate(Typed):
    metadata: PodMeta | None
    spec: PodSpec


@dataclass(frozen=True)
class LabelSelector(Typed):
    match_labels: dict[str, str]


# ---- KServe serving.kserve.io/v1beta1 ----------------------------------------------------------------

@dataclass(frozen=True)
class ModelFormat(Typed):
    name: str


@dataclass(frozen=True)
class ModelSpec(Typed):
    model_format: ModelFormat
    storage_uri: str | None = None
    args: tuple[str, ...] | None = None
    resources: Resources | None = None


@dataclass(frozen=True)
class Predictor(Typed):
    model: ModelSpec
    min_replicas: int | None = None
    max_replicas: int | None = None
    # owned by the promotion workflow; Argo CD ignores it (see the Application)
    canary_traffic_percent: int | None = None


@dataclass(frozen=True)
class InferenceServiceSpec(Typed):
    predictor: Predictor


@dataclass(frozen=True)
class InferenceService(Typed):
    metadata: Meta
    spec: InferenceServiceSpec
    api_version: str = "serving.kserve.io/v1beta1"
    kind: str = "InferenceService"


@dataclass(frozen=True)
class TrafficPredictor(Typed):
    canary_traffic_percent: int


@dataclass(frozen=True)
class TrafficSpec(Typed):
    predictor: TrafficPredictor


@dataclass(frozen=True)
class InferenceServiceTraffic(Typed):
    """A merge patch that moves only ``canaryTrafficPercent``."""

    metadata: Meta
    spec: TrafficSpec
    api_version: str = "serving.kserve.io/v1beta1"
    kind: str = "InferenceService"


# ---- Argo Rollouts argoproj.io/v1alpha1 --------------------------------------------------------------

@dataclass(frozen=True)
class Pause(Typed):
    duration: str | None = None


@dataclass(frozen=True)
class CanaryStep(Typed):
    set_weight: int | None = None
    pause: Pause | None = None


@dataclass(frozen=True)
class Canary(Typed):
    steps: tuple[CanaryStep, ...]


@dataclass(frozen=True)
class Strategy(Typed):
    canary: Canary


@dataclass(frozen=True)
class RolloutSpec(Typed):
    replicas: int
    selector: LabelSelector
    template: PodTemplate
    strategy: Strategy
    revision_history_limit: int | None = None


@dataclass(frozen=True)
class Rollout(Typed):
    metadata: Meta
    spec: RolloutSpec
    api_version: str = "argoproj.io/v1alpha1"
    kind: str = "Rollout"


@dataclass(frozen=True)
class RolloutStatusPatch(Typed):
    """A merge patch of a Rollout's status subresource: clear pauses (promote) or abort."""

    metadata: Meta
    status: dict[str, Any]
    api_version: str = "argoproj.io/v1alpha1"
    kind: str = "Rollout"


@dataclass(frozen=True)
class RolloutRef(Typed):
    """What a `get` resource step waits on."""

    metadata: Meta
    api_version: str = "argoproj.io/v1alpha1"
    kind: str = "Rollout"


# ---- Argo CD argoproj.io/v1alpha1 --------------------------------------------------------------------

@dataclass(frozen=True)
class Directory(Typed):
    recurse: bool


@dataclass(frozen=True)
class AppSource(Typed):
    repo_url: str = field(metadata={"key": "repoURL"})
    target_revision: str
    path: str
    directory: Directory


@dataclass(frozen=True)
class AppDestination(Typed):
    server: str
    namespace: str


@dataclass(frozen=True)
class Automated(Typed):
    prune: bool
    self_heal: bool


@dataclass(frozen=True)
class SyncPolicy(Typed):
    automated: Automated
    sync_options: tuple[str, ...]


@dataclass(frozen=True)
class IgnoreDifference(Typed):
    group: str
    kind: str
    json_pointers: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationSpec(Typed):
    project: str
    source: AppSource
    destination: AppDestination
    sync_policy: SyncPolicy
    ignore_differences: tuple[IgnoreDifference, ...]


@dataclass(frozen=True)
class Application(Typed):
    metadata: Meta
    spec: ApplicationSpec
    api_version: str = "argoproj.io/v1alpha1"
    kind: str = "Application"
