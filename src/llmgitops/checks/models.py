"""Model consistency: the serving context window fits the model's."""

from __future__ import annotations

from ..findings import Finding
from ..manifests.repository import EnvironmentState, Repository


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    for m in state.of_kind("Model"):
        serving = m.spec.get("serving") if isinstance(m.spec.get("serving"), dict) else {}
        args = serving.get("args") if isinstance(serving.get("args"), dict) else {}
        interface = m.spec.get("interface") if isinstance(m.spec.get("interface"), dict) else {}
        served, native = args.get("max_model_len"), interface.get("maxContextTokens")
        if isinstance(served, int) and isinstance(native, int) and served > native:
            findings.append(m.finding(("spec", "serving", "args", "max_model_len"), "model/context-exceeds",
                                      f"serving.args.max_model_len {served} exceeds the model's "
                                      f"interface.maxContextTokens {native}",
                                      "the runtime would accept prompts the model cannot attend to"))
    return findings
