"""The pipeline as data: which steps a release's changes call for, their order, and the identities they
carry; releases, their state hash and the changes between two of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the repository the Argo tests render doubles as the pipeline's test repository
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "argo"))
import golden_repo as g

from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.pipeline.build import build_pipeline
from llmgitops.pipeline.model import Artifact, IdentityError, Pipeline, Step
from llmgitops.pipeline.release import (
    ADDED,
    CHANGED,
    REMOVED,
    Change,
    Release,
    changes_between,
    git_blob_id,
    release_of,
)
from llmgitops.pipeline.settings import Settings, settings_of


def load(root: Path, env: str = "staging") -> tuple[Release, Settings]:
    state = Repository(WorkingTree(root)).environment(env)
    assert state.environment is not None
    return release_of(state), settings_of(state.environment)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return g.write(tmp_path / "repo")


def ids(pipeline: Pipeline) -> list[str]:
    return [s.id for s in pipeline.steps]


def test_git_blob_ids_match_git() -> None:
    assert git_blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_state_hash_names_content_not_layout(repo: Path) -> None:
    release, _ = load(repo)
    assert release.state == load(repo)[0].state
    prompt = repo / "environments/staging/prompts/answer.yaml"
    prompt.write_text(prompt.read_text() + "# a comment\n")
    assert load(repo)[0].state != release.state


def test_nothing_changed_runs_validate_then_promote(repo: Path) -> None:
    release, settings = load(repo)
    pipeline = build_pipeline(release.with_changes(()), settings)
    assert ids(pipeline) == ["validate", "approve", "promote-full"]
    assert pipeline.rollback.id == "rollback"


def test_a_new_release_runs_everything_in_order(repo: Path) -> None:
    release, settings = load(repo)
    pipeline = build_pipeline(release.with_changes(changes_between(None, release)), settings)
    assert ids(pipeline) == [
        "validate", "train-chat", "evaluate-answer-quality", "merge-answer-quality", "reindex-docs",
        "canary-10", "analyze-10", "canary-50", "analyze-50", "canary-100", "analyze-100",
        "approve", "promote-full"]
    train = pipeline.step("train-chat")
    assert (train.gpus, train.artifact) == (2, Artifact("Model", "chat", "1.3.0"))
    evaluate = pipeline.step("evaluate-answer-quality")
    assert evaluate.shards == 3 and evaluate.needs == ("validate", "train-chat")
    assert pipeline.step("reindex-docs").mode == "reembed"
    assert pipeline.step("canary-10").needs == ("reindex-docs",)
    assert pipeline.step("approve").needs == ("analyze-100",)


def test_flags_decide_train_and_reindex(repo: Path) -> None:
    release, settings = load(repo)
    wording = [Change("Prompt", "answer", CHANGED, "1.9.0", "2.0.0", "minor", ())]
    pipeline = build_pipeline(release.with_changes(wording), settings)
    assert "train-chat" not in ids(pipeline) and "reindex-docs" not in ids(pipeline)
    assert pipeline.step("evaluate-answer-quality").reasons == ("touches changed Prompt/answer",)
    retrain = [Change("Model", "chat", CHANGED, "1.2.0", "1.3.0", "minor", ("requires-retrain",))]
    pipeline = build_pipeline(release.with_changes(retrain), settings)
    assert "train-chat" in ids(pipeline)
    # the suite reaches the Model through its Prompt
    assert "evaluate-answer-quality" in ids(pipeline)
    serving_only = [Change("Model", "chat", CHANGED, "1.3.0", "1.3.1", "patch", ())]
    assert "train-chat" not in ids(build_pipeline(release.with_changes(serving_only), settings))
    rebuild = [Change("RagConfig", "docs", CHANGED, "1.0.0", "1.1.0", "minor", ("requires-index-rebuild",))]
    assert build_pipeline(release.with_changes(rebuild), settings).step("reindex-docs").mode == "rebuild"
    corpus = [Change("Dataset", "docs", CHANGED, "1.0.0", "1.1.0", "minor", ())]
    assert build_pipeline(release.with_changes(corpus), settings).step("reindex-docs").mode == "reembed"


def test_only_deployable_changes_deploy(repo: Path) -> None:
    release, settings = load(repo)
    data_only = [Change("Dataset", "qa", CHANGED, "1.0.0", "1.1.0", "minor", ())]
    pipeline = build_pipeline(release.with_changes(data_only), settings)
    assert ids(pipeline) == ["validate", "evaluate-answer-quality", "merge-answer-quality", "approve",
                             "promote-full"]
    removed = [Change("Prompt", "gone", REMOVED, "1.0.0", None)]
    assert "canary-10" in ids(build_pipeline(release.with_changes(removed), settings))


def test_shards_follow_the_dataset_size(repo: Path) -> None:
    suite = repo / "environments/staging/evals/answer-quality.yaml"
    suite.write_text(suite.read_text().replace("  runner:\n    shards: 3\n", ""))
    release, settings = load(repo)
    added = release.with_changes([Change("EvalSuite", "answer-quality", ADDED, None, "1.0.0")])
    assert build_pipeline(added, settings).step("evaluate-answer-quality").shards == 3  # 2,500 records
    dataset = repo / "environments/staging/datasets/qa.yaml"
    dataset.write_text(dataset.read_text().replace("records: 2500", "records: 40"))
    release, settings = load(repo)
    added = release.with_changes([Change("EvalSuite", "answer-quality", ADDED, None, "1.0.0")])
    pipeline = build_pipeline(added, settings)
    assert pipeline.step("evaluate-answer-quality").shards == 1 and "merge-answer-quality" not in ids(pipeline)


def test_changes_between_two_releases_use_the_versioning_engine(repo: Path, tmp_path: Path) -> None:
    before, _ = load(repo)
    prompt = repo / "environments/staging/prompts/answer.yaml"
    prompt.write_text(prompt.read_text().replace("version: 2.0.0", "version: 2.1.0").replace(
        "Answer briefly.", "Answer briefly and kindly."))
    (repo / "environments/staging/rag/docs.yaml").unlink()
    after, _ = load(repo)
    changes = {c.key: c for c in changes_between(before, after)}
    assert changes[("Prompt", "answer")].status == CHANGED
    assert changes[("Prompt", "answer")].required == "minor"
    assert changes[("RagConfig", "docs")].status == REMOVED
    assert len(changes) == 2
    # an old blob Git no longer has counts as new: every step it could need runs
    stripped = before.with_changes(())
    object.__setattr__(stripped, "manifests", {})
    unknown = {c.key: c for c in changes_between(stripped, after, lambda ids: {})}
    assert unknown[("Prompt", "answer")].status == ADDED


@pytest.mark.parametrize("bad", [
    dict(kind="Model", name="chat; rm -rf /", version="1.0.0"),
    dict(kind="Model", name="chat", version="{{workflow.name}}"),
    dict(kind="Secret", name="chat", version="1.0.0"),
    dict(kind="Model", name="Chat", version="1.0.0"),
])
def test_identities_are_checked_when_made(bad: dict[str, str]) -> None:
    with pytest.raises(IdentityError):
        Artifact(**bad)


def test_a_pipeline_rejects_bad_graphs() -> None:
    rollback = Step("rollback", "rollback")
    with pytest.raises(IdentityError, match="appears twice"):
        Pipeline("dev", "a" * 64, (Step("validate", "validate"), Step("validate", "validate")), rollback)
    with pytest.raises(IdentityError, match="do not run before it"):
        Pipeline("dev", "a" * 64, (Step("canary-5", "deploy-canary", ("analyze-5",), weight=5),), rollback)
    with pytest.raises(IdentityError):
        Step("canary-500", "deploy-canary", weight=500)
    with pytest.raises(IdentityError):
        Step("x", "launch-missiles")
