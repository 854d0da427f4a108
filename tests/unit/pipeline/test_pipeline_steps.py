"""The steps' own logic: approvals, the local deployment state, canary analysis (local comparison and
Prometheus), and the train step's checks."""

from __future__ import annotations

import copy
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "argo"))
import golden_repo

from llmgitops.backends.local.state import load
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.pipeline.model import Artifact, Step
from llmgitops.pipeline.release import changes_between, release_of
from llmgitops.pipeline.settings import settings_of
from llmgitops.pipeline.steps import StepContext, StepFailed, TransientError, analyze, checks, deploy, train


def context(root: Path, **changes: Any) -> StepContext:
    state = Repository(WorkingTree(root)).environment("staging")
    assert state.environment is not None
    release = release_of(state)
    release = release.with_changes(changes_between(None, release))
    ctx = StepContext(repo_root=root, state_root=root, environment="staging", revision="f" * 40, release=release,
                      settings=settings_of(state.environment), out_dir=root / "out")
    for key, value in changes.items():
        setattr(ctx, key, value)
    return ctx


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return golden_repo.write(tmp_path / "repo")


def test_approvals_need_enough_allowed_people(root: Path) -> None:
    step = Step("approve", "approve")
    with pytest.raises(StepFailed, match="needs 2 approval"):
        checks.approve(context(root), step)
    with pytest.raises(StepFailed, match="needs 2 approval"):
        checks.approve(context(root, approvals=("acme/owners", "acme/owners")), step)
    with pytest.raises(StepFailed, match="mallory may not approve"):
        checks.approve(context(root, approvals=("acme/owners", "mallory")), step)
    with pytest.raises(StepFailed, match="acme/platform rejected"):
        checks.approve(context(root), step, ("approve", "reject"), ("acme/owners", "acme/platform"))
    outcome = checks.approve(context(root, approvals=("acme/owners", "acme/platform")), step)
    assert outcome.outputs == {"decision": "approve", "approvers": ["acme/owners", "acme/platform"]}


def test_local_traffic_moves_and_rolls_back(root: Path) -> None:
    ctx = context(root)
    first = deploy.deploy_canary(ctx, Step("canary-10", "deploy-canary", weight=10))
    assert "no stable release yet" in first.summary
    assert load(root, "staging").traffic == {ctx.release.state[:12]: 100}
    deploy.promote_full(ctx, Step("promote-full", "promote-full"))
    stable = load(root, "staging")
    assert stable.stable is not None and stable.stable.state == ctx.release.state and stable.candidate is None

    prompt = root / "environments/staging/prompts/answer.yaml"
    prompt.write_text(prompt.read_text().replace("version: 2.0.0", "version: 2.0.1") + "# reworded\n")
    candidate = context(root)
    deploy.deploy_canary(candidate, Step("canary-10", "deploy-canary", weight=10))
    assert load(root, "staging").traffic == {candidate.release.state[:12]: 10, ctx.release.state[:12]: 90}
    deploy.deploy_canary(candidate, Step("canary-50", "deploy-canary", weight=50))
    assert load(root, "staging").traffic == {candidate.release.state[:12]: 50, ctx.release.state[:12]: 50}
    outcome = deploy.rollback(candidate, Step("rollback", "rollback"))
    assert f"withdrew {candidate.release.state[:12]}" in outcome.summary
    after = load(root, "staging")
    assert after.traffic == {ctx.release.state[:12]: 100} and after.candidate is None
    assert [h["event"] for h in after.history] == ["canary", "promote", "canary", "canary", "rollback"]


def report(passing: list[bool]) -> dict[str, Any]:
    from llmgitops.evaluation.gates import summarize

    doc = {"settings": {"minPassRate": 0.5}, "shard": None,
           "metricDefinitions": [{"name": "mentions", "type": "contains-any", "direction": "higher",
                                  "threshold": 1.0, "bounded": True}],
           "cases": [{"id": f"case-{i}", "index": i,
                      "metrics": {"mentions": {"value": 1.0 if ok else 0.0, "passed": ok}}}
                     for i, ok in enumerate(passing)]}
    return summarize(doc)


def test_analysis_compares_the_canary_slice_with_the_stable_report() -> None:
    stable = report([True] * 20)
    same, notes = analyze.compare(copy.deepcopy(stable), stable, 100, 0.05)
    assert same and notes[0].startswith("pass rate 100.0% vs stable 100.0% on 20 record(s)")
    worse = report([False] * 6 + [True] * 14)
    for weight in (5, 25, 50, 100):
        _, notes = analyze.compare(worse, stable, weight, 0.05)
        sample = max(1, -(-20 * weight // 100))
        assert f"on {sample} record(s)" in notes[0]
    assert analyze.compare(worse, stable, 100, 0.05)[0] is False
    # within the allowance: one record in twenty is a 5% drop
    assert analyze.compare(report([False] + [True] * 19), stable, 100, 0.05)[0] is True


def test_local_analysis_reads_the_reports_of_both_releases(root: Path) -> None:
    ctx = context(root)
    deploy.deploy_canary(ctx, Step("canary-10", "deploy-canary", weight=10))
    (root / "stable.json").write_text(json.dumps(report([True] * 20)))
    ctx.shared["reports"] = {"answer-quality": str(root / "stable.json")}
    deploy.promote_full(ctx, Step("promote-full", "promote-full"))
    prompt = root / "environments/staging/prompts/answer.yaml"
    prompt.write_text(prompt.read_text() + "# changed\n")
    candidate = context(root)
    (root / "candidate.json").write_text(json.dumps(report([False] * 8 + [True] * 12)))
    candidate.shared["reports"] = {"answer-quality": str(root / "candidate.json")}
    with pytest.raises(StepFailed, match="regression against the stable release"):
        analyze.local(candidate, Step("analyze-100", "analyze", weight=100))
    (root / "candidate.json").write_text(json.dumps(report([True] * 20)))
    assert "holds up" in analyze.local(candidate, Step("analyze-100", "analyze", weight=100)).summary


class Prometheus(BaseHTTPRequestHandler):
    """A loopback stand-in for Prometheus' /api/v1/query (no Prometheus runs here); answers per query."""

    answers: ClassVar[dict[str, Any]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(self.path).query)["query"][0]
        value = Prometheus.answers.get(query)
        result = [] if value is None else [{"metric": {}, "value": [1700000000, str(value)]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Prometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_cluster_analysis_queries_prometheus(root: Path, prometheus: str) -> None:
    ctx = context(root)
    query = ctx.settings.metrics[0].query
    step = Step("analyze-10", "analyze", weight=10)
    Prometheus.answers = {query: 0.001}
    assert "error-rate = 0.001 (< 0.02)" in analyze.prometheus(ctx, step, prometheus).summary
    Prometheus.answers = {query: 0.5}
    # failureLimit 1 tolerates one failed measurement, not two
    assert analyze.prometheus(ctx, step, prometheus).outputs["failed"] == 1
    two = context(root)
    two.settings = type(two.settings)(**{**two.settings.__dict__, "metrics": two.settings.metrics * 2})
    with pytest.raises(StepFailed, match="2 failed measurement"):
        analyze.prometheus(two, step, prometheus)
    with pytest.raises(TransientError):
        analyze.prometheus(ctx, step, "http://127.0.0.1:9")


def test_train_checks_inputs_and_weights(root: Path) -> None:
    step = Step("train-chat", "train", artifact=Artifact("Model", "chat", "1.3.0"))
    outcome = train.train(context(root), step)  # storageUri: the serving runtime reads it
    assert "weights of Model/chat@1.3.0 exist" in outcome.summary and "sft@1.0.0 (1 records)" in outcome.summary
    model = root / "environments/staging/models/chat.yaml"
    model.write_text(model.read_text().replace(
        "    storageUri: s3://models/chat/1.3.0\n",
        "    package:\n      name: llmgitops-no-such-distribution\n      version: 1.0.0\n      path: weights\n"))
    with pytest.raises(StepFailed, match="no trainer for method 'lora' is installed"):
        train.train(context(root), step)
    (root / "data/sft.jsonl").write_text("not json\n")
    with pytest.raises(StepFailed, match="training Dataset sft does not load"):
        train.train(context(root), step)
    with pytest.raises(StepFailed, match="is not in staging"):
        train.train(context(root), Step("train-chat", "train", artifact=Artifact("Model", "chat", "9.9.9")))
