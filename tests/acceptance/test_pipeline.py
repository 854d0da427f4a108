"""The whole loop on the bundled example, on this machine: promote dev -> staging on a branch, run staging's
pipeline there with the local backend, and read the report; then a regression that only the canary
analysis catches, which rolls back to the last good release.

Evaluations answer from recorded responses (the replay provider, declared in the test's staging
environment), so the runs are deterministic and fast. The recordings are made with `llmgitops eval run
--record` against a loopback OpenAI-compatible server standing in for the served Model (no model server
can run here fast enough for a test): it answers each triage ticket with the classification the dataset
expects, or — in "regressed" mode — misclassifies a fixed set of tickets. Everything else is real: git
worktrees and branches, validation, the evaluation engine with its gates and statistics, the local
deployment state, the analysis and the rollback.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conftest import REPO_ROOT, assert_no_traceback, commit_all, git, run_cli
from llmgitops.backends.local.state import Deployed, LocalState, load, save
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.pipeline.release import release_of

TRIAGE = [json.loads(line) for line in (REPO_ROOT / "data/eval/triage-cases.jsonl").read_text().splitlines()
          if line.strip()]
REGRESSED = {case["id"] for case in TRIAGE[::7]}  # 7 of 48 tickets: 85.4% still passes the 0.85 gate


class Oracle(BaseHTTPRequestHandler):
    regressed: ClassVar[bool] = False
    calls: ClassVar[int] = 0

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Oracle.calls += 1
        text = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
        case = next((c for c in TRIAGE if c["message"].strip() in text), None)
        if case is None:
            answer = "I cannot help with that."
        else:
            category = case["expected"]["category"]
            if Oracle.regressed and case["id"] in REGRESSED:
                category = "other" if category != "other" else "billing"
            answer = json.dumps({"category": category, "priority": case["expected"]["priority"],
                                 "summary": "The customer needs help with their backup.", "language": "en"})
        self._send({"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": request.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": answer}}],
                    "usage": {"prompt_tokens": len(text.split()), "completion_tokens": 20,
                              "total_tokens": len(text.split()) + 20}})


@pytest.fixture
def oracle() -> Iterator[str]:
    Oracle.regressed, Oracle.calls = False, 0
    server = HTTPServer(("127.0.0.1", 0), Oracle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"openai:http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def reword_triage(root: Path, version: str, wording: str) -> None:
    path = root / "environments/dev/prompts/ticket-triage.yaml"
    text = re.sub(r'  version: "[^"]+"', f'  version: "{version}"', path.read_text(), count=1)
    reworded = re.sub(r"You \w+ (incoming )?support tickets", wording, text, count=1)
    assert reworded != text
    path.write_text(reworded)
    commit_all(root, f"dev: ticket-triage {version}")


def declare_replay(root: Path) -> None:
    """Staging evaluates from recordings in data/recordings/staging (a provider any team may declare)."""
    env = root / "environments/staging/environment.yaml"
    text = env.read_text()
    if "recordings: data/recordings/staging" in text:
        return  # the example declares it already
    anchor = "  providers:\n"
    assert anchor in text
    env.write_text(text.replace(anchor, anchor + "    replay:\n      type: replay\n"
                                                  "      recordings: data/recordings/staging\n", 1))
    commit_all(root, "staging: replay provider")


def record_answers(root: Path, oracle: str, regressed: bool) -> None:
    """Record dev's triage answers (what the promotion will bring to staging) for the replay provider."""
    Oracle.regressed = regressed
    target = root / "data/recordings/staging/triage-accuracy.jsonl"
    target.unlink(missing_ok=True)
    result = run_cli("eval", "run", "triage-accuracy", "--env", "dev", "--provider", oracle, "--record",
                     str(target), "--no-cache", "--quiet", "--report", str(root.parent / "recording-report"),
                     cwd=root)
    assert_no_traceback(result)
    assert target.is_file(), result.stdout + result.stderr
    commit_all(root, "recordings")


def deployed_before(root: Path) -> str:
    """Staging as it is on main has been deployed on this machine before: its release is the stable one
    (what an earlier `llmgitops pipeline run staging` leaves in .llmgitops/state/staging.json)."""
    release = release_of(Repository(WorkingTree(root)).environment("staging"))
    save(root, LocalState("staging", stable=Deployed.of(release, git(root, "rev-parse", "HEAD"))))
    return release.state


def test_promote_run_and_roll_back_a_regression(example_repo: Path, oracle: str) -> None:
    root = example_repo
    declare_replay(root)
    first_stable = deployed_before(root)
    reword_triage(root, "2.2.0", "You triage incoming support tickets")
    record_answers(root, oracle, regressed=False)
    calls = Oracle.calls

    # the main job: promote on a branch, run staging's pipeline there, show the report
    result = run_cli("promote", "dev", "staging", "--only", "Prompt/ticket-triage", "--run", "--provider", "replay",
                     cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"run staging-\S+: SUCCEEDED", result.stdout)
    for line in ("succeeded validate", "succeeded evaluate-triage-accuracy", "succeeded canary-5",
                 "succeeded analyze-100", "succeeded promote-full"):
        assert line in result.stdout, result.stdout
    assert "evaluate-support-answer-quality" not in result.stdout  # untouched by the change
    assert Oracle.calls == calls  # the pipeline answered from the recordings
    state = load(root, "staging")
    assert state.stable is not None and state.stable.state != first_stable and state.candidate is None
    assert state.traffic == {state.stable.state[:12]: 100}
    good = state.stable.state
    assert Path(state.stable.reports["triage-accuracy"]).is_file()
    runs = sorted((root / ".llmgitops/runs").glob("staging-*/run.json"))
    record = json.loads(runs[-1].read_text())
    assert record["status"] == "succeeded" and record["rollback"] is None
    assert (runs[-1].parent / "evaluate-triage-accuracy.log").is_file()
    assert git(root, "status", "--porcelain") == ""
    git(root, "merge", "-q", "--ff-only", git(root, "for-each-ref", "--format=%(refname:short)",
                                              "refs/heads/promote/staging/"))

    # a regression the absolute gates let through, which the canary analysis catches
    reword_triage(root, "2.3.0", "You classify incoming support tickets")
    record_answers(root, oracle, regressed=True)
    failed = run_cli("promote", "dev", "staging", "--only", "Prompt/ticket-triage", "--run", "--provider", "replay",
                     cwd=root)
    assert_no_traceback(failed)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"run staging-\S+: FAILED", failed.stdout)
    assert "succeeded evaluate-triage-accuracy" in failed.stdout  # 85.4% passes the suite's 0.85 gate
    analysis = next(line for line in failed.stdout.splitlines() if line.startswith("  failed    analyze-"))
    assert "regression against the stable release" in analysis
    assert "skipped   promote-full" in failed.stdout
    assert re.search(r"succeeded rollback +withdrew \w+; staging serves " + good[:12], failed.stdout)
    after = load(root, "staging")
    assert after.stable is not None and after.stable.state == good and after.candidate is None
    assert after.traffic == {good[:12]: 100}
    assert [h["event"] for h in after.history][-1] == "rollback"
    record = json.loads(sorted((root / ".llmgitops/runs").glob("staging-*/run.json"))[-1].read_text())
    assert record["status"] == "failed" and record["rollback"]["status"] == "succeeded"


def test_pipeline_run_errors_are_clean(example_repo: Path) -> None:
    result = run_cli("pipeline", "run", "qa", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 1 and "there is no environment 'qa'" in result.stderr
    result = run_cli("pipeline", "run", "staging", "--revision", "no-such-branch", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 2 and "no-such-branch" in result.stderr


def test_step_commands_are_what_each_argo_container_runs(example_repo: Path, tmp_path: Path) -> None:
    """`llmgitops step KIND` in a checkout, as the rendered WorkflowTemplate runs it: outputs land in
    LLMGITOPS_OUT for Argo's output parameters; a transient failure exits 75, which the retry strategy
    retries; a 'no' exits 1."""
    root = example_repo
    out = tmp_path / "out"
    env = {"LLMGITOPS_OUT": str(out)}
    state = release_of(Repository(WorkingTree(root)).environment("staging")).state
    ok = run_cli("step", "validate", "--environment", "staging", "--revision", "main", "--state", state,
                 cwd=root, env=env)
    assert_no_traceback(ok)
    assert ok.returncode == 0, ok.stderr
    assert (out / "revision").read_text() == git(root, "rev-parse", "HEAD")
    superseded = run_cli("step", "validate", "--environment", "staging", "--revision", "main", "--state", "0" * 64,
                         cwd=root, env=env)
    assert superseded.returncode == 1 and "a newer state supersedes this run" in superseded.stderr
    approved = run_cli("step", "approve", "--environment", "prod", "--revision", "main",
                       "--decisions", "approve,approve",
                       "--approvers", "acme-backup/support-ai-owners,acme-backup/ml-platform", cwd=root, env=env)
    assert approved.returncode == 0, approved.stderr
    assert json.loads((out / "approvers").read_text()) == ["acme-backup/support-ai-owners", "acme-backup/ml-platform"]
    assert (out / "decision").read_text() == "approve"
    rejected = run_cli("step", "approve", "--environment", "prod", "--revision", "main", "--decisions",
                       "approve,reject", "--approvers", "acme-backup/support-ai-owners,acme-backup/ml-platform",
                       cwd=root, env=env)
    assert rejected.returncode == 1 and "rejected the rollout of prod" in rejected.stderr
    unreachable = run_cli("step", "analyze", "--environment", "staging", "--revision", "main", "--weight", "5",
                          cwd=root, env={**env, "PROMETHEUS_URL": "http://127.0.0.1:9"})
    assert_no_traceback(unreachable)
    assert unreachable.returncode == 75 and "did not answer" in unreachable.stderr
    hostile = run_cli("step", "train", "--environment", "staging", "--revision", "main", "--kind", "Model",
                      "--name", "x; rm -rf /", "--version", "1.0.0", cwd=root, env=env)
    assert_no_traceback(hostile)
    assert hostile.returncode == 2 and "not a lowercase DNS label" in hostile.stderr
