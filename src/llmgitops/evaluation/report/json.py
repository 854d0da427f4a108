"""The machine-readable report: a versioned JSON document (``report.schema.json`` next to this module)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_ID = "llmgitops.dev/eval-report/v1"
SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
# top-level keys in the order reports are written, so equal reports are equal bytes
ORDER = (
    "schema",
    "suite",
    "targets",
    "dataset",
    "provider",
    "settings",
    "metricDefinitions",
    "baseline",
    "shard",
    "cases",
    "metrics",
    "summary",
    "gates",
    "passed",
    "review",
    "run",
)
TIMING_KEYS = ("run",)


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return loaded


def ordered(doc: dict[str, Any]) -> dict[str, Any]:
    out = {key: doc[key] for key in ORDER if key in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    return out


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
LISTS_BY_LINE = ("cases", "metrics", "gates", "metricDefinitions", "targets")


def dumps(doc: dict[str, Any], timing: bool = True) -> str:
    """The report as written to report.json; ``timing=False`` leaves ``run`` out (for comparing reports).

    One top-level key per line, and one record (metric, gate) per line inside the long lists: diffs
    of two reports line up by record, and the encoding stays in json's C encoder (``indent`` would
    switch to the pure-Python one, several times slower on thousands of records).
    """
    return "{\n" + ",\n".join(lines_of(doc, timing)) + "\n}\n"


def lines_of(doc: dict[str, Any], timing: bool = True) -> list[str]:
    """The top-level lines of ``dumps``."""
    body = ordered({k: v for k, v in doc.items() if timing or k not in TIMING_KEYS})
    lines = []
    for key, value in body.items():
        name = _COMPACT.encode(key)
        if key in LISTS_BY_LINE and isinstance(value, list) and value:
            items = ",\n    ".join(_COMPACT.encode(item) for item in value)
            lines.append(f"  {name}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {name}: {_COMPACT.encode(value)}")
    return lines


def validate(doc: Any) -> list[str]:
    """Schema problems of a report document, as ``path: message`` lines (empty when valid)."""
    from jsonschema import Draft202012Validator

    problems = []
    for error in sorted(Draft202012Validator(schema()).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    return problems
