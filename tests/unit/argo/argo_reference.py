"""Strict validators for rendered documents, built from the upstream schemas in /work/shared/reference/.

Upstream schemas allow unknown keys everywhere; here every object schema that lists properties is
closed (``additionalProperties: false``) unless it preserves unknown fields on purpose, so a misspelt
field is an error. The Argo schema's IntOrString is widened to integer-or-string, as its README notes.
ConfigMap and the Argo CD Application have no schema in the reference folder: the schemas below are
written from the Kubernetes and Argo CD API documentation for exactly the fields the renderer emits,
and are closed the same way.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from conftest import REFERENCE


def close(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: close(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [close(v) for v in schema]
    return schema


@cache
def argo_validator(kind: str) -> Draft202012Validator:
    schema = json.loads((REFERENCE / "argo-workflows" / "schema.json").read_text())
    schema["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["integer", "string"]}
    closed = close({"definitions": schema["definitions"]})
    closed["$ref"] = f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}"
    return Draft202012Validator(closed)


def _crd(relpath: str, version: str) -> Draft7Validator:
    crd = yaml.load((REFERENCE / relpath).read_text(), Loader=yaml.CSafeLoader)
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]
    return Draft7Validator(close(schema))


META = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
        "namespace": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {
            "type": "string", "maxLength": 63, "pattern": "^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
CONFIG_MAP = close({
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "data"],
    "properties": {
        "apiVersion": {"const": "v1"}, "kind": {"const": "ConfigMap"}, "metadata": META,
        "data": {"type": "object", "additionalProperties": {"type": "string"}},
        "immutable": {"type": "boolean"},
    },
})
APPLICATION = close({
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "argoproj.io/v1alpha1"}, "kind": {"const": "Application"}, "metadata": META,
        "spec": {
            "type": "object", "required": ["project", "source", "destination"],
            "properties": {
                "project": {"type": "string"},
                "source": {"type": "object", "required": ["repoURL", "path"], "properties": {
                    "repoURL": {"type": "string"}, "targetRevision": {"type": "string"}, "path": {"type": "string"},
                    "directory": {"type": "object", "properties": {"recurse": {"type": "boolean"}}}}},
                "destination": {"type": "object", "properties": {"server": {"type": "string"},
                                                                 "namespace": {"type": "string"}}},
                "syncPolicy": {"type": "object", "properties": {
                    "automated": {"type": "object", "properties": {"prune": {"type": "boolean"},
                                                                   "selfHeal": {"type": "boolean"}}},
                    "syncOptions": {"type": "array", "items": {"type": "string"}}}},
                "ignoreDifferences": {"type": "array", "items": {
                    "type": "object", "required": ["kind"], "properties": {
                        "group": {"type": "string"}, "kind": {"type": "string"},
                        "jsonPointers": {"type": "array", "items": {"type": "string"}}}}},
            },
        },
    },
})


@cache
def validators() -> dict[str, Any]:
    return {
        "Workflow": argo_validator("Workflow"),
        "WorkflowTemplate": argo_validator("WorkflowTemplate"),
        "InferenceService": _crd("kserve/serving.kserve.io_inferenceservices.yaml", "v1beta1"),
        "Rollout": _crd("argo-rollouts/rollout-crd.yaml", "v1alpha1"),
        "ConfigMap": Draft7Validator(CONFIG_MAP),
        "Application": Draft7Validator(APPLICATION),
    }


def problems(document: dict[str, Any]) -> list[str]:
    validator = validators().get(document.get("kind", ""))
    if validator is None:
        return [f"no validator for kind {document.get('kind')!r}"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def reference_available() -> bool:
    return (REFERENCE / "argo-workflows" / "schema.json").is_file()


def load_rendered(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
