"""An Environment manifest read as typed settings, with the documented defaults filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..manifests.repository import Manifest

DEFAULT_STEPS = (5, 25, 50, 100)
DEFAULT_TARGET_REVISION = "main"
DEFAULT_PROMETHEUS = "http://prometheus-operated.monitoring.svc:9090"
ANNOTATION_REPO_URL = "llmgitops.dev/repo-url"
ANNOTATION_TARGET_REVISION = "llmgitops.dev/target-revision"
ANNOTATION_APP_IMAGE = "llmgitops.dev/app-image"
ANNOTATION_PROMETHEUS = "llmgitops.dev/prometheus-url"

_REPO_URL = re.compile(r"^(https://|ssh://|git@)[A-Za-z0-9._~:/@%+-]+$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_IMAGE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
                    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")
_HTTP_URL = re.compile(r"^https?://[A-Za-z0-9._~:/%+-]+$")


@dataclass(frozen=True)
class AnalysisMetric:
    name: str
    query: str
    threshold: float
    comparison: str

    def passes(self, value: float) -> bool:
        return {"<": value < self.threshold, "<=": value <= self.threshold,
                ">": value > self.threshold, ">=": value >= self.threshold}[self.comparison]


@dataclass(frozen=True)
class Settings:
    name: str
    source: str | None
    approval_required: bool
    approvers: tuple[str, ...]
    min_approvals: int
    allow_prerelease: bool
    target: str
    namespace: str
    steps: tuple[int, ...]
    analysis_interval: str | None
    failure_limit: int
    metrics: tuple[AnalysisMetric, ...]
    automatic_rollback: bool
    gates: dict[str, float] = field(default_factory=dict)
    image: str | None = None
    service_account: str | None = None
    argo_namespace: str | None = None
    repo_url: str | None = None
    target_revision: str = DEFAULT_TARGET_REVISION
    app_image: str | None = None
    prometheus_url: str = DEFAULT_PROMETHEUS


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _str(value: Any, default: str) -> str:
    return value if isinstance(value, str) else default


def _checked(value: Any, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.match(value) else None


def settings_of(env: Manifest) -> Settings:
    """Settings of a schema-valid Environment. Values that reach rendered files are pattern-checked here
    too, so a value that slipped past validation becomes "unset", never text in a Workflow."""
    spec = env.spec
    promotion = _map(spec.get("promotion"))
    approval = _map(promotion.get("approval"))
    deploy = _map(spec.get("deploy"))
    analysis = _map(deploy.get("analysis"))
    argo = _map(spec.get("argo"))
    notes = env.annotations
    steps = deploy.get("steps")
    weights = tuple(sorted({int(s) for s in steps if isinstance(s, int) and not isinstance(s, bool)
                            and 1 <= s <= 100})) if isinstance(steps, list) else DEFAULT_STEPS
    if not weights or weights[-1] != 100:
        weights = (*weights, 100)
    metrics = []
    for item in analysis.get("metrics") or []:
        item = _map(item)
        threshold = item.get("threshold")
        if isinstance(item.get("name"), str) and isinstance(item.get("query"), str) \
                and isinstance(threshold, (int, float)) and item.get("comparison") in ("<", "<=", ">", ">="):
            metrics.append(AnalysisMetric(item["name"], item["query"], float(threshold), item["comparison"]))
    approvers = approval.get("approvers")
    gates = {k: float(v) for k, v in _map(spec.get("gates")).items()
             if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return Settings(
        name=env.name or env.environment or "",
        source=promotion.get("from") if isinstance(promotion.get("from"), str) else None,
        approval_required=approval.get("required") is True,
        approvers=tuple(a for a in approvers if isinstance(a, str)) if isinstance(approvers, list) else (),
        min_approvals=_int(approval.get("minApprovals"), 1),
        allow_prerelease=promotion.get("allowPrerelease") is not False,
        target="kserve" if deploy.get("target") == "kserve" else "local",
        namespace=_str(deploy.get("namespace"), env.name or "default"),
        steps=weights,
        analysis_interval=analysis.get("interval") if isinstance(analysis.get("interval"), str) else None,
        failure_limit=_int(analysis.get("failureLimit"), 0),
        metrics=tuple(metrics),
        automatic_rollback=_map(deploy.get("rollback")).get("automatic") is not False,
        gates=gates,
        image=_checked(argo.get("image"), _IMAGE),
        service_account=argo.get("serviceAccount") if isinstance(argo.get("serviceAccount"), str) else None,
        argo_namespace=argo.get("namespace") if isinstance(argo.get("namespace"), str) else None,
        repo_url=_checked(notes.get(ANNOTATION_REPO_URL), _REPO_URL),
        target_revision=_checked(notes.get(ANNOTATION_TARGET_REVISION), _REVISION) or DEFAULT_TARGET_REVISION,
        app_image=_checked(notes.get(ANNOTATION_APP_IMAGE), _IMAGE),
        prometheus_url=_checked(notes.get(ANNOTATION_PROMETHEUS), _HTTP_URL) or DEFAULT_PROMETHEUS,
    )
