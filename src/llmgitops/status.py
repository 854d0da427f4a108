"""`llmgitops status`: every artifact in every environment, and where promotions stand.

Environments are ordered along the promotion chain (dev, then what promotes from dev, ...). A version is
*ahead* when the next environment down the chain lacks it, *behind* when the environment it promotes from
has another one, and *pending* when an unmerged promotion branch (``promote/<env>/*``, local or a
remote's) would bring another version in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .manifests.repository import Repository
from .manifests.source import Source
from .pipeline.settings import settings_of

Key = tuple[str, str]


@dataclass
class Cell:
    version: str | None
    ahead: bool = False
    behind: bool = False
    pending: list[tuple[str, str | None]] = field(default_factory=list)  # (branch, version)

    @property
    def marks(self) -> list[str]:
        out = []
        if self.ahead:
            out.append("ahead")
        if self.behind:
            out.append("behind")
        if self.pending:
            out.append("pending")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ahead": self.ahead, "behind": self.behind,
                "pending": [{"branch": b, "version": v} for b, v in self.pending]}


@dataclass
class Status:
    environments: list[str]
    sources: dict[str, str | None]
    rows: dict[Key, dict[str, Cell]]

    def to_dict(self) -> dict[str, Any]:
        return {"environments": [{"name": e, "promotesFrom": self.sources.get(e)} for e in self.environments],
                "artifacts": [{"kind": k, "name": n, "environments": {e: c.to_dict() for e, c in cells.items()}}
                              for (k, n), cells in sorted(self.rows.items())]}


def chain_order(sources: dict[str, str | None]) -> list[str]:
    """Environments ordered so each comes after the one it promotes from (ties by name)."""
    ordered: list[str] = []
    remaining = sorted(sources)
    while remaining:
        ready = [e for e in remaining if sources[e] is None or sources[e] in ordered or sources[e] not in sources]
        if not ready:  # a cycle: validation reports it; list the rest by name
            ready = remaining
        for env in ready:
            ordered.append(env)
            remaining.remove(env)
            break
    return ordered


def _versions(repo: Repository, env: str) -> dict[Key, str | None]:
    return {(m.kind, m.name): m.version for m in repo.environment(env).promotable if m.kind and m.name}


def compute(source: Source, branches: dict[str, Source] | None = None) -> Status:
    """``branches`` maps promotion branch names (promote/<env>/<id>) to their trees."""
    repo = Repository(source)
    names = repo.environment_names()
    sources: dict[str, str | None] = {}
    for env in names:
        manifest = repo.environment(env).environment
        sources[env] = settings_of(manifest).source if manifest is not None else None
    order = chain_order(sources)
    versions = {env: _versions(repo, env) for env in order}
    keys = sorted({k for v in versions.values() for k in v})
    rows: dict[Key, dict[str, Cell]] = {k: {e: Cell(versions[e].get(k)) for e in order} for k in keys}
    for env in order:
        upstream = sources.get(env)
        for key in keys:
            cell = rows[key][env]
            if upstream in versions:
                theirs = versions[upstream].get(key)
                cell.behind = theirs is not None and theirs != cell.version
            downstream = [d for d, s in sources.items() if s == env and d in versions]
            cell.ahead = cell.version is not None and any(versions[d].get(key) != cell.version for d in downstream)
    for branch, tree in sorted((branches or {}).items()):
        parts = branch.split("/")
        env = parts[-2] if len(parts) >= 3 else ""
        if env not in versions:
            continue
        incoming = _versions(Repository(tree), env)
        for key in sorted(set(incoming) | set(versions[env])):
            if incoming.get(key) == versions[env].get(key):
                continue
            row = rows.setdefault(key, {e: Cell(versions[e].get(key)) for e in order})
            row[env].pending.append((branch, incoming.get(key)))
    return Status(order, sources, rows)


def promotion_branches(git: Any) -> dict[str, Source]:
    """Unmerged promotion branches, local and remote-tracking, as trees (a remote's copy of a local branch
    is the same promotion and is listed once)."""
    from .gitrepo import GitTree

    head = git.text("rev-parse", "--verify", "--quiet", "HEAD", ok=(0, 1))
    out = git.text("for-each-ref", "--format=%(refname)", "refs/heads/promote/", "refs/remotes/")
    found: dict[str, Source] = {}
    for ref in out.splitlines():
        if ref.startswith("refs/heads/"):
            name = ref[len("refs/heads/"):]
        else:
            name = ref.split("/", 3)[3] if ref.count("/") >= 3 else ""
        if not name.startswith("promote/") or name in found:
            continue
        merged = bool(head) and _is_ancestor(git, ref, head)
        if merged:
            continue
        found[name] = GitTree(git, ref)
    return found


def _is_ancestor(git: Any, ref: str, head: str) -> bool:
    import subprocess

    proc = subprocess.run(["git", "merge-base", "--is-ancestor", ref, head], cwd=git.root, capture_output=True,
                          check=False)
    return proc.returncode == 0


def as_text(status: Status) -> str:
    header = ["ARTIFACT", *status.environments]
    table = [header]
    for (kind, name), cells in sorted(status.rows.items()):
        row = [f"{kind}/{name}"]
        for env in status.environments:
            cell = cells[env]
            text = cell.version or "-"
            for branch, version in cell.pending:
                text += f" -> {version or 'removed'} (pending {branch})"
            marks = [m for m in cell.marks if m != "pending"]
            if marks:
                text += f" ({', '.join(marks)})"
            row.append(text)
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    chain = " -> ".join(status.environments)
    return "\n".join([f"promotion chain: {chain}", *lines]) + "\n"
