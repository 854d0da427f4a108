"""train: make sure a Model version's weights exist, training them when they do not.

A version names one set of weights, so training happens once per version: the step first checks its
inputs (every training Dataset loads and matches its schema) and then the weights:

    weights.dvc.path   the pointer's data is fetched from the DVC remote into the cache (`dvc fetch`)
    weights.package    the distribution is installed at the pinned version
    weights.storageUri the serving runtime reads it; nothing to fetch here

When the weights are missing, the trainer registered for ``training.method`` under the entry point
group ``llmgitops.trainers`` produces them (in Argo this step has the GPUs the Model asks for).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from ...findings import Severity
from ..model import Step
from .context import StepContext, StepFailed, StepOutcome, TransientError

TRAINERS_GROUP = "llmgitops.trainers"


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _datasets(ctx: StepContext, model: Any) -> list[str]:
    from ...evaluation.datasets import load_dataset
    from ...manifests.ranges import RangeError, parse_range

    loaded = []
    for ref in _map(model.spec.get("training")).get("datasets") or []:
        name, wanted = _map(ref).get("name"), _map(ref).get("version")
        dataset = ctx.release.manifests.get(("Dataset", str(name)))
        if dataset is None or dataset.version is None:
            raise StepFailed(f"training Dataset {name!r} is not in {ctx.environment}")
        try:
            if isinstance(wanted, str) and not parse_range(wanted).satisfied_by(dataset.version):
                raise StepFailed(f"training Dataset {name} {dataset.version} does not satisfy {wanted}")
        except RangeError as exc:
            raise StepFailed(f"training Dataset {name}: {exc}") from None
        data = load_dataset(ctx.repo_root, dataset)
        errors = [f for f in data.findings if f.severity is Severity.ERROR]
        if errors:
            raise StepFailed(f"training Dataset {name} does not load: {errors[0].message}")
        ctx.log(f"dataset {name} {dataset.version}: {len(data.cases)} records")
        loaded.append(f"{name}@{dataset.version} ({len(data.cases)} records)")
    return loaded


def _weights_present(ctx: StepContext, weights: dict[str, Any]) -> str | None:
    """How the weights were found, or None when they are missing."""
    package = _map(weights.get("package"))
    if package:
        try:
            installed = metadata.version(str(package.get("name")))
        except metadata.PackageNotFoundError:
            return None
        return f"package {package.get('name')}=={installed}" if installed == package.get("version") else None
    pointer = _map(weights.get("dvc")).get("path")
    if isinstance(pointer, str):
        try:
            from dvc.exceptions import DvcException
            from dvc.repo import Repo
        except ImportError:
            raise StepFailed("the weights are tracked by DVC, which is not installed",
                             hint="pip install 'llmgitops[dvc]'") from None
        try:
            with Repo(str(ctx.repo_root)) as repo:
                # DVC resolves targets against the process's working directory, not the repository's
                fetched = repo.fetch(targets=[str(ctx.repo_root / pointer)])
                missing = _missing_objects(repo, ctx.repo_root / pointer)
        except DvcException as exc:
            raise TransientError(f"dvc fetch {pointer} failed: {exc}") from None
        if missing:
            ctx.log(f"{pointer}: {len(missing)} object(s) in neither the cache nor the remote, e.g. {missing[0]}")
            return None
        return f"DVC {pointer} ({fetched} object{'s' * (fetched != 1)} fetched into the cache)"
    if isinstance(weights.get("storageUri"), str):
        return f"storage {weights['storageUri']} (read by the serving runtime)"
    return None


def _missing_objects(repo: Any, pointer: Path) -> list[str]:
    """Content hashes a DVC pointer names that the local cache lacks (directories: every file in them)."""
    import json

    from ...manifests.loader import load_bytes

    loaded = load_bytes(pointer.read_bytes(), str(pointer))  # the one strict loader, for pointers too
    if loaded.document is None:
        return [f"(unreadable pointer: {loaded.findings[0].message})"]
    outs = loaded.document.data.get("outs")
    odb = repo.cache.local
    missing = []
    for out in outs if isinstance(outs, list) else []:
        if not isinstance(out, dict):
            continue
        oid = str(out.get("md5", ""))
        if not oid or not odb.exists(oid):
            missing.append(oid or "(no md5)")
            continue
        if oid.endswith(".dir"):
            entries = json.loads(Path(odb.oid_to_path(oid)).read_text(encoding="utf-8"))
            missing += [str(e.get("md5")) for e in entries if not odb.exists(str(e.get("md5")))]
    return missing


def train(ctx: StepContext, step: Step) -> StepOutcome:
    assert step.artifact is not None
    model = ctx.release.manifests.get(("Model", step.artifact.name))
    if model is None or model.version != step.artifact.version:
        raise StepFailed(f"{step.artifact.ref} is not in {ctx.environment} at {ctx.revision[:12]}")
    training = _map(model.spec.get("training"))
    if not training:
        raise StepFailed(f"{step.artifact.ref} declares no training")
    datasets = _datasets(ctx, model)
    found = _weights_present(ctx, _map(model.spec.get("weights")))
    if found is not None:
        ctx.log(f"weights of {step.artifact.ref} exist: {found}")
        return StepOutcome(f"weights of {step.artifact.ref} exist ({found}); inputs checked: "
                           f"{', '.join(datasets) or 'none'}", {"weights": found, "trained": False})
    method = str(training.get("method"))
    trainers = {ep.name: ep for ep in metadata.entry_points(group=TRAINERS_GROUP)}
    if method not in trainers:
        raise StepFailed(f"the weights of {step.artifact.ref} are missing and no trainer for method {method!r} "
                         f"is installed (entry point group {TRAINERS_GROUP})")
    trainer = trainers[method].load()
    ctx.log(f"training {step.artifact.ref} with {trainers[method].value}")
    result = trainer(repo_root=ctx.repo_root, model=model, log=ctx.log)
    return StepOutcome(f"trained {step.artifact.ref} with {method}: {result}", {"trained": True})
