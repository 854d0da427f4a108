"""What a RagConfig change forces on the index, with the reasons.

The classification is the versioning rule catalog's (``llmgitops.versioning``): its RagConfig rules carry
the flags ``requires-reembed`` and ``requires-index-rebuild``, and their reasons. This module only turns the
hits of one diff into one action, the strongest that any hit demands:

    reembed     build a new collection from freshly embedded chunks (model, revision, dimensions,
                normalisation, prefixes, chunking, parsing, distance, store, sources, collection name)
    rebuild     rebuild the index from stored vectors (HNSW m/efConstruction, index kind, quantization)
    query-only  change how queries run, the index stays (topK, reranker, scoreThreshold, efSearch)
    none        nothing the index or its queries depend on (descriptions, labels, batch size)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..manifests.loader import Document
from ..manifests.repository import Manifest
from ..versioning import REQUIRES_INDEX_REBUILD, REQUIRES_REEMBED, Level, RuleHit
from ..versioning.catalog import CATALOG
from ..versioning.diff import semantic_hits

ACTIONS = ("none", "query-only", "rebuild", "reembed")  # weakest first


@dataclass(frozen=True)
class Reason:
    rule: str
    path: str
    message: str
    reason: str  # the catalog's explanation of why the rule demands what it does

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "path": self.path, "message": self.message, "reason": self.reason}


@dataclass(frozen=True)
class Compatibility:
    action: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    level: Level = Level.NONE

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "level": self.level.label, "reasons": [r.to_dict() for r in self.reasons]}


def action_of(hit: RuleHit) -> str:
    if REQUIRES_REEMBED in hit.flags:
        return "reembed"
    if REQUIRES_INDEX_REBUILD in hit.flags:
        return "rebuild"
    if hit.rule == "manifest/unclassified-change":
        return "reembed"  # a change no rule understands might change the vectors: assume the worst
    # the remaining RagConfig rules that ask for a new baseline change what queries return (topK, reranker,
    # scoreThreshold, efSearch); batch size, descriptions and labels change nothing retrieved
    return "query-only" if hit.rule.startswith("rag/") and hit.flags else "none"


def _as_manifest(value: Manifest | dict[str, Any], label: str) -> Manifest:
    if isinstance(value, Manifest):
        return value
    if not isinstance(value, dict):
        raise TypeError(f"{label}: a RagConfig manifest or its data as a mapping, not {type(value).__name__}")
    data = value if "spec" in value else {"apiVersion": "llmgitops.dev/v1alpha1", "kind": "RagConfig",
                                          "metadata": {"name": "ragconfig"}, "spec": value}
    return Manifest(label, None, None, Document(label, "", data), b"")


def assess(old: Manifest | dict[str, Any], new: Manifest | dict[str, Any]) -> Compatibility:
    """The index action a change from ``old`` to ``new`` forces. Each argument is a loaded Manifest, a
    whole manifest mapping, or just its ``spec`` mapping."""
    before, after = _as_manifest(old, "old"), _as_manifest(new, "new")
    for manifest in (before, after):
        if manifest.kind != "RagConfig":
            raise ValueError(f"compat.assess compares RagConfigs, not {manifest.kind!r}")
    hits, _ = semantic_hits(before, after)
    reasons: list[Reason] = []
    strongest = "none"
    for hit in hits:
        action = action_of(hit)
        if action == "none":
            continue
        if ACTIONS.index(action) > ACTIONS.index(strongest):
            strongest = action
        rule = CATALOG.get(hit.rule)
        reasons.append(Reason(hit.rule, hit.json_path, hit.message, rule.reason if rule else hit.message))
    level = max((h.level for h in hits), default=Level.NONE)
    return Compatibility(strongest, tuple(reasons), level)
