"""Git as a source of manifests: any commit or the staged index, changed files, history, hook input.

    git = Git.discover(Path.cwd())
    head = GitTree(git, "HEAD")            # a Source: files(prefix), read(relpath), exists(relpath)
    staged = GitTree.index(git)            # the same over the index (what a commit would contain)
    changed_paths(git, base_sha, head_sha) # [ChangedPath(status, path)]
    merge_base(git, a, b), resolve(git, rev), parse_ref_updates(stdin_text, "pre-receive")
    path_history(git, rev, [":(glob)environments/*/prompts/qa.yaml"])
"""

from __future__ import annotations

from .catfile import Blob, read_blobs
from .git import Git, GitError
from .history import HistoryEntry, path_history
from .refs import (
    ChangedPath,
    RefUpdate,
    base_for,
    changed_paths,
    empty_tree,
    merge_base,
    parse_ref_updates,
    require,
    resolve,
)
from .tree import INDEX, WORKTREE, GitTree, grep

__all__ = [
    "INDEX",
    "WORKTREE",
    "Blob",
    "ChangedPath",
    "Git",
    "GitError",
    "GitTree",
    "HistoryEntry",
    "RefUpdate",
    "base_for",
    "changed_paths",
    "empty_tree",
    "grep",
    "merge_base",
    "parse_ref_updates",
    "path_history",
    "read_blobs",
    "require",
    "resolve",
]
