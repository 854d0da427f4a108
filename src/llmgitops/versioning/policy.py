"""The check-versions policy: does every changed manifest carry the version its change demands?

Work is proportional to the change: git lists the changed files, only those manifests (and the ones
that reference a changed pointer or data file) are loaded, other environments are probed at the same
file names only, and history comes from the ref's ledger (``gitrepo.ledger``), which walks only commits
it has not seen.

Findings:
  version/not-bumped, version/insufficient-bump, version/backwards, version/invalid  (per changed manifest)
  version/environment-conflict  same kind, name and version, other content, in another environment
  version/reused                a version the base ref's history published with other content
  version/bump-without-change   (warning) version moved, content did not
  version/editorial-claim       (warning) a wording change claimed editorial by annotation
  version/removed (info), version/removed-referenced (error)
  version/base-unreadable       (warning) the base manifest does not load, so the new one counts as added
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..findings import Finding, Severity
from ..gitrepo import Blob, ChangedPath, Git, GitTree, HistoryEntry, read_blobs
from ..gitrepo.ledger import manifest_history
from ..manifests.kinds import ENVIRONMENTS_DIR, KINDS, YAML_SUFFIXES
from ..manifests.loader import MAX_BYTES, load_bytes
from ..manifests.ranges import parse_version
from ..manifests.references import references
from ..manifests.repository import Manifest, Repository, expected_kind
from .catalog import EDITORIAL_ANNOTATION, EDITORIAL_VALUE
from .diff import diff_manifests
from .files import all_referenced_paths
from .model import Level, ManifestChange, Status, minimal_version

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
Identity = tuple[str, str, str]  # environment, kind, name


@dataclass
class CheckResult:
    changes: list[ManifestChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def is_manifest_path(relpath: str) -> bool:
    env, kind, _ = expected_kind(relpath)
    return env is not None and kind is not None and kind.promotable and relpath.endswith(YAML_SUFFIXES)


def _identity(m: Manifest) -> Identity | None:
    if m.environment is None or m.kind not in KINDS or not KINDS[m.kind].promotable:
        return None
    return (m.environment, m.kind, m.name or m.stem)


def _summarise(change: ManifestChange, limit: int = 4) -> str:
    parts = []
    for level in (Level.MAJOR, Level.MINOR, Level.PATCH):
        hits = change.rules_for(level)
        if not hits:
            continue
        shown = ", ".join(f"{h.rule} ({h.json_path})" for h in hits[:limit])
        more = f" and {len(hits) - limit} more" if len(hits) > limit else ""
        parts.append(f"{level.label}: {shown}{more}")
    return "; ".join(parts)


def policy_findings(change: ManifestChange, new: Manifest | None) -> list[Finding]:
    """What the version rules say about one change (the comparisons across environments and history
    are separate)."""
    if new is None or change.status in (Status.REMOVED, Status.UNCHANGED):
        return []
    if new.version is None:
        return [_invalid(new)]
    out: list[Finding] = []

    def report(rule: str, message: str, hint: str, severity: Severity = Severity.ERROR) -> None:
        out.append(new.finding(("spec", "version"), rule, message, hint, severity))

    if change.editorial_claim:
        report("version/editorial-claim",
               f"{change.kind} {change.name}: wording changes are claimed editorial by "
               f"{EDITORIAL_ANNOTATION}: {EDITORIAL_VALUE}, so they require only a patch bump",
               "remove the annotation once this change is reviewed: it applies to later wording changes too",
               Severity.WARNING)
    old_v, new_v = change.old_version, change.new_version
    if change.status is Status.ADDED or old_v is None or new_v is None:
        return out  # new artifacts (and ones whose base version was invalid) may start anywhere
    o, n = parse_version(old_v), parse_version(new_v)
    assert o is not None and n is not None
    required, label = change.required, f"{change.kind} {change.name}"
    order = n.compare(o)
    if order < 0:
        report("version/backwards", f"{label}: spec.version went backwards, {old_v} -> {new_v}",
               f"versions only move forward: {minimal_version(old_v, max(required, Level.PATCH))} comes next")
    elif order == 0 and required > Level.NONE:
        report("version/not-bumped",
               f"{label} changed but spec.version is still {new_v}; the change requires a {required.label} "
               f"bump ({_summarise(change)})",
               f"run `llmgitops bump {change.new_path}` (writes {minimal_version(old_v, required)})")
    elif order > 0 and required is Level.NONE:
        report("version/bump-without-change",
               f"{label}: spec.version moved {old_v} -> {new_v} but the content did not change",
               "revert the version, or make the change it announces", Severity.WARNING)
    elif order > 0 and (change.achieved is None or change.achieved < required):
        reached = change.achieved.label if change.achieved is not None else "no"
        report("version/insufficient-bump",
               f"{label}: {old_v} -> {new_v} is a {reached} bump, but the change requires "
               f"{required.label} ({_summarise(change)})",
               f"set spec.version to {minimal_version(old_v, required)} or higher, or run "
               f"`llmgitops bump {change.new_path}`")
    return out


def _invalid(m: Manifest) -> Finding:
    return m.finding(("spec", "version"), "version/invalid",
                     "spec.version is missing or not a semantic version (MAJOR.MINOR.PATCH)",
                     "write it as a quoted string such as \"1.0.0\"")


class VersionCheck:
    """check-versions between a base commit (None: nothing before) and a head tree (a commit or the index)."""

    def __init__(self, git: Git, base: str | None, head: GitTree, history_rev: str | None,
                 history_key: str = "HEAD") -> None:
        self.git = git
        self.base = GitTree(git, base) if base is not None else None
        self.head = head
        self.history_rev = history_rev
        self.history_key = history_key  # names the ledger of history_rev's ref (gitrepo.ledger)
        self.result = CheckResult()

    # -- loading ---------------------------------------------------------------------------------------

    def _load(self, tree: GitTree | None, paths: Iterable[str], side: str | None) -> dict[str, Manifest]:
        """The manifests among ``paths`` that exist in ``tree``. Ones that do not load are reported for
        ``side`` "new" (as the loader's findings) and "old" (as version/base-unreadable), and skipped
        silently for None: probes of other files are some other check's business."""
        paths = sorted(set(paths))
        if tree is None or not paths:
            return {}
        tree.prefetch(paths)
        repo = Repository(tree)
        out = {}
        for path in paths:
            if not tree.exists(path):
                continue
            manifest, findings = repo.load_file(path)
            if manifest is not None:
                out[path] = manifest
            elif side == "new":
                self.result.findings.extend(findings)
            elif side == "old":
                problem = findings[0].message if findings else "it does not load"
                self.result.findings.append(Finding(path, 0, 0, "version/base-unreadable", Severity.WARNING,
                                                    f"the manifest at the base ({tree.label}) does not load: "
                                                    f"{problem}; it is compared as newly added"))
        return out

    def _paths_to_check(self, changed: list[ChangedPath]) -> list[str]:
        manifests = {c.path for c in changed if is_manifest_path(c.path)}
        others = [c.path for c in changed if not c.path.startswith(ENVIRONMENTS_DIR + "/")]
        if others:
            # a manifest whose pointer or data file changed has changed too
            for path in self.head.grep(others, ENVIRONMENTS_DIR):
                if is_manifest_path(path):
                    manifests.add(path)
        return sorted(manifests)

    # -- the check -------------------------------------------------------------------------------------

    def run(self, changed: list[ChangedPath]) -> CheckResult:
        paths = self._paths_to_check(changed)
        old = self._load(self.base, paths, "old")
        new = self._load(self.head, paths, "new")
        referenced = all_referenced_paths([*old.values(), *new.values()])
        if self.base is not None:
            self.base.prefetch(referenced)
        self.head.prefetch(referenced)

        pairs: dict[Identity, list[Manifest | None]] = {}
        for m in old.values():
            key = _identity(m)
            if key is not None:
                pairs.setdefault(key, [None, None])[0] = m
        for m in new.values():
            key = _identity(m)
            if key is not None:
                pairs.setdefault(key, [None, None])[1] = m

        fresh: list[Manifest] = []  # versions new to their environment
        for key in sorted(pairs):
            before, after = pairs[key]
            change = diff_manifests(before, after, old_files=self.base, new_files=self.head)
            if change.status is not Status.UNCHANGED:  # e.g. a manifest that merely mentions a changed path
                self.result.changes.append(change)
            self.result.findings.extend(policy_findings(change, after))
            if after is not None and after.version is not None and (
                    change.status is Status.ADDED or change.version_changed):
                fresh.append(after)
            if change.status is Status.REMOVED and before is not None:
                self._removed(change, before)
        self._across_environments(fresh)
        self._history(fresh)
        return self.result

    def _removed(self, change: ManifestChange, before: Manifest) -> None:
        env = before.environment or ""
        what = " ".join(x for x in (change.kind, change.name, change.old_version) if x)
        self.result.findings.append(Finding(before.relpath, 0, 0, "version/removed", Severity.INFO,
                                            f"{what} is removed from {env}"))
        prefix = f"{ENVIRONMENTS_DIR}/{env}"
        candidates = [p for p in self.head.grep([change.name], prefix) if is_manifest_path(p)]
        for referrer in self._load(self.head, candidates, None).values():
            for ref in references(referrer):
                if ref.kind == change.kind and ref.name == change.name:
                    self.result.findings.append(referrer.finding(
                        (*ref.path, "name"), "version/removed-referenced",
                        f"{referrer.kind} {referrer.name} refers to {change.kind} {change.name}, which this "
                        f"change removes from {env}", "keep the artifact, or update the reference first"))

    def _across_environments(self, manifests: list[Manifest]) -> None:
        """The same name and version must mean the same content in every environment."""
        if not manifests:
            return
        envs = self.head.subdirs(ENVIRONMENTS_DIR)
        probes: dict[str, Manifest] = {}
        for m in manifests:
            if m.kind is None or m.name is None or not DNS_LABEL.match(m.name):
                continue
            folder = KINDS[m.kind].folder
            for env in envs:
                if env == m.environment:
                    continue
                for suffix in YAML_SUFFIXES:
                    probes[f"{ENVIRONMENTS_DIR}/{env}/{folder}/{m.name}{suffix}"] = m
        self.head.prefetch(probes)
        # a manifest can only carry the same version if its text spells it: skip the others unparsed
        probes = {p: m for p, m in probes.items()
                  if self.head.exists(p) and m.version is not None and m.version.encode() in self.head.read(p)}
        others = self._load(self.head, probes, None)
        self.head.prefetch(all_referenced_paths(others.values()))
        for path, other in sorted(others.items()):
            mine = probes[path]
            if other.kind != mine.kind or other.name != mine.name or other.version != mine.version:
                continue
            change = diff_manifests(other, mine, old_files=self.head, new_files=self.head)
            if change.content_changed:
                self.result.findings.append(mine.finding(
                    ("spec", "version"), "version/environment-conflict",
                    f"{mine.kind} {mine.name} {mine.version} differs from the same version in {path} "
                    f"({_summarise(change, 2)})",
                    "one name and version is one content everywhere: bump the version here, or copy the "
                    "other environment's manifest exactly"))

    def _past(self, entry: HistoryEntry, blobs: dict[str, Blob]) -> Manifest | None:
        blob = blobs.get(entry.blob)
        if blob is None:
            return None
        loaded = load_bytes(blob.head, entry.path)
        if loaded.document is None:
            return None
        env, kind, _ = expected_kind(entry.path)
        past = Manifest(entry.path, env, kind, loaded.document, blob.head)
        return past if past.kind and past.name and past.version else None

    def _history(self, fresh: list[Manifest]) -> None:
        """A version the base ref's history published never comes back with other content."""
        if self.history_rev is None or not fresh:
            return
        wanted: dict[tuple[str, str], list[Manifest]] = {}
        for m in fresh:
            if m.kind is not None and m.name is not None:
                wanted.setdefault((m.kind, m.name), []).append(m)
        folders = {(KINDS[kind].folder, name) for kind, name in wanted}
        entries = manifest_history(self.git, self.history_rev, self.history_key, folders)
        blobs = read_blobs(self.git, [e.blob for e in entries], MAX_BYTES + 1)
        reported: set[str] = set()
        compared: set[tuple[str, str]] = set()  # (manifest, blob): one blob, one comparison
        spelled: dict[str, set[bytes]] = {}  # file stem -> the versions to look for
        for (_, name), ms in wanted.items():
            spelled.setdefault(name, set()).update(m.version.encode() for m in ms if m.version)
        parsed: dict[str, Manifest | None] = {}
        for entry in entries:  # newest first
            if entry.blob not in parsed:
                blob = blobs.get(entry.blob)
                stem = entry.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                # only a blob that spells the version can publish it: skip the others unparsed
                relevant = blob is not None and any(v in blob.head for v in spelled.get(stem, ()))
                parsed[entry.blob] = self._past(entry, blobs) if relevant else None
            past = parsed[entry.blob]
            if past is None:
                continue
            for mine in wanted.get((past.kind or "", past.name or ""), []):
                if past.version != mine.version or mine.relpath in reported or (mine.relpath, entry.blob) in compared:
                    continue
                compared.add((mine.relpath, entry.blob))
                past_tree = GitTree(self.git, entry.commit)
                past_tree.prefetch(all_referenced_paths([past]))
                change = diff_manifests(past, mine, old_files=past_tree, new_files=self.head)
                if change.content_changed:
                    reported.add(mine.relpath)
                    self.result.findings.append(mine.finding(
                        ("spec", "version"), "version/reused",
                        f"{mine.kind} {mine.name} {mine.version} was published with other content in "
                        f"{entry.commit[:12]} ({entry.path}): {_summarise(change, 2)}",
                        "published versions are immutable: choose a version that was never used"))
