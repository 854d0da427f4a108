"""The retrieval family of the evaluation engine: a RagConfig target and the retrieval metrics.

Imported by the engine as a plug-in (``llmgitops.evaluation.plugins``). A suite that targets a RagConfig
alone retrieves for each record's ``query`` and scores the ranked document ids against the record's
``field`` (``relevant_ids`` by default: a list of ids, or a mapping id -> graded relevance). A suite that
also targets a Prompt gets the retrieved chunks as the Prompt's ``source: retrieved`` input.

The RagConfig's embedding model runs in this process, unless the suite's ``provider`` names an ``openai``
provider of the Environment: then that endpoint's ``/v1/embeddings`` (through the engine's OpenAI-compatible
provider) embeds chunks and queries. Every
case also runs BM25 over the same chunks; each retrieval metric reports the lexical baseline's value
beside its own (``extras.lexicalBaseline``), so a dense retriever that loses to BM25 shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from ..evaluation.cases import MISSING, Output
from ..evaluation.metrics import Metric, MetricConfigError, Sample, Score, register_metric
from ..evaluation.targets import Target, TargetContext, TargetError, register_target
from ..manifests.repository import Manifest
from .corpus import CorpusError, Document, load_corpus
from .embedding import EmbeddingError
from .retrieval import METRICS, DenseRetriever, LexicalRetriever, Retrieved, relevance_of
from .spec import RagSpec, RagSpecError

QUERY_FIELD = "query"
DEFAULT_FIELD = "relevant_ids"


class RagTarget(Target):
    kind = "RagConfig"

    def __init__(self, manifest: Manifest, context: TargetContext) -> None:
        super().__init__(manifest, context)
        spec = context.spec_of(manifest)
        try:
            self.rag = RagSpec.from_spec(self.name, spec)
        except RagSpecError as exc:
            path = tuple(p for p in ("spec", *exc.field_path.split(".")) if p)
            message = f"RagConfig {self.name}: {exc.message}"
            raise TargetError([manifest.finding(path, "eval/target", message)]) from None
        try:
            self.documents: list[Document] = load_corpus(context.root, context.env, self.rag)
        except CorpusError as exc:
            raise TargetError(exc.findings or [manifest.finding(("spec", "sources"), "eval/target",
                                                                str(exc.message))]) from None
        self._dense: DenseRetriever | None = None
        self._lexical: LexicalRetriever | None = None
        self._lock = asyncio.Lock()
        self._http: tuple[Any, Any] | None = None  # (provider, loop) when an openai provider embeds
        self._owned: Any = None  # a provider this target built, closed with it
        self._http_config = self._suite_provider()
        self.retriever = self

    def _suite_provider(self) -> Any:
        """The suite's provider when the suite evaluates retrieval alone and its provider is an ``openai``
        one declared by the Environment, else None (next to a Prompt, the provider is the LLM's)."""
        from ..evaluation.providers import ProviderConfig

        suite_spec = self.context.spec_of(self.context.suite)
        targets = suite_spec.get("targets")
        if not isinstance(targets, list) or any(isinstance(t, dict) and t.get("kind") == "Prompt" for t in targets):
            return None
        name = suite_spec.get("provider")
        environment = self.context.env.environment
        declared = environment.spec.get("providers") if environment is not None else None
        spec = declared.get(name) if isinstance(name, str) and isinstance(declared, dict) else None
        if not isinstance(name, str) or not isinstance(spec, dict) or spec.get("type") != "openai":
            return None
        return ProviderConfig.from_spec(name, spec)

    def _ensure_http(self) -> None:
        """Build the suite's HTTP provider on the running loop (aiohttp sessions belong to one loop)."""
        if self._http is not None or self._http_config is None:
            return
        from ..evaluation.providers import ModelInfo, build_provider

        pin = self.rag.embedding.model
        self._owned = build_provider(self._http_config, ModelInfo(pin.id, pin.revision or "unpinned"),
                                     self.context.root, self.context.suite.name or "")
        self._http = (self._owned, asyncio.get_running_loop())

    def use_provider(self, provider: Any) -> None:
        """Embed through ``provider`` (an ``openai`` provider) instead of in process."""
        if getattr(provider, "type", None) == "openai":
            self._http = (provider, asyncio.get_running_loop())

    async def close(self) -> None:
        if self._owned is not None:
            await self._owned.aclose()
            self._owned = None

    def _build(self) -> tuple[DenseRetriever, LexicalRetriever]:
        from .embedding import make_embedder

        provider, loop = self._http or (None, None)
        embedder = make_embedder(self.rag.embedding, self.context.root, provider, loop)
        dense = DenseRetriever(self.rag, self.documents, embedder)
        tokenizer = embedder.tokenizer() if self.rag.chunking.unit == "tokens" else None
        return dense, LexicalRetriever(self.rag, self.documents, tokenizer)

    async def _retrievers(self) -> tuple[DenseRetriever, LexicalRetriever]:
        async with self._lock:
            if self._dense is None or self._lexical is None:
                self._ensure_http()
                self._dense, self._lexical = await asyncio.to_thread(self._build)
            dense, lexical = self._dense, self._lexical
            assert dense is not None and lexical is not None
            return dense, lexical

    async def _run(self, query: str) -> tuple[Retrieved, Retrieved]:
        dense, lexical = await self._retrievers()
        async with self._lock:  # one query at a time: latency is measured, not contended
            return await asyncio.to_thread(lambda: (dense.retrieve(query), lexical.retrieve(query)))

    async def retrieve(self, query: str) -> list[dict[str, Any]]:
        retrieved, _ = await self._run(query)
        return [hit.to_context() for hit in retrieved.hits]

    async def execute(self, record: dict[str, Any], sample: int, provider: Any) -> Output:
        query = record.get(QUERY_FIELD)
        if not isinstance(query, str) or not query.strip():
            return Output(None, error=f"the record has no `{QUERY_FIELD}` string to retrieve for")
        if provider is not None and self._http is None:
            self.use_provider(provider)
        try:
            retrieved, lexical = await self._run(query)
        except (EmbeddingError, RagSpecError) as exc:
            return Output(None, error=exc.message)
        ranking = retrieved.ranking
        return Output("\n".join(ranking), latency_ms=retrieved.latency_ms,
                      context=[hit.to_context() for hit in retrieved.hits],
                      prompt={"query": query},
                      extra={"ranking": ranking, "lexicalRanking": lexical.ranking,
                             "embedMs": round(retrieved.embed_ms, 3), "searchMs": round(retrieved.search_ms, 3)})

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(embedding=self.rag.embedding.model.label, index=f"{self.rag.index.store}/{self.rag.index.kind}",
                   topK=self.rag.retrieval.top_k, documents=len(self.documents))
        if self._dense is not None:
            stats = self._dense.embedder.stats
            out.update(chunks=len(self._dense.chunks), embeddingCache={"hits": stats.hits, "misses": stats.misses})
        return out


class RetrievalMetric(Metric):
    """Scores the ranked document ids of a RagConfig target against the record's relevant ids."""

    bounded: ClassVar[bool] = True
    needs_k: ClassVar[bool] = True

    def configure(self) -> None:
        k = self.param("k", int)
        if k is not None and k < 1:
            raise MetricConfigError(f"metric {self.spec.name!r}: params.k must be at least 1", ("params", "k"))
        self.k: int | None = k

    def _k(self, target: Target) -> int | None:
        if self.k is not None or not self.needs_k:
            return self.k
        rag = getattr(target, "rag", None)
        return rag.retrieval.top_k if isinstance(rag, RagSpec) else None

    async def score(self, sample: Sample) -> Score:
        ranking = sample.output.extra.get("ranking")
        if not isinstance(ranking, list):
            return Score.unmeasured(f"{self.spec.type} scores a RagConfig target's ranked document ids")
        raw = self.reference(sample, DEFAULT_FIELD)
        if raw is MISSING:
            return Score.unmeasured(f"the record has no `{self.spec.field or DEFAULT_FIELD}` field")
        relevant = relevance_of(raw)
        if relevant is None:
            return Score.unmeasured(f"`{self.spec.field or DEFAULT_FIELD}` is neither a list of ids nor a "
                                    "mapping id -> grade")
        k = self._k(sample.target)
        value = METRICS[self.spec.type](ranking, relevant, k)
        if value is None:
            return Score.not_applicable("the record lists no relevant document")
        detail: dict[str, Any] = {"k": k, "retrieved": ranking[:k] if k else ranking}
        for key in ("embedMs", "searchMs"):
            if isinstance(sample.output.extra.get(key), int | float):
                detail[key] = sample.output.extra[key]
        lexical = sample.output.extra.get("lexicalRanking")
        if isinstance(lexical, list):
            detail["lexical"] = METRICS[self.spec.type](lexical, relevant, k)
        return Score(value, detail)

    @classmethod
    def summary(cls, definition: dict[str, Any], values: Sequence[float],
                details: Sequence[dict[str, Any]]) -> dict[str, Any]:
        from ..evaluation.stats import percentile

        out: dict[str, Any] = {}
        lexical = [d["lexical"] for d in details if isinstance(d.get("lexical"), int | float)]
        if lexical:
            out["lexicalBaseline"] = round(sum(lexical) / len(lexical), 6)
        for key in ("embedMs", "searchMs"):  # query embedding and index search, per query
            values = [float(d[key]) for d in details if isinstance(d.get(key), int | float)]
            if values:
                out[key] = {f"p{q}": round(percentile(values, q), 3) for q in (50, 95)}
        return out

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.k is not None:
            out["k"] = self.k
        return out


@register_metric("recall-at-k")
class RecallAtK(RetrievalMetric):
    pass


@register_metric("precision-at-k")
class PrecisionAtK(RetrievalMetric):
    pass


@register_metric("ndcg-at-k")
class NdcgAtK(RetrievalMetric):
    pass


@register_metric("hit-rate")
class HitRate(RetrievalMetric):
    pass


@register_metric("mrr")
class Mrr(RetrievalMetric):
    needs_k = False  # reciprocal rank over everything retrieved, unless params.k cuts it


register_target("RagConfig", RagTarget)
