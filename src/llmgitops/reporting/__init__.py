"""Findings and results as text, JSON, GitHub annotations and SARIF."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..findings import Finding, Severity
from ..rules import describe

FORMATS = ("text", "json", "github", "sarif")


def default_format(requested: str | None) -> str:
    if requested:
        return requested
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _where(f: Finding) -> str:
    return f"{f.path}:{max(f.line, 1)}:{max(f.column, 1)}"


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return {"errors": counts["error"], "warnings": counts["warning"], "infos": counts["info"]}


def suppressed(f: Finding) -> bool:
    """A finding silenced in its manifest (llmgitops.config): reported as info, never counted."""
    return bool(f.extra.get("suppressed"))


def _message(f: Finding) -> str:
    note = f.extra.get("suppressed")
    return f"{f.message} (suppressed by {note['by']})" if isinstance(note, dict) else f.message


def summary_line(findings: Sequence[Finding]) -> str:
    silenced = sum(1 for f in findings if suppressed(f))
    s = summary([f for f in findings if not suppressed(f)])
    if len(findings) == silenced:
        return "no problems found" + (f", {silenced} suppressed" if silenced else "")
    parts = [f"{s['errors']} error{'s' * (s['errors'] != 1)}",
             f"{s['warnings']} warning{'s' * (s['warnings'] != 1)}"]
    if silenced:
        parts.append(f"{silenced} suppressed")
    return ", ".join(parts)


def as_text(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{_where(f)}: {f.severity.value} {f.rule}: {_message(f)}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_json(findings: Sequence[Finding], extra: dict[str, Any] | None = None) -> str:
    kept = [f for f in findings if not suppressed(f)]
    doc = {"version": 1, "tool": "llmgitops", "findings": [f.to_dict() for f in kept],
           "summary": summary(kept), **(extra or {})}
    silenced = [f.to_dict() for f in findings if suppressed(f)]
    if silenced:
        doc["suppressed"] = silenced
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def as_github(findings: Sequence[Finding]) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for f in findings:
        message = _message(f) + (f"\nhint: {f.hint}" if f.hint else "")
        props = (f"file={_gh_escape(f.path, True)},line={max(f.line, 1)},col={max(f.column, 1)},"
                 f"title={_gh_escape(f.rule, True)}")
        lines.append(f"::{level[f.severity]} {props}::{_gh_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_sarif(findings: Sequence[Finding]) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
    rule_ids = sorted({f.rule for f in findings})
    index = {r: i for i, r in enumerate(rule_ids)}
    results = []
    for f in findings:
        message = f.message + (f" (hint: {f.hint})" if f.hint else "")
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": level[f.severity],
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(f.line, 1), "startColumn": max(f.column, 1)},
            }}],
        }
        note = f.extra.get("suppressed")
        if isinstance(note, dict):
            result["level"] = level[Severity(note["severity"])]
            result["suppressions"] = [{"kind": "inSource", "justification": note["by"]}]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "llmgitops",
                "version": __version__,
                "informationUri": "https://github.com/llmgitops/llmgitops",
                "rules": [{"id": r, "shortDescription": {"text": describe(r)}} for r in rule_ids],
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def render(findings: Sequence[Finding], fmt: str) -> str:
    return {"text": as_text, "json": as_json, "github": as_github, "sarif": as_sarif}[fmt](findings)
