"""Applying a promotion: atomic (a failure at any stage leaves nothing), idempotent, byte-identical,
and never touching the user's working tree; then pushing it and opening its pull request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from promo_fixture import make_repo

from conftest import git
from llmgitops.errors import LLMGitOpsError
from llmgitops.gitrepo import Git
from llmgitops.promotion import commit, prepare
from llmgitops.promotion.apply import FAIL_AT_ENV, STAGES, InjectedFailure, trailers
from llmgitops.promotion.forge import open_pull_request, push


def snapshot(root: Path) -> dict[str, str]:
    return {
        "head": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "symbolic-ref", "--short", "HEAD"),
        "branches": git(root, "for-each-ref", "--format=%(refname)", "refs/heads/"),
        "worktrees": git(root, "worktree", "list", "--porcelain"),
        "status": git(root, "status", "--porcelain", "--untracked-files=all"),
    }


@pytest.mark.parametrize("stage", STAGES)
def test_a_failure_at_any_stage_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    root = make_repo(tmp_path / "r")
    (root / "notes.txt").write_text("the user's own uncommitted work\n")
    before = snapshot(root)
    prepared = prepare(root, "dev", "staging")
    monkeypatch.setenv(FAIL_AT_ENV, stage)
    with pytest.raises(InjectedFailure, match=stage):
        commit(prepared)
    assert snapshot(root) == before
    assert not (root / ".llmgitops" / "promotions").exists() or not any((root / ".llmgitops" / "promotions").iterdir())
    assert list(tmp_path.glob("llmgitops-promote-*")) == []
    assert (root / "notes.txt").read_text() == "the user's own uncommitted work\n"


def test_promotion_commits_on_a_new_branch_and_leaves_the_working_tree_alone(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    (root / "environments/dev/prompts/answer.yaml").open("a").write("# uncommitted edit\n")
    before = snapshot(root)
    prepared = prepare(root, "dev", "staging")
    applied = commit(prepared)
    after = snapshot(root)
    assert after["head"] == before["head"] and after["branch"] == "main" and after["status"] == before["status"]
    assert after["worktrees"] == before["worktrees"]
    assert applied.created and applied.branch in after["branches"]
    assert git(root, "rev-parse", f"{applied.branch}^") == before["head"]
    tags = trailers(Git(root), applied.commit)
    assert tags == {"Promoted-From": f"dev@{before['head']}", "Plan-Hash": prepared.plan.hash}
    # byte-identical: the blob staging received is the very blob dev holds at the base commit
    for rel in ("prompts/answer.yaml", "models/chat.yaml", "datasets/qa.yaml", "evals/answer-quality.yaml"):
        assert git(root, "rev-parse", f"{applied.branch}:environments/staging/{rel}") == \
            git(root, "rev-parse", f"HEAD:environments/dev/{rel}")
    changed = git(root, "diff", "--name-only", "HEAD", applied.branch).splitlines()
    assert "environments/staging/environment.yaml" not in changed
    assert "workflows/staging/workflow.yaml" in changed and "workflows/argocd/staging.yaml" in changed
    assert applied.description_path.read_text(encoding="utf-8") == prepared.description
    # the rendered files on the branch are exactly what render produces there
    from conftest import run_cli

    git(root, "stash", "-q")
    git(root, "checkout", "-q", applied.branch)
    check = run_cli("render", "--check", "staging", cwd=root)
    assert check.returncode == 0, check.stdout + check.stderr


def test_promoting_again_is_idempotent(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    first = commit(prepare(root, "dev", "staging"))
    second = commit(prepare(root, "dev", "staging"))
    assert (second.branch, second.commit, second.created) == (first.branch, first.commit, False)
    assert git(root, "for-each-ref", "--format=%(refname)", "refs/heads/promote/").splitlines() == [
        f"refs/heads/{first.branch}"]


def test_a_foreign_branch_of_the_same_name_is_not_overwritten(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    prepared = prepare(root, "dev", "staging")
    git(root, "branch", prepared.plan.branch)
    with pytest.raises(LLMGitOpsError, match="holds another promotion"):
        commit(prepared)


def test_an_empty_plan_commits_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    commit(prepare(root, "dev", "staging"))
    git(root, "merge", "-q", "--ff-only", git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/promote/"))
    prepared = prepare(root, "dev", "staging")
    assert prepared.plan.empty
    with pytest.raises(LLMGitOpsError, match="nothing to promote"):
        commit(prepared)


def test_push_to_a_real_remote(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    applied = commit(prepare(root, "dev", "staging"))
    push(Git(root), "origin", applied.branch)
    assert git(remote, "rev-parse", f"refs/heads/{applied.branch}") == applied.commit
    with pytest.raises(LLMGitOpsError):
        push(Git(root), "no-such-remote", applied.branch)


class Forge(BaseHTTPRequestHandler):
    """A loopback stand-in for the GitHub and GitLab REST APIs (no real forge is reachable here): it
    records every request and answers as the API documents."""

    requests: ClassVar[list[dict[str, Any]]] = []
    existing: ClassVar[bool] = False

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        Forge.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body})
        if Forge.existing:
            self._answer(422 if "/pulls" in self.path else 409, {"message": "already exists"})
        elif self.path.endswith("/pulls"):
            self._answer(201, {"html_url": "https://forge.test/acme/cfg/pull/7", "number": 7})
        else:
            self._answer(201, {"web_url": "https://forge.test/acme/cfg/-/merge_requests/3", "iid": 3})

    def do_GET(self) -> None:
        Forge.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
        if "/pulls" in self.path:
            self._answer(200, [{"html_url": "https://forge.test/acme/cfg/pull/6", "number": 6}])
        else:
            self._answer(200, [{"web_url": "https://forge.test/acme/cfg/-/merge_requests/2", "iid": 2}])


@pytest.fixture
def forge() -> Iterator[str]:
    Forge.requests, Forge.existing = [], False
    server = HTTPServer(("127.0.0.1", 0), Forge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_open_a_github_pull_request(tmp_path: Path, forge: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "r")
    git(root, "remote", "add", "origin", "git@github.com:acme/cfg.git")
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", forge + "/api/v3")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test_token")
    pr = open_pull_request("github", Git(root), "origin", "promote/staging/abc", "main", "Promote", "body **md**")
    assert (pr.url, pr.number, pr.created) == ("https://forge.test/acme/cfg/pull/7", 7, True)
    request = Forge.requests[0]
    assert request["path"] == "/api/v3/repos/acme/cfg/pulls"
    assert request["headers"]["Authorization"] == "Bearer ghp_test_token"
    assert request["body"] == {"title": "Promote", "head": "promote/staging/abc", "base": "main", "body": "body **md**"}
    Forge.existing = True
    again = open_pull_request("github", Git(root), "origin", "promote/staging/abc", "main", "Promote", "b")
    assert (again.number, again.created) == (6, False)
    assert Forge.requests[-1]["path"].startswith("/api/v3/repos/acme/cfg/pulls?head=acme%3Apromote%2Fstaging%2Fabc")


def test_open_a_gitlab_merge_request(tmp_path: Path, forge: str, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "r")
    git(root, "remote", "add", "origin", "https://gitlab.example.com/acme/platform/cfg.git")
    monkeypatch.delenv("CI_PROJECT_PATH", raising=False)
    monkeypatch.setenv("GITLAB_API_URL", forge + "/api/v4")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-test")
    mr = open_pull_request("gitlab", Git(root), "origin", "promote/staging/abc", "main", "Promote", "body")
    assert (mr.url, mr.number) == ("https://forge.test/acme/cfg/-/merge_requests/3", 3)
    request = Forge.requests[0]
    assert request["path"] == "/api/v4/projects/acme%2Fplatform%2Fcfg/merge_requests"
    assert request["headers"]["Private-Token"] == "glpat-test"
    assert request["body"]["source_branch"] == "promote/staging/abc"
    assert request["body"]["target_branch"] == "main"


def test_pull_requests_need_a_token_and_a_known_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "r")
    git(root, "remote", "add", "origin", str(tmp_path / "plain.git"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/cfg")
    with pytest.raises(LLMGitOpsError, match="GITHUB_TOKEN is not set"):
        open_pull_request("github", Git(root), "origin", "b", "main", "t", "b")
    monkeypatch.delenv("GITHUB_REPOSITORY")
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    with pytest.raises(LLMGitOpsError, match="cannot tell the github project"):
        open_pull_request("github", Git(root), "origin", "b", "main", "t", "b")
