"""`llmgitops promote` on the bundled example, through the real CLI."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from conftest import assert_no_traceback, git, run_cli


def branches(root: Path) -> list[str]:
    return git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/").splitlines()


def test_dry_run_prints_the_plan_and_writes_nothing(example_repo: Path) -> None:
    result = run_cli("promote", "dev", "staging", "--dry-run", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "## Promote dev → staging" in result.stdout
    assert "| `Prompt/support-answer` | update | `1.2.0` → `1.3.0` | minor |" in result.stdout
    assert "### Pipeline" in result.stdout and "### Rolling back" in result.stdout
    assert "dry run: nothing was written" in result.stderr
    assert branches(example_repo) == ["main"]
    assert git(example_repo, "status", "--porcelain") == ""


def test_promote_creates_the_branch_and_is_idempotent(example_repo: Path) -> None:
    first = run_cli("promote", "dev", "staging", "--format", "json", cwd=example_repo)
    assert_no_traceback(first)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["written"] and data["created"] and data["branch"].startswith("promote/staging/")
    assert {i["kind"] + "/" + i["name"] for i in data["plan"]["items"]} >= {"Prompt/support-answer",
                                                                          "RagConfig/product-docs"}
    assert Path(data["descriptionFile"]).read_text(encoding="utf-8") == data["description"]
    again = run_cli("promote", "dev", "staging", cwd=example_repo)
    assert again.returncode == 0
    assert "already exists (same plan), unchanged" in again.stderr
    assert branches(example_repo) == ["main", data["branch"]]
    assert git(example_repo, "status", "--porcelain") == ""  # .llmgitops/ ignores itself


def test_policy_violations_stop_the_promotion(example_repo: Path) -> None:
    result = run_cli("promote", "dev", "prod", cwd=example_repo)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "environments/prod/environment.yaml:" in result.stdout
    assert "error promotion/wrong-source: prod promotes from staging, not from dev" in result.stdout
    assert "nothing was written" in result.stderr
    assert branches(example_repo) == ["main"]


def test_usage_errors(example_repo: Path) -> None:
    for args in (("promote", "dev", "qa"), ("promote", "dev", "staging", "--open-pr", "github"),
                 ("promote", "dev", "staging", "--only", "Prompt"),
                 ("promote", "dev", "staging", "--dry-run", "--push", "origin")):
        result = run_cli(*args, cwd=example_repo)
        assert_no_traceback(result)
        assert result.returncode == 2, (args, result.stderr)


def test_push_and_open_a_pull_request(example_repo: Path, tmp_path: Path) -> None:
    """The forge is a loopback HTTP server standing in for GitHub's REST API (no real forge is reachable
    here); it checks the request the CLI sends. The remote is a real bare repository."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(example_repo, "remote", "add", "origin", str(remote))
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            payload = json.dumps({"html_url": "https://forge.test/acme/support/pull/12", "number": 12}).encode()
            self.send_response(201)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_cli("promote", "dev", "staging", "--push", "origin", "--open-pr", "github", cwd=example_repo,
                         env={"GITHUB_TOKEN": "t0k3n", "GITHUB_REPOSITORY": "acme/support",
                              "GITHUB_API_URL": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
        server.server_close()
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "pull request: https://forge.test/acme/support/pull/12" in result.stderr
    branch = next(b for b in branches(example_repo) if b.startswith("promote/"))
    assert git(remote, "rev-parse", branch) == git(example_repo, "rev-parse", branch)
    assert seen[0]["path"] == "/repos/acme/support/pulls" and seen[0]["auth"] == "Bearer t0k3n"
    assert seen[0]["body"]["head"] == branch and seen[0]["body"]["base"] == "main"
    assert seen[0]["body"]["body"].startswith("## Promote dev → staging")
