"""The baseline a run is compared with: a previous report (``--baseline REPORT``), else the target Model's
``spec.evalBaselines`` entry for this suite (its metric values, and its report when it names one).

A report baseline carries per-record values, so regressions are judged on paired differences and the
reports show each record's previous output next to the new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LLMGitOpsError
from ..manifests.ranges import RangeError, satisfies
from ..manifests.repository import EnvironmentState
from ..manifests.source import path_problem
from .report.json import SCHEMA_ID


@dataclass
class Baseline:
    source: str
    metrics: dict[str, float]
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "metrics": dict(sorted(self.metrics.items())), "records": len(self.cases)}


def read_report(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LLMGitOpsError(f"{path}: no such report") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LLMGitOpsError(f"{path}: not a readable JSON report: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_ID:
        raise LLMGitOpsError(f"{path}: not an llmgitops evaluation report (schema {SCHEMA_ID})")
    return doc


def from_report(doc: dict[str, Any], source: str) -> Baseline:
    metrics = {
        m["name"]: m["value"]
        for m in doc.get("metrics") or []
        if isinstance(m, dict) and isinstance(m.get("value"), int | float)
    }
    cases: dict[str, dict[str, Any]] = {}
    for case in doc.get("cases") or []:
        values = {
            name: entry["value"]
            for name, entry in (case.get("metrics") or {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("value"), int | float)
        }
        cases[str(case.get("id"))] = {"metrics": values, "output": case.get("output")}
    return Baseline(source, metrics, cases)


def load_baseline(
    root: Path, env: EnvironmentState, suite_name: str, suite_version: str, model_name: str | None, report: Path | None
) -> Baseline | None:
    if report is not None:
        return from_report(read_report(report), f"report {report}")
    model = env.find("Model", model_name) if model_name else None
    entries = model.spec.get("evalBaselines") if model is not None else None
    for entry in entries if isinstance(entries, list) else []:
        suite = entry.get("suite") if isinstance(entry, dict) else None
        if not (isinstance(suite, dict) and suite.get("name") == suite_name and isinstance(suite.get("version"), str)):
            continue
        try:
            if not satisfies(suite_version, suite["version"]):
                continue
        except RangeError:
            continue
        values = {
            m["name"]: float(m["value"])
            for m in entry.get("metrics") or []
            if isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("value"), int | float)
        }
        source = f"Model {model.name}@{model.version} evalBaselines" if model is not None else "evalBaselines"
        relpath = entry.get("report")
        if (
            isinstance(relpath, str)
            and path_problem(root, relpath) is None
            and (root / relpath).is_file()
        ):
            found = from_report(read_report(root / relpath), f"{source} ({relpath})")
            found.metrics.update(values)  # the manifest's numbers are the recorded baseline
            return found
        return Baseline(source, values)
    return None
