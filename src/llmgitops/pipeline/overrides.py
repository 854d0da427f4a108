"""Environment overrides: JSON Merge Patches (RFC 7396) an Environment applies to its artifacts' specs.

They are the environment's own values (replicas, resources): promotion never copies them, and what is
deployed is the artifact's spec with its environment's patches applied.
"""

from __future__ import annotations

import copy
from typing import Any

from ..manifests.repository import Manifest


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def effective_spec(manifest: Manifest, environment: Manifest | None) -> dict[str, Any]:
    spec: Any = copy.deepcopy(manifest.spec)
    overrides = environment.spec.get("overrides") if environment is not None else None
    for item in overrides if isinstance(overrides, list) else []:
        target = item.get("target") if isinstance(item, dict) else None
        if isinstance(target, dict) and target.get("kind") == manifest.kind and target.get("name") == manifest.name:
            spec = merge_patch(spec, item.get("patch"))
    return spec if isinstance(spec, dict) else {}
