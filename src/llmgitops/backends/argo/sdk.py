"""Strictness for the Argo Workflows SDK models: they accept any keyword silently, we do not.

The generated models store unknown keyword arguments as extra properties and serialize them, so a typo
(``retryStategy=``) would reach the cluster, where Argo drops it. ``unknown_fields`` walks a model tree and
names every key its model's attribute map does not define.
"""

from __future__ import annotations

from typing import Any


def unknown_fields(obj: Any, where: str = "") -> list[str]:
    from argo_workflows.model_utils import OpenApiModel

    problems: list[str] = []
    if isinstance(obj, OpenApiModel):
        known = type(obj).attribute_map
        for key, value in obj._data_store.items():
            path = f"{where}.{key}" if where else key
            if key not in known:
                problems.append(f"{path} is not a field of {type(obj).__name__}")
                continue
            problems += unknown_fields(value, path)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            problems += unknown_fields(item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            problems += unknown_fields(value, f"{where}.{key}")
    return problems


def to_plain(obj: Any) -> dict[str, Any]:
    """The model as the JSON the API server receives (camelCase keys), after the strictness check."""
    from argo_workflows.model_utils import model_to_dict

    problems = unknown_fields(obj)
    if problems:
        raise ValueError("; ".join(problems))
    data = model_to_dict(obj, serialize=True)
    assert isinstance(data, dict)
    return data
