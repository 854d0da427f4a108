"""Blue/green re-indexing: build the new collection beside the old one, verify it, switch the alias, keep
the old collection for rollback.

Applications query the alias (the collection name without ``-v<major>``: ``product-docs``). Each
collection remembers the RagConfig that built it, so the next plan compares what serves now with what
Git asks for (``compat.assess``) and does only what the change forces:

    reembed / rebuild   build a new collection (chunks embedded through the cache, so a rebuild embeds
                        nothing), verify it, then switch the alias
    query-only / none   nothing to build: query settings are read by the application from the RagConfig

A collection name already taken (a rebuild within one major, or a leftover of a failed run) gets the
version as a suffix: ``product-docs-v1--1-2-0``. Verification failures delete the new collection and leave
the alias where it was.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LLMGitOpsError
from .compat import Compatibility, Reason, assess
from .spec import RagSpec
from .stores.base import CollectionSpec, Record, StoreError, VectorStore, check_name

if TYPE_CHECKING:
    from .embedding import Matrix

SELF_RETRIEVAL_SAMPLES = 20
SELF_RETRIEVAL_DEPTH = 10


class ReindexError(LLMGitOpsError):
    """The re-index could not be planned or its new collection failed verification."""


@dataclass(frozen=True)
class Step:
    name: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "detail": self.detail}


@dataclass(frozen=True)
class ReindexPlan:
    ragconfig: str
    version: str
    store: str
    alias: str
    action: str                 # reembed | rebuild | query-only | none
    serving: str | None         # the collection the alias points at now
    target: str | None          # the collection to build (None: nothing to build)
    reasons: tuple[Reason, ...]
    steps: tuple[Step, ...]

    @property
    def builds(self) -> bool:
        return self.target is not None

    def to_dict(self) -> dict[str, Any]:
        return {"ragconfig": self.ragconfig, "version": self.version, "store": self.store, "alias": self.alias,
                "action": self.action, "serving": self.serving, "target": self.target,
                "reasons": [r.to_dict() for r in self.reasons], "steps": [s.to_dict() for s in self.steps]}


def _versioned(collection: str, version: str) -> str:
    suffix = "--" + version.replace(".", "-").replace("+", "-")
    return check_name(collection[: 63 - len(suffix)] + suffix)


def plan_reindex(old: RagSpec | dict[str, Any] | None, new: RagSpec, *, serving: str | None = None,
                 existing: Sequence[str] = ()) -> ReindexPlan:
    """What it takes to serve ``new`` where ``old`` serves now (from ``serving``; None: nothing serves yet).

    ``old`` is the RagConfig spec that built the serving collection (a RagSpec or the spec mapping kept in
    the collection's info); ``existing`` the collections the store holds.
    """
    if old is None:
        why = (f"no collection serves alias {new.index.alias!r} yet" if serving is None
               else f"{serving} does not record the RagConfig that built it")
        compat = Compatibility("reembed", (Reason("rag/initial-build", "$.spec.index", why,
                                                  "A collection of unknown origin is rebuilt from scratch."),))
    else:
        compat = assess(_spec_data(old), _spec_data(new))
    alias = check_name(new.index.alias, "alias")
    if compat.action in ("query-only", "none"):
        detail = ("query settings change; the application reads them from the RagConfig"
                  if compat.action == "query-only" else "nothing the index depends on changed")
        return ReindexPlan(new.name, new.version, new.index.store, alias, compat.action, serving, None,
                           compat.reasons, (Step("keep", f"{serving} keeps serving: {detail}"),))
    target = new.index.collection
    if target in existing or target == serving:
        target = _versioned(target, new.version)
    steps = [
        Step("build", f"{'embed every chunk' if compat.action == 'reembed' else 'reuse stored vectors'} "
                      f"into new collection {target} ({new.index.store}, {new.index.kind}, {new.index.distance})"),
    ]
    if target in existing:
        steps.insert(0, Step("clear", f"delete {target}, left by an earlier run that did not finish"))
    steps += [
        Step("verify-count", f"{target} holds exactly one vector per chunk"),
        Step("verify-queries", f"sample chunks find themselves among the top {SELF_RETRIEVAL_DEPTH} in {target}"),
        Step("switch-alias", f"point {alias} at {target}" + (f" (was {serving})" if serving else "")),
    ]
    if serving:
        steps.append(Step("retain", f"keep {serving} for rollback"))
    return ReindexPlan(new.name, new.version, new.index.store, alias, compat.action, serving, target,
                       compat.reasons, tuple(steps))


def _spec_data(value: RagSpec | dict[str, Any]) -> dict[str, Any]:
    return value if isinstance(value, dict) else value.raw


@dataclass
class ReindexResult:
    plan: ReindexPlan
    ok: bool
    alias_target: str | None
    count: int | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, int] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message, "plan": self.plan.to_dict(),
                "aliasTarget": self.alias_target, "count": self.count, "checks": self.checks, "cache": self.cache}


BuildInputs = Callable[[], tuple[list[Record], "Matrix"]]


def verify(store: VectorStore, collection: str, records: Sequence[Record], vectors: Matrix,
           min_self_recall: float = 0.9) -> dict[str, Any]:
    """Count and sample-query checks of a freshly built collection; raises ReindexError on failure."""
    count = store.count(collection)
    checks: dict[str, Any] = {"expectedCount": len(records), "count": count}
    if count != len(records):
        raise ReindexError(f"{collection} holds {count} vectors, expected {len(records)}")
    if not records:
        return checks
    step = max(1, len(records) // SELF_RETRIEVAL_SAMPLES)
    sample = list(range(0, len(records), step))[:SELF_RETRIEVAL_SAMPLES]
    results = store.search(collection, vectors[sample], min(SELF_RETRIEVAL_DEPTH, len(records)))
    found = sum(1 for i, hits in zip(sample, results, strict=True) if any(h.id == records[i].id for h in hits))
    checks["sampleQueries"] = len(sample)
    checks["selfRecall"] = found / len(sample)
    if found / len(sample) < min_self_recall:
        raise ReindexError(f"{collection}: only {found} of {len(sample)} sample chunks find themselves among "
                           f"the top {SELF_RETRIEVAL_DEPTH} (need {min_self_recall:.0%})")
    return checks


def execute(plan: ReindexPlan, store: VectorStore, inputs: BuildInputs, info: dict[str, Any] | None = None,
            dimension: int | None = None, index: CollectionSpec | None = None) -> ReindexResult:
    """Carry out ``plan`` on ``store``. ``inputs`` produces the records and vectors, and is called only
    when the plan builds. ``index`` describes the collection to build (its name is the plan's target)."""
    if not plan.builds:
        return ReindexResult(plan, True, store.alias(plan.alias), message=plan.steps[0].detail)
    assert plan.target is not None and index is not None
    if store.exists(plan.target):
        if store.alias(plan.alias) == plan.target:
            raise ReindexError(f"{plan.target} already serves alias {plan.alias}; refusing to replace it")
        store.delete(plan.target)
    records, vectors = inputs()
    spec = CollectionSpec(plan.target, dimension or index.dimension, index.distance, index.kind, index.hnsw,
                          index.quantization)
    store.build(spec, records, vectors, info)
    try:
        checks = verify(store, plan.target, records, vectors)
    except (ReindexError, StoreError) as exc:
        store.delete(plan.target)  # never leave an unverified collection where the next run finds it
        return ReindexResult(plan, False, store.alias(plan.alias), message=f"verification failed: {exc}")
    store.set_alias(plan.alias, plan.target)
    return ReindexResult(plan, True, store.alias(plan.alias), count=len(records), checks=checks,
                         message=f"{plan.alias} -> {plan.target}")


def rollback(store: VectorStore, alias: str, collection: str) -> None:
    """Point ``alias`` back at a retained collection."""
    if not store.exists(collection):
        raise ReindexError(f"cannot roll {alias} back: {collection} no longer exists")
    store.set_alias(alias, collection)


def _serving_spec(store: VectorStore, alias: str) -> tuple[str | None, dict[str, Any] | None]:
    serving = store.alias(alias)
    if serving is None or not store.exists(serving):
        return None, None
    spec = store.info(serving).get("ragconfig", {}).get("spec")
    return serving, spec if isinstance(spec, dict) else None


def run(repo_root: Path, env: str, ragconfig_name: str, store_dir: str | Path,
        provider: str | None = None) -> ReindexResult:
    """The pipeline's ``reindex`` step: serve environment ``env``'s RagConfig ``ragconfig_name`` from the
    store at ``store_dir`` (a folder for FAISS or embedded Qdrant, a URL for a Qdrant server).

    Chunks are embedded in this process with the RagConfig's model, unless ``provider`` names an ``openai``
    provider of the Environment: then its ``/v1/embeddings`` endpoint embeds them."""
    from .corpus import CorpusError
    from .embedding import EmbeddingError
    from .spec import RagSpecError

    try:
        return _run(repo_root, env, ragconfig_name, store_dir, provider)
    except (CorpusError, EmbeddingError, RagSpecError) as exc:
        raise ReindexError(str(exc.message)) from None


def _load(repo_root: Path, env: str, ragconfig_name: str) -> tuple[Any, Any, RagSpec]:
    from ..manifests.repository import Repository
    from ..manifests.source import WorkingTree

    repo = Repository(WorkingTree(repo_root))
    if env not in repo.environment_names():
        raise ReindexError(f"no environment {env!r} in {repo_root}")
    state = repo.environment(env)
    manifest = state.find("RagConfig", ragconfig_name)
    if manifest is None:
        raise ReindexError(f"environment {env} has no RagConfig {ragconfig_name!r}")
    return state, manifest, RagSpec.from_manifest_data(manifest.data)


def plan_for(repo_root: Path, env: str, ragconfig_name: str, store_dir: str | Path) -> ReindexPlan:
    """The plan ``run`` would carry out now, without doing anything (``llmgitops rag plan``)."""
    from .stores.base import open_store

    _, _, rag = _load(repo_root, env, ragconfig_name)
    store = open_store(rag.index.store, str(store_dir))
    try:
        serving, old_spec = _serving_spec(store, rag.index.alias)
        return plan_reindex(old_spec, rag, serving=serving, existing=store.collections())
    finally:
        store.close()


def _run(repo_root: Path, env: str, ragconfig_name: str, store_dir: str | Path,
         provider: str | None) -> ReindexResult:
    from .corpus import load_corpus
    from .embedding import make_embedder
    from .retrieval import chunk_corpus
    from .stores.base import open_store

    state, manifest, rag = _load(repo_root, env, ragconfig_name)
    store = open_store(rag.index.store, str(store_dir))
    http = None
    try:
        http = _http_provider(repo_root, state, provider, rag) if provider else None
        serving, old_spec = _serving_spec(store, rag.index.alias)
        plan = plan_reindex(old_spec, rag, serving=serving, existing=store.collections())
        embedder = None
        if plan.builds:
            embedder = make_embedder(rag.embedding, repo_root, *(http.pair if http else (None, None)))

        def inputs() -> tuple[list[Record], Matrix]:
            assert embedder is not None
            documents = load_corpus(repo_root, state, rag)
            titles = {d.id: d.title for d in documents}
            tokenizer = embedder.tokenizer() if rag.chunking.unit == "tokens" else None
            chunks = chunk_corpus(documents, rag, tokenizer)
            vectors = embedder.embed_documents([c.text for c in chunks])
            records = [Record(c.id, c.doc_id, c.text, titles.get(c.doc_id)) for c in chunks]
            return records, vectors

        info = {
            "ragconfig": {"name": rag.name, "version": rag.version, "environment": env,
                          "digest": hashlib.sha256(manifest.raw).hexdigest(), "spec": manifest.spec},
            "embedding": embedder.backend.identity if embedder else None,
            "builtAt": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        }
        json.dumps(info)  # the info must be JSON; fail before building rather than after
        result = execute(plan, store, inputs, info, rag.embedding.dimensions,
                         CollectionSpec.from_index(rag.index, rag.embedding.dimensions))
        if embedder is not None:
            result.cache = {"hits": embedder.stats.hits, "misses": embedder.stats.misses}
        return result
    finally:
        store.close()
        if http is not None:
            http.close()


@dataclass
class _HttpProvider:
    provider: Any
    thread: Any

    @property
    def pair(self) -> tuple[Any, Any]:
        return self.provider, self.thread.loop

    def close(self) -> None:
        self.thread.run(self.provider.aclose(), 30)
        self.thread.close()


def _http_provider(root: Path, state: Any, name: str, rag: RagSpec) -> _HttpProvider | None:
    """The evaluation engine's provider for Environment provider ``name``, on a loop of our own; None for an
    in-process provider type (the RagConfig's model then runs here)."""
    from ..evaluation.providers import ModelInfo, ProviderConfig, build_provider
    from .embedding import LoopThread

    environment = state.environment
    declared = environment.spec.get("providers") if environment is not None else None
    spec = declared.get(name) if isinstance(declared, dict) else None
    if not isinstance(spec, dict):
        raise ReindexError(f"environment {state.name} declares no provider {name!r}")
    config = ProviderConfig.from_spec(name, spec)
    if config.type != "openai":
        return None
    model = ModelInfo(rag.embedding.model.id, rag.embedding.model.revision or "unpinned")
    return _HttpProvider(build_provider(config, model, root, f"reindex-{rag.name}"), LoopThread())
