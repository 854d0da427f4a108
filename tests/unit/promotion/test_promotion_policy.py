"""Promotion plans and their policy: each violation on its own, and the closure of --only."""

from __future__ import annotations

from pathlib import Path

import pytest
from promo_fixture import DEV_FILES, dev_file, in_env, make_repo

from llmgitops.errors import UsageError
from llmgitops.promotion import prepare


def rules(root: Path, source: str = "dev", target: str = "staging", only: tuple[str, ...] = ()) -> list[str]:
    return sorted({f.rule for f in prepare(root, source, target, only).findings if f.severity.value == "error"})


def test_a_clean_promotion_plans_every_new_artifact(tmp_path: Path) -> None:
    prepared = prepare(make_repo(tmp_path / "r"), "dev", "staging")
    plan = prepared.plan
    assert not prepared.blocked, prepared.findings
    assert [(i.ref, i.action, i.new_version) for i in plan.items] == [
        ("Dataset/qa", "add", "1.0.0"), ("EvalSuite/answer-quality", "add", "1.0.0"),
        ("Model/chat", "add", "1.2.0"), ("Prompt/answer", "add", "2.0.0")]
    # environment files are never part of a plan
    assert all("environment.yaml" not in (i.target_path or "") for i in plan.items)
    assert plan.branch == f"promote/staging/{plan.hash[:12]}"
    assert "| `Prompt/answer` | add | — → `2.0.0` | none | — |" in prepared.description


def test_plan_carries_bump_levels_and_flags_from_the_versioning_engine(tmp_path: Path) -> None:
    reworded = dev_file("prompts/answer.yaml").replace("version: 2.0.0", "version: 2.1.0").replace(
        "Answer briefly.", "Answer briefly and politely.")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES), "environments/dev/prompts/answer.yaml": reworded})
    plan = prepare(root, "dev", "staging").plan
    assert [(i.ref, i.action, i.old_version, i.new_version, i.required.label) for i in plan.items] == [
        ("Prompt/answer", "update", "2.0.0", "2.1.0", "minor")]
    assert any(h.rule.startswith("prompt/") for h in plan.items[0].change.hits)


def test_wrong_source(tmp_path: Path) -> None:
    assert rules(make_repo(tmp_path / "r"), "dev", "prod") == ["promotion/wrong-source"]


def test_version_going_backwards(tmp_path: Path) -> None:
    newer = dev_file("prompts/answer.yaml").replace("version: 2.0.0", "version: 2.1.0")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES), "environments/staging/prompts/answer.yaml": newer})
    assert rules(root) == ["promotion/version-backwards"]


def test_same_version_with_other_bytes(tmp_path: Path) -> None:
    edited = dev_file("prompts/answer.yaml").replace("Answer briefly.", "Answer in one sentence.")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES), "environments/staging/prompts/answer.yaml": edited})
    findings = [f for f in prepare(root, "dev", "staging").findings if f.rule == "promotion/content-mismatch"]
    assert len(findings) == 1
    assert findings[0].path == "environments/dev/prompts/answer.yaml" and findings[0].line > 1


def test_prerelease_into_an_environment_that_forbids_it(tmp_path: Path) -> None:
    rc = dev_file("datasets/qa.yaml").replace("name: qa", "name: extra").replace("version: 1.0.0", "version: 1.1.0-rc.1")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES), "environments/staging/datasets/extra.yaml": rc})
    assert rules(root, "dev", "staging") == []  # staging allows pre-releases (and nothing flows there)
    # prod does not
    assert rules(root, "staging", "prod") == ["promotion/prerelease"]


def test_source_must_validate_clean(tmp_path: Path) -> None:
    broken = dev_file("models/chat.yaml").replace("  interface:", "  interfase:")
    root = make_repo(tmp_path / "r", {"environments/dev/models/chat.yaml": broken})
    found = prepare(root, "dev", "staging").findings
    assert found[0].rule == "promotion/source-invalid" or "promotion/source-invalid" in {f.rule for f in found}
    assert "schema/unknown-field" in {f.rule for f in found}


def test_removal_that_leaves_a_dangling_reference(tmp_path: Path) -> None:
    legacy_model = dev_file("models/chat.yaml").replace("name: chat", "name: legacy")
    legacy_prompt = dev_file("prompts/answer.yaml").replace("name: answer", "name: old").replace(
        "name: chat", "name: legacy")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES),
                                      "environments/staging/models/legacy.yaml": legacy_model,
                                      "environments/staging/prompts/old.yaml": legacy_prompt})
    assert rules(root, only=("Model/legacy",)) == ["promotion/unclosed-reference"]
    # promoting the whole difference removes the prompt as well: nothing dangles
    assert rules(root) == []


def test_only_closes_over_references(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    plan = prepare(root, "dev", "staging", ("Prompt/answer",)).plan
    assert [(i.ref, i.required_by) for i in plan.items] == [("Model/chat", ("Prompt/answer",)),
                                                             ("Prompt/answer", ())]
    assert "needed by Prompt/answer" in prepare(root, "dev", "staging", ("Prompt/answer",)).description


def test_only_does_not_pull_what_the_target_already_satisfies(tmp_path: Path) -> None:
    reworded = dev_file("prompts/answer.yaml").replace("version: 2.0.0", "version: 2.1.0").replace(
        "Answer briefly.", "Answer briefly and politely.")
    newer_model = dev_file("models/chat.yaml").replace("version: 1.2.0", "version: 1.2.1")
    root = make_repo(tmp_path / "r", {**in_env("staging", DEV_FILES),
                                      "environments/dev/prompts/answer.yaml": reworded,
                                      "environments/dev/models/chat.yaml": newer_model})
    plan = prepare(root, "dev", "staging", ("Prompt/answer",)).plan
    assert [i.ref for i in plan.items] == ["Prompt/answer"]  # staging's chat 1.2.0 satisfies ^1.2.0


@pytest.mark.parametrize("only", [("Prompt/nope",), ("Banana/x",), ("answer",)])
def test_only_rejects_what_is_not_in_the_plan(tmp_path: Path, only: tuple[str, ...]) -> None:
    with pytest.raises(UsageError):
        prepare(make_repo(tmp_path / "r"), "dev", "staging", only)


def test_unknown_environments_are_usage_errors(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    with pytest.raises(UsageError, match="no environment 'qa'"):
        prepare(root, "dev", "qa")
    with pytest.raises(UsageError, match="same environment"):
        prepare(root, "dev", "dev")


def test_uncommitted_changes_are_not_promoted_and_say_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    (root / "environments/dev/prompts/answer.yaml").write_text("changed but not committed\n")
    prepared = prepare(root, "dev", "staging")
    assert "promotion/uncommitted" in {f.rule for f in prepared.findings}
    assert not prepared.blocked  # the plan reads HEAD, which is clean
