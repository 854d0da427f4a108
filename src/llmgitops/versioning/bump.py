"""``bump``: write the version a change requires, touching nothing but the version scalar.

The edit is textual: the loader says where ``spec.version`` starts, libyaml where it ends, and only those
characters are replaced (keeping the quote style). The result is re-loaded and must equal the original
data except for the version, and it is written atomically (temporary file, fsync, ``os.replace``), so
comments, quoting, key order, line endings and formatting survive byte for byte.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..atomicfile import write_bytes
from ..findings import Finding, Severity
from ..gitrepo import Git, GitTree, changed_paths, grep, resolve
from ..gitrepo.tree import WORKTREE
from ..manifests.kinds import ENVIRONMENTS_DIR, YAML_SUFFIXES
from ..manifests.loader import Document, decode, load_text
from ..manifests.ranges import RangeError, parse_range
from ..manifests.references import references
from ..manifests.repository import Manifest, Repository
from ..manifests.source import WorkingTree
from .diff import VERSION_PATH, diff_manifests, get, same
from .files import all_referenced_paths
from .model import Level, ManifestChange, Status, achieved_level, increment, minimal_version
from .policy import is_manifest_path

BOM = "\ufeff"


class EditError(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


@dataclass
class Bumped:
    path: str
    change: ManifestChange
    before: str | None  # the version in the file before
    after: str | None  # the version written; None when the file was left alone
    reason: str


@dataclass
class BumpResult:
    bumped: list[Bumped] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def replace_version(raw: bytes, relpath: str, new_version: str) -> bytes:
    """``raw`` with the ``spec.version`` scalar replaced by ``new_version``; nothing else changes."""
    text, problems = decode(raw, relpath)
    if text is None:
        raise EditError(problems[0].rule, problems[0].message)
    loaded = load_text(text, relpath)
    if loaded.document is None:
        raise EditError(loaded.findings[0].rule, loaded.findings[0].message)
    doc = loaded.document
    start, end, style = _version_span(text, doc)
    if style in ("|", ">"):
        raise EditError("version/block-scalar", "spec.version is a block scalar; write it as \"1.2.3\"")
    quote = style if style in ("'", '"') else ""
    edited = text[:start] + quote + new_version + quote + text[end:]
    check = load_text(edited, relpath)
    if check.document is None or not _same_but_version(doc, check.document, new_version):
        raise EditError("version/block-scalar", "spec.version could not be edited in place safely")
    had_bom = raw.startswith(BOM.encode("utf-8"))
    return (BOM if had_bom else "").encode("utf-8") + edited.encode("utf-8")


def _version_span(text: str, doc: Document) -> tuple[int, int, str | None]:
    pos = doc.values.get(VERSION_PATH)
    if pos is None:
        raise EditError("version/invalid", "the manifest has no spec.version to bump")
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        start, end = event.start_mark, event.end_mark
        if isinstance(event, yaml.ScalarEvent) and start and end and (start.line + 1, start.column + 1) == pos:
            return start.index, end.index, event.style
    raise EditError("version/invalid", "spec.version is not a plain value")


def _same_but_version(before: Document, after: Document, version: str) -> bool:
    if get(after.data, VERSION_PATH) != version:
        return False
    a = {**before.data, "spec": {**before.data.get("spec", {}), "version": version}}
    return same(a, after.data)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, keeping its permissions; fsynced, as users edit these."""
    write_bytes(path, data, mode=stat.S_IMODE(path.stat().st_mode), durable=True)


def _targets(git: Git, root: Path, base: str, paths: list[Path], findings: list[Finding]) -> list[str]:
    if paths:
        out: set[str] = set()
        tree = WorkingTree(root)
        for p in paths:
            absolute = (p if p.is_absolute() else Path.cwd() / p).resolve()
            if absolute != root and root not in absolute.parents:
                findings.append(Finding(str(p), 0, 0, "path/outside-repository", Severity.ERROR,
                                        f"{p} is outside the repository at {root}"))
                continue
            rel = absolute.relative_to(root).as_posix()
            rel = "" if rel == "." else rel
            if absolute.is_dir():
                out.update(f for f in tree.files(rel or ENVIRONMENTS_DIR) if is_manifest_path(f))
            elif is_manifest_path(rel):
                out.add(rel)
            else:
                findings.append(Finding(rel, 0, 0, "layout/unexpected-file", Severity.WARNING,
                                        "not a versioned manifest (environments/<env>/<folder>/<name>.yaml)"))
        return sorted(out)
    changed = changed_paths(git, base, WORKTREE)
    manifests = {c.path for c in changed if is_manifest_path(c.path) and c.status != "D"}
    others = [c.path for c in changed if not c.path.startswith(ENVIRONMENTS_DIR + "/")]
    if others:
        manifests.update(p for p in grep(git, others, ENVIRONMENTS_DIR, []) if is_manifest_path(p))
    return sorted(manifests)


def bump(root: Path, paths: list[Path], level: Level | None = None, base_ref: str = "HEAD",
         dry_run: bool = False) -> BumpResult:
    """Raise ``spec.version`` of changed manifests to what their change requires (or by ``level``)."""
    git = Git.discover(root)
    root = git.root.resolve()
    result = BumpResult()
    base = resolve(git, base_ref)
    if base is None:
        return result  # no commit yet: every manifest is new, any valid version will do
    targets = _targets(git, root, base, paths, result.findings)
    old_tree, new_tree = GitTree(git, base), WorkingTree(root)
    old_tree.prefetch(targets)
    old_repo, new_repo = Repository(old_tree), Repository(new_tree)
    written: list[Manifest] = []
    for relpath in targets:
        new, problems = new_repo.load_file(relpath)
        if new is None:
            result.findings.extend(problems)
            continue
        old = old_repo.load_file(relpath)[0] if old_tree.exists(relpath) else None
        if old is not None and (old.kind, old.name) != (new.kind, new.name):
            old = None
        if old is not None:
            old_tree.prefetch(all_referenced_paths([old]))
        change = diff_manifests(old, new, old_files=old_tree, new_files=new_tree)
        outcome = _decide(change, new, level)
        if isinstance(outcome, Finding):
            result.findings.append(outcome)
            result.bumped.append(Bumped(relpath, change, new.version, None, outcome.message))
            continue
        target, reason = outcome
        if target is None:
            result.bumped.append(Bumped(relpath, change, new.version, None, reason))
            continue
        try:
            data = replace_version(new.raw, relpath, target)
        except EditError as exc:
            result.findings.append(new.finding(VERSION_PATH, exc.rule, str(exc)))
            continue
        if not dry_run:
            write_atomic(root / relpath, data)
        result.bumped.append(Bumped(relpath, change, new.version, target, reason))
        reloaded = load_text(data.decode("utf-8").lstrip(BOM), relpath).document
        assert reloaded is not None
        written.append(Manifest(relpath, new.environment, new.expected, reloaded, data))
    result.findings.extend(unsatisfied_references(git, root, written))
    return result


Decision = tuple[str | None, str] | Finding


def _decide(change: ManifestChange, new: Manifest, level: Level | None) -> Decision:
    """(version to write or None, why) for one manifest, or a finding when it cannot be bumped."""
    if change.status is Status.ADDED:
        return None, "new artifact: any valid version will do"
    old_v = change.old_version
    if old_v is None:
        return new.finding(VERSION_PATH, "version/invalid",
                           "the version at the base is missing or invalid, so there is nothing to bump from",
                           "write the version by hand")
    required = change.required
    if level is not None:
        target = increment(old_v, level)
        reached = achieved_level(old_v, target) or Level.NONE
        if reached < required:
            return new.finding(VERSION_PATH, "version/insufficient-bump",
                               f"--level {level.label} gives {target}, but the change requires "
                               f"{required.label}",
                               f"run without --level to write {minimal_version(old_v, required)}")
        if new.version == target:
            return None, f"already at {target}"
        return target, f"--level {level.label}"
    if required is Level.NONE:
        return None, "content unchanged"
    current = new.version
    if current is not None and (achieved_level(old_v, current) or Level.NONE) >= required:
        return None, f"{current} already satisfies the required {required.label} bump"
    return minimal_version(old_v, required), f"{required.label} required by " + ", ".join(
        dict.fromkeys(h.rule for h in change.hits if h.level is required))


def unsatisfied_references(git: Git, root: Path, written: list[Manifest]) -> list[Finding]:
    """References in the same environment that the newly written versions no longer satisfy."""
    findings: list[Finding] = []
    tree = WorkingTree(root)
    repo = Repository(tree)
    for m in written:
        if m.environment is None or m.name is None or m.version is None:
            continue
        prefix = f"{ENVIRONMENTS_DIR}/{m.environment}"
        for path in grep(git, [m.name], prefix, []):
            if not path.endswith(YAML_SUFFIXES) or path == m.relpath or not tree.exists(path):
                continue
            referrer, _ = repo.load_file(path)
            if referrer is None:
                continue
            for ref in references(referrer):
                if ref.kind != m.kind or ref.name != m.name:
                    continue
                try:
                    ok = parse_range(ref.range).satisfied_by(m.version)
                except RangeError:
                    continue
                if not ok:
                    findings.append(referrer.finding(
                        (*ref.path, "version"), "ref/version-unsatisfied",
                        f"{m.kind} {m.name!r} is now at {m.version} in {m.environment!r}, which does not "
                        f"satisfy {ref.range!r}", "update the range to admit the new version"))
    return findings
