"""Semantic versioning of manifests: what a change demands, and whether the version says so.

Public API (other areas code against these names only)::

    from llmgitops.versioning import Level, ManifestChange, RuleHit, Status
    from llmgitops.versioning import compare_environments, diff_manifests

    change = diff_manifests(old_manifest, new_manifest, old_files=old_source, new_files=new_source)
    change.status      # Status.ADDED / REMOVED / CHANGED / UNCHANGED
    change.required    # Level.NONE < PATCH < MINOR < MAJOR: the minimum bump the content demands
    change.achieved    # the level the old -> new version move reaches (None: not forward)
    change.hits        # [RuleHit(rule, level, path, message, flags)], e.g. prompt/input-removed, MAJOR
    change.flags       # ("requires-reembed", "requires-index-rebuild", "requires-retrain",
                       #  "requires-rebaseline", "gate-relaxation") in that order, those present
    change.to_dict()   # the JSON shape `check-versions --format json` prints in "changes"

    compare_environments(to_env.promotable, from_env.promotable, old_files=src, new_files=src)
        -> [ManifestChange], one per (kind, name), sorted; what promoting ``from_env`` into ``to_env``
        changes there.

The rule catalog (ids, levels, flags, reasons) is ``llmgitops.versioning.catalog.CATALOG``.
"""

from __future__ import annotations

from .diff import compare_environments, diff_manifests
from .model import (
    FLAGS,
    GATE_RELAXATION,
    REQUIRES_INDEX_REBUILD,
    REQUIRES_REBASELINE,
    REQUIRES_REEMBED,
    REQUIRES_RETRAIN,
    Level,
    ManifestChange,
    RuleHit,
    Status,
    achieved_level,
    json_path,
    minimal_version,
)

__all__ = [
    "FLAGS",
    "GATE_RELAXATION",
    "REQUIRES_INDEX_REBUILD",
    "REQUIRES_REBASELINE",
    "REQUIRES_REEMBED",
    "REQUIRES_RETRAIN",
    "Level",
    "ManifestChange",
    "RuleHit",
    "Status",
    "achieved_level",
    "compare_environments",
    "diff_manifests",
    "json_path",
    "minimal_version",
]
