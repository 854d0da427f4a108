"""Rule configuration (pyproject.toml, .llmgitops.yaml) and suppressions in a manifest's annotations."""

from __future__ import annotations

import json
from pathlib import Path

from prompt_cases import MODEL, MODEL_PATH, PROMPT_PATH, edit, pos_of

from llmgitops.config import Config, apply
from llmgitops.findings import Finding, Severity
from llmgitops.prompts.linter import lint_paths
from llmgitops.reporting import as_json, as_sarif, as_text, summary_line
from llmgitops.validate import validate

ENVIRONMENT = """apiVersion: llmgitops.dev/v1alpha1
kind: Environment
metadata:
  name: dev
spec:
  promotion:
    from: null
"""
# A prompt with one PII warning (an e-mail in the system message).
EMAIL_PROMPT = edit("content: Answer briefly.", "content: Escalate to bob.smith@acme-corp.io now.")


def make_repo(root: Path, prompt: str = EMAIL_PROMPT, extra: dict[str, str] | None = None) -> Path:
    files = {"environments/dev/environment.yaml": ENVIRONMENT, MODEL_PATH: MODEL.format(window=8192),
             PROMPT_PATH: prompt, **(extra or {})}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.severity.value) for f in findings]


def test_default_severity(tmp_path: Path) -> None:
    assert rules(lint_paths(make_repo(tmp_path))) == [("prompt/pii-email", "warning")]


def test_pyproject_raises_severity(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={"pyproject.toml": '[project]\nname = "x"\n\n[tool.llmgitops]\n'
                                                 'severity = {"prompt/pii-email" = "error"}\n'})
    assert rules(lint_paths(tmp_path)) == [("prompt/pii-email", "error")]


def test_pyproject_disable_and_patterns(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={"pyproject.toml": '[tool.llmgitops]\ndisable = ["prompt/pii-*"]\n'})
    assert lint_paths(tmp_path) == []


def test_llmgitops_yaml_overrides_pyproject(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={
        "pyproject.toml": '[tool.llmgitops]\nseverity = {"prompt/pii-email" = "error"}\n',
        ".llmgitops.yaml": "severity:\n  prompt/pii-email: info\n",
    })
    assert rules(lint_paths(tmp_path)) == [("prompt/pii-email", "info")]


def test_off_drops_the_rule(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={".llmgitops.yaml": "severity:\n  prompt/pii-email: off\n"})
    assert lint_paths(tmp_path) == []


def test_exact_rule_beats_pattern() -> None:
    config = Config({"prompt/*": Severity.ERROR, "prompt/pii-email": Severity.INFO})
    assert config.severity_for("prompt/pii-email", Severity.WARNING) is Severity.INFO
    assert config.severity_for("prompt/pii-phone", Severity.WARNING) is Severity.ERROR
    assert config.severity_for("yaml/syntax", Severity.ERROR) is Severity.ERROR


def test_bad_configuration_is_reported_where_it_is(tmp_path: Path) -> None:
    config = "severity:\n  prompt/pii-email: loud\n  prompt/pii-emial: error\ndisable: prompt/x\nsevirity: {}\n"
    make_repo(tmp_path, extra={".llmgitops.yaml": config})
    found = {(f.rule, f.line, f.column) for f in lint_paths(tmp_path) if f.rule.startswith("config/")}
    assert found == {
        ("config/invalid", *pos_of(config, "prompt/pii-email")),
        ("config/unknown-rule", *pos_of(config, "prompt/pii-emial")),
        ("config/invalid", *pos_of(config, "disable")),
        ("config/unknown-key", *pos_of(config, "sevirity")),
    }


def test_broken_pyproject_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={"pyproject.toml": "[tool.llmgitops\nseverity = 1\n"})
    (finding,) = [f for f in lint_paths(tmp_path) if f.rule.startswith("config/")]
    assert (finding.rule, finding.path, finding.line) == ("config/invalid", "pyproject.toml", 1)


def test_pyproject_value_error_points_at_its_line(tmp_path: Path) -> None:
    toml = '[project]\nname = "x"\n\n[tool.llmgitops]\ndisable = "prompt/pii-email"\n'
    make_repo(tmp_path, extra={"pyproject.toml": toml})
    (finding,) = [f for f in lint_paths(tmp_path) if f.rule.startswith("config/")]
    assert (finding.rule, finding.line) == ("config/invalid", 5)


def test_annotation_suppresses_and_is_listed(tmp_path: Path) -> None:
    prompt = edit("  name: answer\n", "  name: answer\n  annotations:\n"
                  "    llmgitops.dev/ignore: \"prompt/pii-email, prompt/unused-variable\"\n", EMAIL_PROMPT)
    findings = lint_paths(make_repo(tmp_path, prompt))
    (finding,) = findings
    assert finding.rule == "prompt/pii-email" and finding.severity is Severity.INFO
    assert finding.extra["suppressed"] == {"by": "metadata.annotations llmgitops.dev/ignore", "severity": "warning"}
    assert "suppressed by metadata.annotations llmgitops.dev/ignore" in as_text(findings)
    doc = json.loads(as_json(findings))
    assert doc["findings"] == [] and doc["summary"]["warnings"] == 0
    assert [s["rule"] for s in doc["suppressed"]] == ["prompt/pii-email"]
    sarif = json.loads(as_sarif(findings))["runs"][0]["results"][0]
    assert sarif["suppressions"][0]["kind"] == "inSource" and sarif["level"] == "warning"
    assert summary_line(findings) == "no problems found, 1 suppressed"


def test_annotation_only_covers_its_own_file(tmp_path: Path) -> None:
    other = EMAIL_PROMPT.replace("name: answer", "name: other")
    annotated = edit("  name: answer\n", "  name: answer\n  annotations:\n    llmgitops.dev/ignore: prompt/pii-*\n",
                     EMAIL_PROMPT)
    make_repo(tmp_path, annotated, {"environments/dev/prompts/other.yaml": other})
    by_file = {(f.path, f.severity) for f in lint_paths(tmp_path)}
    assert by_file == {(PROMPT_PATH, Severity.INFO), ("environments/dev/prompts/other.yaml", Severity.WARNING)}


def test_validate_applies_the_same_configuration(tmp_path: Path) -> None:
    make_repo(tmp_path, extra={"pyproject.toml": '[tool.llmgitops]\nseverity = {"prompt/pii-email" = "error"}\n'})
    assert ("prompt/pii-email", "error") in rules(validate(tmp_path))


def test_applying_twice_changes_nothing() -> None:
    finding = Finding("a.yaml", 1, 1, "prompt/pii-email", Severity.WARNING, "m")
    config = Config({"prompt/pii-email": Severity.ERROR})
    once = apply([finding], config, lambda p: {"llmgitops.dev/ignore": "prompt/pii-email"})
    assert apply(once, config, lambda p: {}) == once
    assert once[0].extra["suppressed"]["severity"] == "error"
