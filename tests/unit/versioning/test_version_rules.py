"""Every versioning rule fires on its change and stays quiet on a near miss; levels and flags follow the
catalog; formatting is never a change."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from version_cases import BASE_FILES, BASES, CASES, REWORDED, Case, S, run_case, write_side

from llmgitops.manifests.loader import load_text
from llmgitops.manifests.repository import Manifest
from llmgitops.manifests.source import WorkingTree
from llmgitops.versioning import (
    GATE_RELAXATION,
    REQUIRES_INDEX_REBUILD,
    REQUIRES_REEMBED,
    Level,
    Status,
    compare_environments,
    diff_manifests,
)
from llmgitops.versioning.catalog import CATALOG


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case, tmp_path: Path) -> None:
    change = run_case(tmp_path, case.base, case.change)
    fired = [h for h in change.hits if h.rule == case.rule]
    if case.fires:
        assert fired, f"{case.rule} did not fire; hits: {[(h.rule, h.json_path) for h in change.hits]}"
        rule = CATALOG[case.rule]
        for hit in fired:
            assert hit.level is rule.level
            assert set(rule.flags) <= set(hit.flags)
            assert hit.message
        assert change.required >= rule.level
    else:
        assert not fired, f"{case.rule} fired on a near miss: {[h.message for h in fired]}"


def test_every_rule_has_a_positive_and_a_negative_case() -> None:
    positive = {c.rule for c in CASES if c.fires}
    negative = {c.rule for c in CASES if not c.fires}
    assert set(CATALOG) - positive == set()
    assert set(CATALOG) - negative == set()
    assert {c.rule for c in CASES} <= set(CATALOG)


@pytest.mark.parametrize("base", sorted(BASES))
def test_identical_manifests_are_unchanged(base: str, tmp_path: Path) -> None:
    change = run_case(tmp_path, base, S("spec.version", "1.0.0"))
    assert change.status is Status.UNCHANGED
    assert change.hits == []
    assert change.required is Level.NONE


def _manifest(text: str, relpath: str = "environments/dev/prompts/qa.yaml") -> Manifest:
    loaded = load_text(text, relpath)
    assert loaded.document is not None, loaded.findings
    return Manifest(relpath, "dev", None, loaded.document, text.encode())


PROMPT_BLOCK = """apiVersion: llmgitops.dev/v1alpha1
kind: Prompt
metadata:
  name: qa
spec:
  version: "1.0.0"
  type: chat
  modelRef:
    name: chat
    version: ^1.0.0
  config:
    temperature: 0.5
  input:
    question:
      type: string
      required: true
  messages:
    - role: user
      content: "{{ question }}"
"""

PROMPT_FLOW = """# a comment that moved
apiVersion: 'llmgitops.dev/v1alpha1'
kind: Prompt
metadata: {name: qa}   # flow style
spec:
  messages: [{content: '{{ question }}', role: user}]
  input: {question: {required: true, type: string}}
  config: {temperature: 0.50}
  modelRef: {version: "^1.0.0", name: chat}
  type: "chat"
  version: 1.0.0
"""


def test_whitespace_comments_key_order_and_quoting_are_not_changes() -> None:
    change = diff_manifests(_manifest(PROMPT_BLOCK), _manifest(PROMPT_FLOW))
    assert change.status is Status.UNCHANGED, [h.message for h in change.hits]


def test_a_number_is_not_a_string() -> None:
    changed = PROMPT_BLOCK.replace("temperature: 0.5", "temperature: '0.5'")
    change = diff_manifests(_manifest(PROMPT_BLOCK), _manifest(changed))
    assert [h.rule for h in change.hits] == ["prompt/config-changed"]


def test_editorial_claim_turns_rewording_into_a_patch_and_is_reported(tmp_path: Path) -> None:
    claim = S("metadata.annotations", {"llmgitops.dev/change-class": "editorial"})
    change = run_case(tmp_path, "Prompt", S("spec.messages.0.content", REWORDED) + claim)
    reworded = [h for h in change.hits if h.rule == "prompt/message-reworded"]
    assert reworded and all(h.level is Level.PATCH for h in reworded)
    assert "claimed editorial" in reworded[0].message
    assert change.editorial_claim is True
    assert change.required is Level.PATCH


def test_editorial_claim_does_not_lower_interface_changes(tmp_path: Path) -> None:
    claim = S("metadata.annotations", {"llmgitops.dev/change-class": "editorial"})
    change = run_case(tmp_path, "Prompt", S("spec.input.question.type", "integer") + claim)
    assert change.required is Level.MAJOR
    assert change.editorial_claim is False  # nothing the claim could apply to


def test_required_is_the_highest_hit_and_flags_are_merged(tmp_path: Path) -> None:
    change = run_case(tmp_path, "RagConfig",
                      S("spec.retrieval.topK", 8) + S("spec.index.kind", "flat") + S("spec.chunking.size", 100))
    assert change.required is Level.MAJOR
    assert REQUIRES_REEMBED in change.flags and REQUIRES_INDEX_REBUILD in change.flags
    assert [h.level for h in change.hits] == sorted((h.level for h in change.hits), reverse=True)


def test_gate_relaxation_is_flagged(tmp_path: Path) -> None:
    change = run_case(tmp_path, "EvalSuite", S("spec.gates.minPassRate", 0.5))
    assert change.required is Level.MINOR
    assert change.flags == (GATE_RELAXATION,)


def test_sources_change_names_the_sources_to_reembed(tmp_path: Path) -> None:
    change = run_case(tmp_path, "RagConfig", S("spec.sources.2", {"name": "blog", "version": "^1.0.0"}))
    (hit,) = [h for h in change.hits if h.rule == "rag/sources-changed"]
    assert hit.detail == {"sources": ["blog"]}
    assert hit.level is Level.MINOR and REQUIRES_REEMBED in hit.flags


def test_dataset_flags_follow_the_purpose(tmp_path: Path) -> None:
    appended = BASE_FILES["data/ds.jsonl"] + '{"q": "4"}\n'
    from version_cases import F

    evaluation = run_case(tmp_path / "e", "Dataset", F("data/ds.jsonl", appended))
    training = run_case(tmp_path / "t", "Dataset", F("data/ds.jsonl", appended) + S("spec.purpose", "training"))
    assert "requires-rebaseline" in evaluation.flags and "requires-retrain" not in evaluation.flags
    assert "requires-retrain" in training.flags


def test_without_sources_referenced_files_are_not_compared(tmp_path: Path) -> None:
    old_doc = copy.deepcopy(BASES["Model"])
    old = write_side(tmp_path / "old", old_doc, dict(BASE_FILES))
    files = dict(BASE_FILES, **{"data/chat.dvc": "outs:\n- md5: " + "f" * 32 + "\n  path: chat\n"})
    new = write_side(tmp_path / "new", copy.deepcopy(old_doc), files)
    assert diff_manifests(old, new).status is Status.UNCHANGED
    with_files = diff_manifests(old, new, old_files=WorkingTree(tmp_path / "old"),
                                new_files=WorkingTree(tmp_path / "new"))
    assert [h.rule for h in with_files.hits] == ["model/weights-changed"]


def test_added_and_removed() -> None:
    m = _manifest(PROMPT_BLOCK)
    added, removed = diff_manifests(None, m), diff_manifests(m, None)
    assert (added.status, added.new_version, added.old_version) == (Status.ADDED, "1.0.0", None)
    assert (removed.status, removed.old_version, removed.new_path) == (Status.REMOVED, "1.0.0", None)
    with pytest.raises(ValueError):
        diff_manifests(None, None)


def test_compare_environments_pairs_by_kind_and_name() -> None:
    a = _manifest(PROMPT_BLOCK)
    b = _manifest(PROMPT_BLOCK.replace('version: "1.0.0"', 'version: "1.1.0"')
                  .replace("temperature: 0.5", "temperature: 0.7"), "environments/staging/prompts/qa.yaml")
    other = _manifest(PROMPT_BLOCK.replace("name: qa", "name: other"), "environments/dev/prompts/other.yaml")
    changes = compare_environments([a], [b, other])
    assert [(c.name, c.status) for c in changes] == [("other", Status.ADDED), ("qa", Status.CHANGED)]
    qa = changes[1]
    assert (qa.old_version, qa.new_version, qa.required, qa.achieved) == ("1.0.0", "1.1.0", Level.MINOR, Level.MINOR)
    data = qa.to_dict()
    assert data["hits"][0]["rule"] == "prompt/config-changed"
    assert data["hits"][0]["path"] == "$.spec.config.temperature"
    assert set(data) >= {"kind", "name", "status", "oldVersion", "newVersion", "required", "flags", "hits"}


def test_odd_content_is_classified_not_raised() -> None:
    weird = PROMPT_BLOCK.replace("  input:\n    question:\n      type: string\n      required: true\n",
                                 "  input: [1, 2]\n").replace("  messages:\n", "  messages: 7\n  x:\n")
    change = diff_manifests(_manifest(PROMPT_BLOCK), _manifest(weird))
    assert change.required is Level.MAJOR
    assert change.hits
