"""The negative corpus: one mutation of a valid repository per rule, asserting the rule id and the line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmgitops.findings import Severity
from llmgitops.rules import CORE_RULES
from llmgitops.validate import validate
from minirepo import FILES, write

MODEL = "environments/dev/models/chat.yaml"
PROMPT = "environments/dev/prompts/answer.yaml"
DATASET = "environments/dev/datasets/qa.yaml"
SUITE = "environments/dev/evals/answer-quality.yaml"
DEV = "environments/dev/environment.yaml"
STAGING = "environments/staging/environment.yaml"


def edit(rel: str, old: str, new: str) -> dict[str, str | None]:
    assert old in FILES[rel], old
    return {rel: FILES[rel].replace(old, new, 1)}


# (rule, file the finding is in, a text on the expected line (None: line 1), overrides)
CASES: list[tuple[str, str, str | None, dict[str, str | None]]] = [
    ("yaml/syntax", MODEL, "version: 1.2.0: x", edit(MODEL, "version: 1.2.0", "version: 1.2.0: x")),
    ("yaml/duplicate-key", MODEL, "  version: 1.3.0", edit(MODEL, "  version: 1.2.0\n", "  version: 1.2.0\n  version: 1.3.0\n")),
    ("yaml/unknown-tag", MODEL, "!!python", edit(MODEL, "version: 1.2.0", "version: !!python/object/apply:os.system ['id']")),
    ("yaml/multi-document", MODEL, "---", {MODEL: FILES[MODEL] + "---\nkind: Model\n"}),
    ("yaml/not-a-mapping", MODEL, None, {MODEL: "- a\n- b\n"}),
    ("yaml/empty", MODEL, None, {MODEL: "# nothing here\n"}),
    ("manifest/api-version", MODEL, "apiVersion", edit(MODEL, "llmgitops.dev/v1alpha1", "llmgitops.dev/v1")),
    ("manifest/unknown-kind", MODEL, "kind: Modle", edit(MODEL, "kind: Model", "kind: Modle")),
    ("manifest/name-mismatch", MODEL, "name: chatbot", edit(MODEL, "name: chat", "name: chatbot")),
    ("layout/wrong-folder", "environments/dev/models/qa.yaml", "kind: Dataset", {MODEL: None, "environments/dev/models/qa.yaml": FILES[DATASET]}),
    ("layout/unexpected-file", "environments/dev/notes.yaml", None, {"environments/dev/notes.yaml": "a: 1\n"}),
    ("manifest/duplicate-name", "environments/dev/models/chat.yml", "name: chat",
     {"environments/dev/models/chat.yml": FILES[MODEL]}),
    ("environment/missing-file", "environments/qa/environment.yaml", None,
     {"environments/qa/models/chat.yaml": FILES[MODEL]}),
    ("environment/name-mismatch", STAGING, "name: stage", edit(STAGING, "name: staging", "name: stage")),
    ("environment/unknown-source", STAGING, "from: develop", edit(STAGING, "from: dev", "from: develop")),
    ("environment/promotion-cycle", STAGING, "from: staging", edit(STAGING, "from: dev", "from: staging")),
    ("schema/unknown-field", MODEL, "servng", edit(MODEL, "  serving:\n    runtime: vllm\n    args:\n      max_model_len: 4096\n",
                                                   "  serving:\n    runtime: vllm\n  servng:\n    replicas: 2\n")),
    ("schema/required", MODEL, "spec:", edit(MODEL, "  baseModel:\n    id: google/gemma-3-270m-it\n", "")),
    ("schema/type", MODEL, "version: 1.10", edit(MODEL, "version: 1.2.0", "version: 1.10")),
    ("schema/enum", MODEL, "runtime: vllmm", edit(MODEL, "runtime: vllm", "runtime: vllmm")),
    ("schema/format", "environments/dev/models/Chat.yaml", "name: Chat", {"environments/dev/models/Chat.yaml": FILES[MODEL].replace("name: chat", "name: Chat"),
                                            MODEL: None, PROMPT: None}),
    ("schema/range", MODEL, "maxContextTokens: -1", edit(MODEL, "maxContextTokens: 8192", "maxContextTokens: -1")),
    ("ref/invalid-range", PROMPT, "version: ^^1", edit(PROMPT, "version: ^1.2.0", "version: ^^1")),
    ("ref/unresolved", PROMPT, "name: chatt", edit(PROMPT, "name: chat\n", "name: chatt\n")),
    ("ref/version-unsatisfied", PROMPT, "version: ^2.0.0", edit(PROMPT, "version: ^1.2.0", "version: ^2.0.0")),
    ("ref/version-unsatisfied", SUITE, "version: ^3.0.0", edit(SUITE, "version: ^2.0.0", "version: ^3.0.0")),
    ("ref/unresolved", SUITE, "name: qaa", edit(SUITE, "name: qa\n", "name: qaa\n")),
    ("path/missing", DATASET, "path: data/missing.jsonl", edit(DATASET, "path: data/qa.jsonl", "path: data/missing.jsonl")),
    ("path/escape", DATASET, "path: ../secrets.jsonl", edit(DATASET, "path: data/qa.jsonl", "path: ../secrets.jsonl")),
    ("path/escape", DATASET, "path: /etc/passwd", edit(DATASET, "path: data/qa.jsonl", "path: /etc/passwd")),
    ("dvc/not-a-pointer", MODEL, "path: data/qa.jsonl", edit(MODEL, "path: data/chat.dvc", "path: data/qa.jsonl")),
    ("dvc/missing-pointer", MODEL, "path: data/gone.dvc", edit(MODEL, "path: data/chat.dvc", "path: data/gone.dvc")),
    ("dvc/invalid-pointer", MODEL, "path: data/chat.dvc", {"data/chat.dvc": "outs: {a: 1\n"}),
    ("dvc/invalid-pointer", MODEL, "path: data/chat.dvc", {"data/chat.dvc": "deps: []\n"}),
    ("dvc/missing-hash", MODEL, "path: data/chat.dvc", {"data/chat.dvc": "outs:\n- size: 3\n  path: chat\n"}),
    ("environment/canary-steps", STAGING, "steps: [5, 50, 25, 100]", edit(STAGING, "    from: dev\n", "    from: dev\n  deploy:\n    target: local\n    steps: [5, 50, 25, 100]\n")),
    ("environment/canary-steps", STAGING, "steps: [5, 25, 100, 50]", edit(STAGING, "    from: dev\n", "    from: dev\n  deploy:\n    target: local\n    steps: [5, 25, 100, 50]\n")),
    ("environment/default-provider", DEV, "default: true  # second", edit(DEV, "    from: null\n", "    from: null\n  providers:\n    a: {type: replay, recordings: data, default: true}\n    b:\n      type: replay\n      recordings: data\n      default: true  # second\n")),
    ("ref/unknown-provider", SUITE, "provider: nowhere", edit(SUITE, "  dataset:\n", "  provider: nowhere\n  dataset:\n")),
    ("ref/unresolved", DEV, "name: ghost", edit(DEV, "    from: null\n", "    from: null\n  overrides:\n    - target:\n        kind: Model\n        name: ghost\n      patch: {}\n")),
    ("model/context-exceeds", MODEL, "max_model_len: 9000", edit(MODEL, "max_model_len: 4096", "max_model_len: 9000")),
]


def line_of(root: Path, rel: str, marker: str | None) -> int:
    if marker is None:
        return 1
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if marker in line]
    assert hits, f"{marker!r} not in {rel}"
    return hits[0]


@pytest.mark.parametrize(("rule", "rel", "marker", "overrides"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_fires_at_its_line(tmp_path: Path, rule: str, rel: str, marker: str | None,
                                     overrides: dict[str, str | None]) -> None:
    write(tmp_path, overrides)
    findings = validate(tmp_path)
    matching = [f for f in findings if f.rule == rule and f.path == rel]
    assert matching, f"no {rule} in {rel}: {findings}"
    assert max(matching[0].line, 1) == line_of(tmp_path, rel, marker), matching[0]


def test_the_base_repository_is_clean(tmp_path: Path) -> None:
    write(tmp_path)
    assert validate(tmp_path) == []


def test_every_validate_rule_has_a_negative_case() -> None:
    covered = {c[0] for c in CASES}
    # rules proven elsewhere: loader-only rules in test_loader.py, file-system rules below
    elsewhere = {"yaml/too-large", "yaml/binary", "yaml/encoding", "yaml/bad-tagged-value", "yaml/non-string-key",
                 "yaml/merge-key", "yaml/anchor-on-key", "yaml/recursive-alias", "yaml/alias-limit", "yaml/too-deep",
                 "path/unreadable", "path/not-a-file", "path/outside-repository", "schema/length", "schema/unique",
                 "schema/one-of", "schema/any-of", "schema/not"}
    assert {r.id for r in CORE_RULES} - covered - elsewhere == set()


def test_version_as_number_hints_to_quote(tmp_path: Path) -> None:
    write(tmp_path, edit(MODEL, "version: 1.2.0", "version: 1.10"))
    [finding] = [f for f in validate(tmp_path) if f.rule == "schema/type"]
    assert finding.hint is not None and '"1.10"' in finding.hint


def test_unknown_field_suggests_the_close_name(tmp_path: Path) -> None:
    write(tmp_path, edit(MODEL, "  interface:\n", "  interfce:\n"))
    unknown = [f for f in validate(tmp_path) if f.rule == "schema/unknown-field"]
    assert unknown and unknown[0].hint == "did you mean 'interface'?"


def test_symlink_escaping_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    outside.write_text("{}\n")
    root = write(tmp_path / "repo")
    (root / "data" / "qa.jsonl").unlink()
    os.symlink(outside, root / "data" / "qa.jsonl")
    findings = validate(root)
    assert [(f.rule, f.path) for f in findings] == [("path/escape", DATASET)]


def test_symlinked_manifest_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(FILES[MODEL])
    root = write(tmp_path / "repo", {MODEL: None})
    (root / MODEL).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(secret, root / MODEL)
    rules = {f.rule for f in validate(root) if f.path == MODEL}
    assert rules == {"path/escape"}


def test_fifo_is_not_opened(tmp_path: Path) -> None:
    root = write(tmp_path, {MODEL: None})
    (root / MODEL).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / MODEL)
    assert {f.rule for f in validate(root) if f.path == MODEL} == {"path/not-a-file"}


def test_oversized_manifest(tmp_path: Path) -> None:
    root = write(tmp_path, {MODEL: FILES[MODEL] + "# " + "x" * (1024 * 1024) + "\n"})
    assert {f.rule for f in validate(root) if f.path == MODEL} == {"yaml/too-large"}


def test_warnings_do_not_fail_unless_strict(tmp_path: Path) -> None:
    write(tmp_path, {"environments/dev/notes.yaml": "a: 1\n"})
    findings = validate(tmp_path)
    assert findings and all(f.severity is Severity.WARNING for f in findings)
