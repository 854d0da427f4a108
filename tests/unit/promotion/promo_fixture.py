"""A git repository with dev -> staging -> prod for promotion tests, built on the minimal valid repository."""

from __future__ import annotations

from pathlib import Path

from conftest import commit_all, init_git
from minirepo import FILES, HEAD
from minirepo import write as write_minirepo

STAGING = HEAD + """kind: Environment
metadata:
  name: staging
  annotations:
    llmgitops.dev/repo-url: https://git.example.com/acme/llm-config.git
    llmgitops.dev/app-image: registry.example.com/acme/assistant:1.4.2
spec:
  promotion:
    from: dev
  deploy:
    target: kserve
    namespace: assistant-staging
    steps: [10, 100]
  argo:
    image: registry.example.com/platform/llmgitops:0.1.0
"""

PROD = HEAD + """kind: Environment
metadata:
  name: prod
spec:
  promotion:
    from: staging
    approval:
      required: true
      approvers: [acme/owners]
    allowPrerelease: false
  deploy:
    target: local
"""

DEV_FILES = {k: v for k, v in FILES.items() if k.startswith("environments/dev/") and not k.endswith("environment.yaml")}


def in_env(env: str, files: dict[str, str]) -> dict[str, str]:
    """dev's artifact files placed in another environment."""
    return {k.replace("environments/dev/", f"environments/{env}/"): v for k, v in files.items()}


def make_repo(root: Path, overrides: dict[str, str | None] | None = None) -> Path:
    init_git(root)
    write_minirepo(root, {"environments/staging/environment.yaml": STAGING,
                          "environments/prod/environment.yaml": PROD, **(overrides or {})})
    for rel, text in (overrides or {}).items():
        if text is None:
            (root / rel).unlink(missing_ok=True)
    commit_all(root, "initial")
    return root


def dev_file(name: str) -> str:
    return FILES[f"environments/dev/{name}"]
