"""Where repository files come from: the working tree here, a Git tree in ``gitrepo``.

Everything that reads manifests goes through a ``Source``, so the same checks run on a working tree,
on a staged index, or on a pushed ref inside a bare repository (pre-receive) without a checkout.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path, PurePosixPath
from typing import Protocol

from .loader import MAX_BYTES


class SourceError(Exception):
    """A file cannot be read; the message says why in words fit for a finding."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class Source(Protocol):
    label: str

    def files(self, prefix: str) -> list[str]:
        """Sorted repository-relative POSIX paths of the files under ``prefix``."""
        ...

    def read(self, relpath: str) -> bytes:
        """At most ``MAX_BYTES + 1`` bytes of a file inside the repository; SourceError otherwise."""
        ...

    def exists(self, relpath: str) -> bool: ...


def unsafe_reference(relpath: object) -> str | None:
    """Why a path written in a manifest may not be followed, or None when it is a plain in-repo path."""
    if not isinstance(relpath, str) or not relpath.strip():
        return "the path is empty"
    if "\\" in relpath:
        return "use forward slashes: paths in manifests are POSIX paths"
    if relpath.startswith("/") or PurePosixPath(relpath).is_absolute() or (len(relpath) > 1 and relpath[1] == ":"):
        return "the path is absolute; paths are relative to the repository root"
    if ".." in PurePosixPath(relpath).parts:
        return "the path climbs out with '..'; paths are relative to the repository root"
    if "\x00" in relpath:
        return "the path contains a NUL byte"
    return None


def path_problem(root: Path, relpath: str) -> str | None:
    """Why a manifest's path may not be followed below ``root``: unsafe as written (``unsafe_reference``)
    or resolving outside the repository (through a symlink); None for a plain in-repo path."""
    why = unsafe_reference(relpath)
    if why is None and WorkingTree(root).escapes(relpath):
        why = "the path resolves outside the repository"
    return why


def file_problem(root: Path, relpath: str, max_bytes: int) -> str | None:
    """Why a manifest's path cannot be read as a file of the repository at ``root``: ``path_problem``,
    missing, or larger than ``max_bytes``; None when it can."""
    why = path_problem(root, relpath)
    path = root / relpath
    if why is None and not path.is_file():
        why = "the file does not exist"
    if why is None and path.stat().st_size > max_bytes:
        why = f"the file is larger than {max_bytes // (1024 * 1024)} MiB"
    return why


class WorkingTree:
    """Files on disk below ``root``; nothing outside it is ever read, symlinks included."""

    SKIP_DIRS = frozenset({".git", ".dvc", "__pycache__", "node_modules", ".venv"})

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.label = "working tree"

    def _abs(self, relpath: str) -> Path:
        return self.root / relpath

    def escapes(self, relpath: str) -> bool:
        try:
            real = self._abs(relpath).resolve()
        except (OSError, RuntimeError):
            return True
        return real != self.root and self.root not in real.parents

    def files(self, prefix: str) -> list[str]:
        base = self._abs(prefix)
        if not base.is_dir() or self.escapes(prefix):
            return []
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in self.SKIP_DIRS)
            rel_dir = os.path.relpath(dirpath, self.root)
            for name in filenames:
                out.append(posixpath.normpath(posixpath.join(rel_dir.replace(os.sep, "/"), name)))
        return sorted(out)

    def exists(self, relpath: str) -> bool:
        return not self.escapes(relpath) and self._abs(relpath).exists()

    def read(self, relpath: str) -> bytes:
        if self.escapes(relpath):
            raise SourceError("path/escape", f"{relpath} resolves outside the repository (symlink)")
        path = self._abs(relpath)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise SourceError("path/missing", f"{relpath} does not exist") from None
        except OSError as exc:
            raise SourceError("path/unreadable", f"{relpath} cannot be read: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("path/not-a-file", f"{relpath} is not a regular file")
        try:
            with open(path, "rb") as fh:
                return fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise SourceError("path/unreadable", f"{relpath} cannot be read: {exc.strerror}") from None
