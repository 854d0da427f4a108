"""Which manifests a manifest points at: the edges checks, bumps and promotions follow."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .repository import Manifest

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Reference:
    kind: str
    name: str
    range: str
    path: JsonPath  # where the reference sits in the referring manifest


def _ref(kind: str, value: Any, path: JsonPath) -> Iterator[Reference]:
    if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("version"), str):
        yield Reference(kind, value["name"], value["version"], path)


def _each(value: Any) -> Iterator[tuple[int, Any]]:
    return enumerate(value) if isinstance(value, list) else iter(())


def references(manifest: Manifest) -> list[Reference]:
    spec, kind = manifest.spec, manifest.kind
    out: list[Reference] = []
    if kind == "Prompt":
        out += _ref("Model", spec.get("modelRef"), ("spec", "modelRef"))
    elif kind == "EvalSuite":
        out += _ref("Dataset", spec.get("dataset"), ("spec", "dataset"))
        for i, target in _each(spec.get("targets")):
            if isinstance(target, dict) and isinstance(target.get("kind"), str):
                out += _ref(target["kind"], target, ("spec", "targets", i))
    elif kind == "RagConfig":
        for i, source in _each(spec.get("sources")):
            out += _ref("Dataset", source, ("spec", "sources", i))
        embedding = spec.get("embedding")
        if isinstance(embedding, dict):
            out += _ref("Model", embedding.get("modelRef"), ("spec", "embedding", "modelRef"))
    elif kind == "Model":
        training = spec.get("training")
        if isinstance(training, dict):
            for i, dataset in _each(training.get("datasets")):
                out += _ref("Dataset", dataset, ("spec", "training", "datasets", i))
        for i, baseline in _each(spec.get("evalBaselines")):
            if isinstance(baseline, dict):
                out += _ref("EvalSuite", baseline.get("suite"), ("spec", "evalBaselines", i, "suite"))
    return out


def file_paths(manifest: Manifest) -> list[tuple[JsonPath, str, bool]]:
    """Repository files a manifest names: (where, path, is a DVC pointer)."""
    spec, kind = manifest.spec, manifest.kind
    out: list[tuple[JsonPath, str, bool]] = []

    def add(path: JsonPath, dvc: bool) -> None:
        node: Any = spec
        for part in path[1:]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            out.append((path, node, dvc))

    if kind == "Model":
        add(("spec", "weights", "dvc", "path"), True)
        for i, baseline in _each(spec.get("evalBaselines")):
            if isinstance(baseline, dict) and isinstance(baseline.get("report"), str):
                out.append((("spec", "evalBaselines", i, "report"), baseline["report"], False))
    elif kind == "Dataset":
        add(("spec", "path"), False)
        add(("spec", "storage", "dvc", "path"), True)
    return out
