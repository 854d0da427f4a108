"""Model consistency: the serving context window fits the model's."""

from __future__ import annotations

from typing import Any

from ..findings import Finding
from ..manifests.repository import EnvironmentState, Repository


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    for m in state.of_kind("Model"):
        served = _mapping(_mapping(m.spec.get("serving")).get("args")).get("max_model_len")
        native = _mapping(m.spec.get("interface")).get("maxContextTokens")
        if isinstance(served, int) and isinstance(native, int) and served > native:
            findings.append(m.finding(("spec", "serving", "args", "max_model_len"), "model/context-exceeds",
                                      f"serving.args.max_model_len {served} exceeds the model's "
                                      f"interface.maxContextTokens {native}",
                                      "the runtime would accept prompts the model cannot attend to"))
    return findings
