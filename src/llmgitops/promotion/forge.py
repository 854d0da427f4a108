"""Publishing a promotion: push its branch, open the pull request (GitHub) or merge request (GitLab).

The token comes from the environment (GITHUB_TOKEN / GITLAB_TOKEN) and is sent only in a header; the API
base URL can be pointed elsewhere (GITHUB_API_URL / GITLAB_API_URL, e.g. GitHub Enterprise or a
self-managed GitLab). Creating the same pull request twice returns the one that exists.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from ..errors import EXIT_USAGE, LLMGitOpsError
from ..gitrepo import Git

GITHUB_DEFAULT_API = "https://api.github.com"
GITLAB_DEFAULT_API = "https://gitlab.com/api/v4"
TIMEOUT = 30
_SLUG = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$")


@dataclass(frozen=True)
class PullRequest:
    url: str
    number: int
    created: bool


def push(git: Git, remote: str, branch: str) -> None:
    if remote.startswith("-"):
        raise LLMGitOpsError(f"--push {remote!r} is not a remote", EXIT_USAGE)
    git.run("push", "--quiet", "--", remote, f"refs/heads/{branch}:refs/heads/{branch}")


def repository_slug(git: Git, remote: str, forge: str) -> str:
    """owner/name on the forge: from GITHUB_REPOSITORY / CI_PROJECT_PATH when set (CI), else the remote URL."""
    env = os.environ.get("GITHUB_REPOSITORY" if forge == "github" else "CI_PROJECT_PATH", "")
    if _SLUG.match(env):
        return env
    url = git.text("remote", "get-url", "--", remote, ok=(0, 2))
    match = re.match(r"^(?:[a-z+]+://)?(?:[^@/]+@)?[^/:]+[:/](?P<slug>[^?#]+?)(?:\.git)?/?$", url)
    if match and _SLUG.match(match.group("slug")):
        return match.group("slug")
    variable = "GITHUB_REPOSITORY" if forge == "github" else "CI_PROJECT_PATH"
    raise LLMGitOpsError(f"cannot tell the {forge} project from remote {remote!r} ({url or 'no URL'})",
                         EXIT_USAGE, f"set {variable}=owner/name")


def _request(method: str, url: str, headers: dict[str, str], body: dict[str, Any] | None = None
             ) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Accept": "application/json", "Content-Type": "application/json",
                                              "User-Agent": "llmgitops", **headers})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            payload = json.loads(exc.read() or b"null")
        except ValueError:
            payload = None
        return exc.code, payload
    except (urllib.error.URLError, OSError) as exc:
        raise LLMGitOpsError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from None


def _token(name: str) -> str:
    token = os.environ.get(name, "")
    if not token:
        raise LLMGitOpsError(f"{name} is not set; it is needed to open the pull request", EXIT_USAGE,
                             f"export {name}=<a token allowed to open pull requests>")
    return token


def _api(name: str, default: str) -> str:
    base = os.environ.get(name, "") or default
    if not re.match(r"^https?://", base):
        raise LLMGitOpsError(f"{name}={base!r} is not an http(s) URL", EXIT_USAGE)
    return base.rstrip("/")


def _fail(forge: str, status: int, payload: Any) -> LLMGitOpsError:
    message = payload.get("message") if isinstance(payload, dict) else None
    return LLMGitOpsError(f"{forge} refused the pull request (HTTP {status})" + (f": {message}" if message else ""))


def open_github(slug: str, branch: str, base: str, title: str, body: str) -> PullRequest:
    api = _api("GITHUB_API_URL", GITHUB_DEFAULT_API)
    headers = {"Authorization": f"Bearer {_token('GITHUB_TOKEN')}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"}
    status, payload = _request("POST", f"{api}/repos/{slug}/pulls", headers,
                               {"title": title, "head": branch, "base": base, "body": body})
    if status == 201 and isinstance(payload, dict):
        return PullRequest(str(payload.get("html_url")), int(payload.get("number", 0)), True)
    if status == 422:  # one already exists for this head
        owner = slug.split("/", 1)[0]
        query = urllib.parse.urlencode({"head": f"{owner}:{branch}", "base": base, "state": "open"})
        found, pulls = _request("GET", f"{api}/repos/{slug}/pulls?{query}", headers)
        if found == 200 and isinstance(pulls, list) and pulls and isinstance(pulls[0], dict):
            return PullRequest(str(pulls[0].get("html_url")), int(pulls[0].get("number", 0)), False)
    raise _fail("GitHub", status, payload)


def open_gitlab(slug: str, branch: str, base: str, title: str, body: str) -> PullRequest:
    api = _api("GITLAB_API_URL", GITLAB_DEFAULT_API)
    headers = {"PRIVATE-TOKEN": _token("GITLAB_TOKEN")}
    project = urllib.parse.quote(slug, safe="")
    status, payload = _request("POST", f"{api}/projects/{project}/merge_requests", headers,
                               {"source_branch": branch, "target_branch": base, "title": title,
                                "description": body, "remove_source_branch": True})
    if status == 201 and isinstance(payload, dict):
        return PullRequest(str(payload.get("web_url")), int(payload.get("iid", 0)), True)
    if status == 409:
        query = urllib.parse.urlencode({"source_branch": branch, "target_branch": base, "state": "opened"})
        found, mrs = _request("GET", f"{api}/projects/{project}/merge_requests?{query}", headers)
        if found == 200 and isinstance(mrs, list) and mrs and isinstance(mrs[0], dict):
            return PullRequest(str(mrs[0].get("web_url")), int(mrs[0].get("iid", 0)), False)
    raise _fail("GitLab", status, payload)


def open_pull_request(forge: str, git: Git, remote: str, branch: str, base: str, title: str, body: str
                      ) -> PullRequest:
    slug = repository_slug(git, remote, forge)
    if forge == "github":
        return open_github(slug, branch, base, title, body)
    return open_gitlab(slug, branch, base, title, body)
