"""Running git: plain subprocesses, one per question, never one per file.

GitPython is not used here: it leaves ``cat-file`` processes behind unless closed, and starting it costs
more than the questions a hook asks. Everything runs against the repository (or bare repository) the
object was made for, and inherits the environment, so the object quarantine of a ``pre-receive`` hook
(``GIT_OBJECT_DIRECTORY``, ``GIT_ALTERNATE_OBJECT_DIRECTORIES``) keeps working.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_USAGE, LLMGitOpsError


class GitError(LLMGitOpsError):
    """git failed; the message carries its own words."""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"  # parseable messages
    env.pop("GIT_LITERAL_PATHSPECS", None)
    env.pop("GIT_GLOB_PATHSPECS", None)
    env.pop("GIT_NOGLOB_PATHSPECS", None)
    env.pop("GIT_ICASE_PATHSPECS", None)
    return env


def _ask(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=_environment(), check=False)
    except FileNotFoundError:
        raise LLMGitOpsError("git is not installed (or not on PATH)", EXIT_USAGE) from None
    if out.returncode != 0:
        return None
    return out.stdout.decode("utf-8", "surrogateescape").strip()


@dataclass(frozen=True)
class Git:
    """A repository: ``root`` is the work tree, or the git directory of a bare repository."""

    root: Path
    bare: bool = False

    @classmethod
    def discover(cls, start: Path) -> Git:
        """The repository containing ``start`` (a work tree or a bare repository)."""
        probe = start if start.is_dir() else start.parent
        bare = _ask(probe, "rev-parse", "--is-bare-repository")
        if bare is None:
            raise LLMGitOpsError(f"{start} is not inside a git repository", EXIT_USAGE,
                                 "run the command inside a repository, or pass --repo")
        if bare == "true":
            git_dir = _ask(probe, "rev-parse", "--absolute-git-dir")
            assert git_dir is not None
            return cls(Path(git_dir), bare=True)
        top = _ask(probe, "rev-parse", "--show-toplevel")
        if top is None:  # inside the .git directory of a work tree
            git_dir = _ask(probe, "rev-parse", "--absolute-git-dir")
            assert git_dir is not None
            return cls(Path(git_dir).parent, bare=False)
        return cls(Path(top), bare=False)

    def run(self, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        """stdout of ``git ARGS``; GitError when the exit status is not in ``ok``."""
        proc = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=self.root, input=input,
                              capture_output=True, env=_environment(), check=False)
        if proc.returncode not in ok:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")
        return proc.stdout

    def succeeds(self, *args: str) -> bool:
        """Whether ``git ARGS`` exits 0 (for yes/no questions such as ``merge-base --is-ancestor``)."""
        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, env=_environment(), check=False)
        return proc.returncode == 0

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["git", *args], cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=_environment())

    def text(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        return self.run(*args, ok=ok).decode("utf-8", "surrogateescape").strip()

    @contextmanager
    def temporary_worktree(self, revision: str, prefix: str = "llmgitops-") -> Iterator[Path]:
        """``revision`` checked out (detached) in a temporary worktree, removed afterwards whatever happens,
        so the user's working tree and current branch are never touched."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        added = False
        try:
            self.run("worktree", "add", "--detach", "--quiet", str(path), revision)
            added = True
            yield path
        finally:
            if added:
                self.run("worktree", "remove", "--force", str(path), ok=(0, 128))
            shutil.rmtree(path, ignore_errors=True)
            self.run("worktree", "prune", ok=(0, 128))
