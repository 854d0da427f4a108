"""gitrepo on real repositories: trees and the index as sources, batching, changes, history, hook input."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import commit_all, git, init_git
from llmgitops.errors import LLMGitOpsError
from llmgitops.gitrepo import (
    INDEX,
    Git,
    GitTree,
    RefUpdate,
    base_for,
    changed_paths,
    empty_tree,
    merge_base,
    parse_ref_updates,
    path_history,
    resolve,
)
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import SourceError


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


@pytest.fixture
def two_commits(tmp_path: Path) -> tuple[Path, str, str]:
    root = init_git(tmp_path / "r")
    _write(root, {f"environments/dev/prompts/p{i}.yaml": f"a: {i}\n" for i in range(20)})
    _write(root, {"data/x.dvc": "outs:\n- md5: 1\n  path: x\n"})
    first = commit_all(root, "one")
    _write(root, {"environments/dev/prompts/p3.yaml": "a: changed\n", "environments/staging/models/m.yaml": "b: 1\n"})
    (root / "environments/dev/prompts/p4.yaml").unlink()
    second = commit_all(root, "two")
    return root, first, second


class CountingGit(Git):
    """A real Git that counts the processes it starts (to prove reads are batched)."""

    started: ClassVar[list[tuple[str, ...]]] = []

    def run(self, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        CountingGit.started.append(args)
        return super().run(*args, input=input, ok=ok)

    def popen(self, *args: str):  # type: ignore[no-untyped-def]
        CountingGit.started.append(args)
        return super().popen(*args)


def test_tree_lists_and_reads_in_one_batch(two_commits: tuple[Path, str, str]) -> None:
    root, first, _ = two_commits
    CountingGit.started = []
    tree = GitTree(CountingGit(root), first)
    state = Repository(tree).environment("dev")
    assert len([m for m in state.manifests]) == 20
    assert tree.read("environments/dev/prompts/p3.yaml") == b"a: 3\n"
    catfiles = [a for a in CountingGit.started if a[:1] == ("cat-file",)]
    assert len(catfiles) == 1, CountingGit.started
    assert len(CountingGit.started) <= 3


def test_prefetch_is_one_listing_and_one_cat_file(two_commits: tuple[Path, str, str]) -> None:
    root, _, second = two_commits
    CountingGit.started = []
    tree = GitTree(CountingGit(root), second)
    wanted = [f"environments/dev/prompts/p{i}.yaml" for i in range(10)] + ["data/x.dvc", "nope.yaml"]
    tree.prefetch(wanted)
    assert len(CountingGit.started) == 2
    assert tree.read("environments/dev/prompts/p3.yaml") == b"a: changed\n"
    assert not tree.exists("nope.yaml") and not tree.exists("environments/dev/prompts/p4.yaml")
    assert len(CountingGit.started) == 2  # everything answered from the batch
    with pytest.raises(SourceError) as missing:
        tree.read("environments/dev/prompts/p4.yaml")
    assert missing.value.rule == "path/missing"


def test_index_source_sees_staged_not_worktree(two_commits: tuple[Path, str, str]) -> None:
    root, _, _ = two_commits
    _write(root, {"environments/dev/prompts/p1.yaml": "a: staged\n"})
    git(root, "add", "environments/dev/prompts/p1.yaml")
    _write(root, {"environments/dev/prompts/p1.yaml": "a: unstaged\n"})
    index = GitTree.index(Git.discover(root))
    assert index.read("environments/dev/prompts/p1.yaml") == b"a: staged\n"
    assert index.digest("environments/dev/prompts/p1.yaml") is not None
    assert index.subdirs("environments") == ["dev", "staging"]
    changed = changed_paths(Git.discover(root), resolve(Git.discover(root), "HEAD") or "", INDEX)
    assert [(c.status, c.path) for c in changed] == [("M", "environments/dev/prompts/p1.yaml")]


def test_changed_paths_between_commits(two_commits: tuple[Path, str, str]) -> None:
    root, first, second = two_commits
    g = Git.discover(root)
    got = {(c.status, c.path) for c in changed_paths(g, first, second)}
    assert got == {("M", "environments/dev/prompts/p3.yaml"), ("D", "environments/dev/prompts/p4.yaml"),
                   ("A", "environments/staging/models/m.yaml")}
    everything = changed_paths(g, empty_tree(g), first)
    assert len(everything) == 21 and {c.status for c in everything} == {"A"}
    assert merge_base(g, first, second) == first


def test_symlinks_are_followed_inside_the_tree_only(tmp_path: Path) -> None:
    root = init_git(tmp_path / "r")
    _write(root, {"data/real.txt": "hello\n"})
    os.symlink("real.txt", root / "data/link.txt")
    os.symlink("../../etc/passwd", root / "data/escape.txt")
    os.symlink("/etc/passwd", root / "data/absolute.txt")
    sha = commit_all(root)
    tree = GitTree(Git.discover(root), sha)
    assert tree.read("data/link.txt") == b"hello\n"
    for name in ("escape.txt", "absolute.txt"):
        with pytest.raises(SourceError) as exc:
            tree.read(f"data/{name}")
        assert exc.value.rule == "path/escape"
    with pytest.raises(SourceError):
        tree.read("../outside.yaml")


def test_large_blobs_are_capped_but_hashed_whole(tmp_path: Path) -> None:
    from llmgitops.manifests.loader import MAX_BYTES

    root = init_git(tmp_path / "r")
    (root / "big.bin").write_bytes(b"x" * (MAX_BYTES + 5000))
    sha = commit_all(root)
    tree = GitTree(Git.discover(root), sha)
    assert len(tree.read("big.bin")) == MAX_BYTES + 1
    import hashlib

    assert tree.digest("big.bin") == hashlib.sha256(b"x" * (MAX_BYTES + 5000)).hexdigest()


def test_bare_repository_is_discovered(two_commits: tuple[Path, str, str], tmp_path: Path) -> None:
    root, _, second = two_commits
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(bare))
    g = Git.discover(bare)
    assert g.bare and g.root == bare.resolve()
    assert GitTree(g, second).read("environments/staging/models/m.yaml") == b"b: 1\n"
    with pytest.raises(LLMGitOpsError):
        Git.discover(tmp_path)


def test_history_sees_every_blob_of_the_paths(two_commits: tuple[Path, str, str]) -> None:
    root, first, second = two_commits
    g = Git.discover(root)
    entries = path_history(g, second, [":(glob)environments/*/prompts/p3.yaml"])
    assert [e.commit for e in entries] == [second, first]
    assert len({e.blob for e in entries}) == 2
    # a merge that resolves content no parent had is seen too
    git(root, "checkout", "-q", "-b", "side", first)
    _write(root, {"environments/dev/prompts/p3.yaml": "a: side\n"})
    commit_all(root, "side")
    git(root, "checkout", "-q", "main")
    conflict = subprocess.run(["git", "merge", "-q", "side", "-m", "merge"], cwd=root, capture_output=True)
    assert conflict.returncode != 0
    _write(root, {"environments/dev/prompts/p3.yaml": "a: resolved\n"})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "resolve")
    blobs = {e.blob for e in path_history(g, "HEAD", [":(glob)environments/*/prompts/p3.yaml"])}
    resolved = git(root, "rev-parse", "HEAD:environments/dev/prompts/p3.yaml")
    assert resolved in blobs and len(blobs) == 4


def test_parse_ref_updates() -> None:
    a, b, z = "a" * 40, "b" * 40, "0" * 40
    assert parse_ref_updates(f"refs/heads/main {b} refs/heads/main {a}\n", "pre-push") == [
        RefUpdate("refs/heads/main", a, b)]
    assert parse_ref_updates(f"{z} {b} refs/heads/new\n{a} {z} refs/heads/gone\n\n", "pre-receive") == [
        RefUpdate("refs/heads/new", None, b), RefUpdate("refs/heads/gone", a, None)]
    for bad, mode in ((f"{a} {b}", "pre-receive"), (f"{a} {b} refs/heads/x", "pre-push"),
                      ("junk; rm -rf / x y", "pre-push")):
        with pytest.raises(LLMGitOpsError) as exc:
            parse_ref_updates(bad, mode)
        assert exc.value.exit_code == 2


def test_base_for_a_new_branch_is_the_known_boundary(two_commits: tuple[Path, str, str]) -> None:
    root, first, second = two_commits
    g = Git.discover(root)
    git(root, "branch", "known", first)
    git(root, "checkout", "-q", "-b", "feature", first)
    _write(root, {"environments/dev/prompts/p9.yaml": "a: feature\n"})
    tip = commit_all(root, "feature")
    git(root, "checkout", "-q", "known")  # --all includes HEAD
    known = ["--exclude=refs/heads/feature", "--exclude=refs/heads/main", "--all"]
    assert base_for(g, RefUpdate("refs/heads/feature", None, tip), known) == first
    assert base_for(g, RefUpdate("refs/heads/main", first, second), known) == first
    assert base_for(g, RefUpdate("refs/heads/copy", None, first), known) == first  # nothing new
    orphan = ["--remotes=nowhere"]  # nothing known: the whole history is new
    assert base_for(g, RefUpdate("refs/heads/feature", None, tip), orphan) is None


def test_ledger_is_walked_once_then_extended(two_commits: tuple[Path, str, str]) -> None:
    from llmgitops.gitrepo.ledger import manifest_history

    root, first, second = two_commits
    wanted = {("prompts", "p3")}
    CountingGit.started = []
    g = CountingGit(root)
    assert [e.commit for e in manifest_history(g, first, "refs/heads/main", wanted)] == [first]
    assert [e.commit for e in manifest_history(g, second, "refs/heads/main", wanted)] == [second, first]
    walks = [a for a in CountingGit.started if a[:1] == ("log",)]
    assert len(walks) == 2 and f"^{first}" in walks[1]  # the second walk covers only the new commit
    CountingGit.started = []
    assert len(manifest_history(g, second, "refs/heads/main", wanted)) == 2
    assert not [a for a in CountingGit.started if a[:1] == ("log",)]  # up to date: no walk at all
    # a ref that moved backwards (or anywhere but forward) is walked again, not trusted
    assert [e.commit for e in manifest_history(g, first, "refs/heads/main", wanted)] == [first]


def test_ledger_survives_garbage_and_unwritable_git_directories(two_commits: tuple[Path, str, str]) -> None:
    from llmgitops.gitrepo.ledger import manifest_history

    root, _, second = two_commits
    ledgers = root / ".git" / "llmgitops"
    ledgers.mkdir()
    (ledgers / "history-refs_heads_main").write_bytes(b"\x00garbage\nnot a ledger\n")
    g = Git.discover(root)
    assert len(manifest_history(g, second, "refs/heads/main", {("prompts", "p3")})) == 2
    assert (ledgers / "history-refs_heads_main").read_bytes().startswith(b"llmgitops-ledger v1 " + second.encode())
    shutil.rmtree(ledgers)
    ledgers.write_text("a file where the ledger folder would go: nothing can be stored\n")
    assert len(manifest_history(g, second, "refs/heads/other", {("prompts", "p3")})) == 2
    assert ledgers.is_file()
