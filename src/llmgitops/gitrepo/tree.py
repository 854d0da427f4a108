"""A ``Source`` over a Git commit or the index: manifests as committed or staged, no checkout needed.

Listing and reading are batched: ``prefetch(paths)`` asks git once for where the paths are (``ls-tree``
or ``ls-files``) and once for their contents (one ``cat-file --batch``). Reading a file that was
listed but not fetched reads every listed, unfetched file of that listing at once, because whoever
lists a folder is about to read it. Symlinks are followed inside the tree only.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterable

from ..manifests.loader import MAX_BYTES
from ..manifests.source import SourceError, unsafe_reference
from .catfile import Blob, read_blobs
from .git import Git

INDEX = ":index"  # the rev of the staged index
WORKTREE = ":worktree"  # the files on disk (for diffs and grep; reading them is WorkingTree's job)
MAX_LINKS = 8
PATHSPEC_BATCH = 2000  # paths per listing command, well below any command-line limit


class GitTree:
    """The files of ``rev`` (a commit, tree or ref), or of the index when ``rev`` is ``INDEX``."""

    def __init__(self, git: Git, rev: str) -> None:
        self.git = git
        self.rev = rev
        self.label = "staged index" if rev == INDEX else f"git {rev[:12]}"
        self._entries: dict[str, tuple[str, str]] = {}  # path -> (mode, object id)
        self._complete: set[str] = set()  # folders listed recursively
        self._looked_up: set[str] = set()  # single paths asked for
        self._blobs: dict[str, Blob] = {}
        self._pending: list[set[str]] = []  # listings whose files are not all fetched yet

    @classmethod
    def index(cls, git: Git) -> GitTree:
        return cls(git, INDEX)

    @property
    def is_index(self) -> bool:
        return self.rev == INDEX

    # -- listing ---------------------------------------------------------------------------------------

    def _list(self, pathspecs: list[str]) -> set[str]:
        if self.is_index:
            raw = self.git.run("--literal-pathspecs", "ls-files", "-s", "-z", "--", *pathspecs)
        else:
            raw = self.git.run("--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", self.rev, "--",
                               *pathspecs)
        found = set()
        for record in raw.split(b"\0"):
            if not record:
                continue
            meta, _, path_bytes = record.partition(b"\t")
            fields = meta.split()
            path = path_bytes.decode("utf-8", "surrogateescape")
            if self.is_index:
                mode, oid, stage = fields[0].decode(), fields[1].decode(), fields[2]
                if stage != b"0":
                    continue  # an unresolved merge conflict: nothing is staged for this path yet
            else:
                mode, oid = fields[0].decode(), fields[2].decode()
            self._entries[path] = (mode, oid)
            found.add(path)
        return found

    def _known(self, relpath: str) -> bool:
        if relpath in self._looked_up or relpath in self._entries:
            return True
        return any(relpath == d or relpath.startswith(d + "/") for d in self._complete)

    def files(self, prefix: str) -> list[str]:
        prefix = prefix.strip("/")
        if not self._known_folder(prefix):
            found = self._list([prefix] if prefix else [])
            self._complete.add(prefix)
            self._pending.append(found)
        if not prefix:
            return sorted(self._entries)
        return sorted(p for p in self._entries if p.startswith(prefix + "/"))

    def _known_folder(self, prefix: str) -> bool:
        return any(prefix == d or prefix.startswith(d + "/") or d == "" for d in self._complete)

    def subdirs(self, prefix: str) -> list[str]:
        """Names of the folders directly inside ``prefix``."""
        prefix = prefix.strip("/")
        if self.is_index:
            paths = self.files(prefix)
            names = {p[len(prefix) + 1:].split("/", 1)[0] for p in paths if "/" in p[len(prefix) + 1:]}
            return sorted(names)
        raw = self.git.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", self.rev, "--",
                           prefix + "/")
        names = set()
        for record in raw.split(b"\0"):
            meta, _, path = record.partition(b"\t")
            if meta.split()[1:2] == [b"tree"]:
                names.add(posixpath.basename(path.decode("utf-8", "surrogateescape")))
        return sorted(names)

    # -- reading ---------------------------------------------------------------------------------------

    def prefetch(self, paths: Iterable[str]) -> None:
        """Make the given files readable with at most one listing and one cat-file process."""
        unknown = sorted({p for p in paths if p and unsafe_reference(p) is None and not self._known(p)})
        for start in range(0, len(unknown), PATHSPEC_BATCH):
            chunk = unknown[start:start + PATHSPEC_BATCH]
            self._list(chunk)
            self._looked_up.update(chunk)
        wanted = {p for p in paths if p in self._entries}
        self._fetch(wanted)

    def _fetch(self, paths: Iterable[str]) -> None:
        ids = [self._entries[p][1] for p in paths
               if p in self._entries and self._entries[p][1] not in self._blobs
               and self._entries[p][0] not in ("160000",)]
        if ids:
            self._blobs.update(read_blobs(self.git, ids, MAX_BYTES + 1))

    def _blob(self, relpath: str) -> tuple[str, Blob]:
        """(final path, blob) for a file, following symlinks inside the tree."""
        path = relpath
        for _ in range(MAX_LINKS + 1):
            unsafe = unsafe_reference(path)
            if unsafe is not None:
                raise SourceError("path/escape", f"{relpath}: {unsafe}")
            if not self._known(path):
                self.prefetch([path])
            entry = self._entries.get(path)
            if entry is None:
                raise SourceError("path/missing", f"{relpath} does not exist in {self.label}")
            mode, oid = entry
            if mode == "160000" or mode == "040000":
                raise SourceError("path/not-a-file", f"{relpath} is not a regular file")
            if oid not in self._blobs:
                batch = next((group for group in self._pending if path in group), {path})
                self._fetch(batch | {path})
                self._pending = [g for g in self._pending if g is not batch]
            blob = self._blobs.get(oid)
            if blob is None:
                raise SourceError("path/unreadable", f"{relpath} cannot be read from {self.label}")
            if mode != "120000":
                return path, blob
            target = blob.head.decode("utf-8", "surrogateescape")
            path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target.startswith("/") or path.startswith("../") or path == "..":
                raise SourceError("path/escape", f"{relpath} resolves outside the repository (symlink)")
        raise SourceError("path/escape", f"{relpath}: too many levels of symbolic links")

    def read(self, relpath: str) -> bytes:
        return self._blob(relpath)[1].head

    def digest(self, relpath: str) -> str | None:
        try:
            return self._blob(relpath)[1].sha256
        except SourceError:
            return None

    def exists(self, relpath: str) -> bool:
        if unsafe_reference(relpath) is not None:
            return False
        if not self._known(relpath):
            self._list([relpath])
            self._looked_up.add(relpath)
        return relpath in self._entries or any(p.startswith(relpath.rstrip("/") + "/") for p in self._entries)

    def grep(self, needles: Iterable[str], prefix: str) -> list[str]:
        """Files under ``prefix`` whose text contains any of ``needles`` (fixed strings)."""
        return grep(self.git, needles, prefix, ["--cached"] if self.is_index else [self.rev])


def grep(git: Git, needles: Iterable[str], prefix: str, where: list[str]) -> list[str]:
    """Files under ``prefix`` containing any of ``needles``: in a rev (``where=[rev]``), the index
    (``["--cached"]``) or the work tree (``[]``, untracked files included)."""
    patterns = sorted({n for n in needles if n and "\n" not in n})
    if not patterns:
        return []
    scope = where or ["--untracked"]
    # patterns go through a file: many fixed strings are matched together (git's kwset), and no
    # command line grows with the number of changed files
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", errors="surrogateescape", suffix=".patterns") as fh:
        fh.write("\n".join(patterns) + "\n")
        fh.flush()
        raw = git.run("grep", "-l", "-z", "-F", "-I", "--no-color", "-f", fh.name, *scope, "--", prefix,
                      ok=(0, 1))
    rev_prefix = where[0] + ":" if where and where[0] != "--cached" else None
    out = []
    for item in raw.split(b"\0"):
        if not item:
            continue
        path = item.decode("utf-8", "surrogateescape")
        if rev_prefix and path.startswith(rev_prefix):
            path = path[len(rev_prefix):]
        out.append(path)
    return sorted(out)
