"""RagConfig checks.

Cheap ones run in ``llmgitops validate`` (data and a few small files only, never a model load):

    rag/collection-version     index.collection is ``<name>-v<major>`` with spec.version's major, so a
                               re-embed (a MAJOR bump) lands in a new collection beside the old one
    rag/model-mismatch         the modelRef Model's baseModel is not embedding.model
    rag/dimension-mismatch     embedding.dimensions differs from the modelRef Model's embeddingDimensions,
                               or from what the installed model's own files declare (skipped silently where
                               the model is not installed, as in pre-commit hook environments)
    rag/chunk-exceeds-context  token chunks longer than the embedding model reads (the rest is truncated)

``deep_check`` (``llmgitops rag check``) loads each embedding model and embeds a probe text, so the
dimension compared is the one the model really outputs, and checks that token chunking has a tokenizer.
"""

from __future__ import annotations

from typing import Any

from ..findings import Finding, Severity
from ..manifests.ranges import RangeError, satisfies
from ..manifests.repository import EnvironmentState, Manifest, Repository
from ..rules import Rule, register
from .spec import IndexSpec, RagSpec, RagSpecError

register((
    Rule("rag/collection-version", Severity.ERROR,
         "index.collection does not end in -v<major> of spec.version (blue/green re-embeds need it)."),
    Rule("rag/model-mismatch", Severity.ERROR, "embedding.modelRef names a Model with another baseModel."),
    Rule("rag/dimension-mismatch", Severity.ERROR,
         "embedding.dimensions differs from the embedding model's output dimension."),
    Rule("rag/chunk-exceeds-context", Severity.WARNING,
         "Token chunks are longer than the embedding model reads; their ends would be truncated."),
    Rule("rag/model-unavailable", Severity.WARNING,
         "The embedding model is not installed here, so its real output could not be checked."),
    Rule("rag/tokenizer-unavailable", Severity.ERROR,
         "chunking.unit is tokens but the embedding model's tokenizer is not available."),
    Rule("rag/invalid", Severity.ERROR, "The RagConfig cannot be read for RAG checks."),
))


def _spec(manifest: Manifest) -> RagSpec | None:
    try:
        return RagSpec.from_manifest_data(manifest.data)
    except RagSpecError:
        return None  # the schema findings already say what is wrong


def collection_findings(manifest: Manifest, rag: RagSpec) -> list[Finding]:
    major = rag.major
    where = ("spec", "index", "collection")
    index: IndexSpec = rag.index
    if major is None:
        return []
    expected = f"{index.collection}-v{major}"
    if index.collection_major is None:
        return [manifest.finding(where, "rag/collection-version",
                                 f"collection {index.collection!r} carries no major version",
                                 f"name it {expected!r}: a re-embed (a MAJOR bump) then builds "
                                 f"{index.collection}-v{major + 1} beside it and switches the alias "
                                 f"{index.alias!r}")]
    if index.collection_major != major:
        return [manifest.finding(where, "rag/collection-version",
                                 f"collection {index.collection!r} is for major {index.collection_major}, "
                                 f"but spec.version is {rag.version}",
                                 f"rename it {index.alias}-v{major}: vectors of another major must not "
                                 "overwrite the serving collection")]
    return []


def _model_ref(state: EnvironmentState, rag: RagSpec) -> Manifest | None:
    if rag.embedding.model_ref is None:
        return None
    name, version_range = rag.embedding.model_ref
    model = state.find("Model", name)
    if model is None or model.version is None:
        return None  # ref/unresolved reports it
    try:
        return model if satisfies(model.version, version_range) else None
    except RangeError:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def model_ref_findings(manifest: Manifest, rag: RagSpec, model: Manifest) -> list[Finding]:
    findings: list[Finding] = []
    base = _mapping(model.spec.get("baseModel"))
    pin = rag.embedding.model
    if isinstance(base.get("id"), str) and base["id"] != pin.id:
        findings.append(manifest.finding(("spec", "embedding", "model", "id"), "rag/model-mismatch",
                                         f"embedding.model.id is {pin.id} but Model {model.name} is based on "
                                         f"{base['id']}", "vectors must come from the model the Model serves"))
    elif pin.revision and isinstance(base.get("revision"), str) and base["revision"] != pin.revision:
        findings.append(manifest.finding(("spec", "embedding", "model", "revision"), "rag/model-mismatch",
                                         f"embedding.model.revision {pin.revision} differs from Model "
                                         f"{model.name}'s baseModel.revision {base['revision']}"))
    interface = _mapping(model.spec.get("interface"))
    declared = interface.get("embeddingDimensions")
    if isinstance(declared, int) and not isinstance(declared, bool) and declared != rag.embedding.dimensions:
        findings.append(manifest.finding(("spec", "embedding", "dimensions"), "rag/dimension-mismatch",
                                         f"embedding.dimensions is {rag.embedding.dimensions} but Model "
                                         f"{model.name} declares interface.embeddingDimensions {declared}"))
    context = interface.get("maxContextTokens")
    if (rag.chunking.unit == "tokens" and isinstance(context, int) and not isinstance(context, bool)
            and rag.chunking.size > context):
        findings.append(manifest.finding(("spec", "chunking", "size"), "rag/chunk-exceeds-context",
                                         f"chunks of {rag.chunking.size} tokens exceed Model {model.name}'s "
                                         f"maxContextTokens {context}", "their ends would not be embedded",
                                         severity=Severity.WARNING))
    return findings


def installed_model_findings(manifest: Manifest, rag: RagSpec) -> list[Finding]:
    """Compare with the installed model's files; nothing at all when the model is not installed."""
    from .models import declared_dimension, locate, max_sequence_tokens

    model = locate(rag.embedding.model)
    if model is None:
        return []
    findings: list[Finding] = []
    actual = declared_dimension(model)
    if actual is not None and actual != rag.embedding.dimensions:
        findings.append(manifest.finding(("spec", "embedding", "dimensions"), "rag/dimension-mismatch",
                                         f"embedding.dimensions is {rag.embedding.dimensions} but "
                                         f"{rag.embedding.model.id} outputs {actual}-dimensional vectors",
                                         f"set embedding.dimensions: {actual}"))
    limit = max_sequence_tokens(model)
    if rag.chunking.unit == "tokens" and limit is not None and rag.chunking.size > limit:
        findings.append(manifest.finding(("spec", "chunking", "size"), "rag/chunk-exceeds-context",
                                         f"chunks of {rag.chunking.size} tokens exceed the {limit} tokens "
                                         f"{rag.embedding.model.id} reads", "their ends would not be embedded",
                                         severity=Severity.WARNING))
    return findings


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    """The cheap checks, for ``llmgitops validate``."""
    findings: list[Finding] = []
    for manifest in state.of_kind("RagConfig"):
        rag = _spec(manifest)
        if rag is None:
            continue
        findings.extend(collection_findings(manifest, rag))
        model = _model_ref(state, rag)
        if model is not None:
            findings.extend(model_ref_findings(manifest, rag, model))
        findings.extend(installed_model_findings(manifest, rag))
    return _unique(findings)


def _unique(findings: list[Finding]) -> list[Finding]:
    """The Model manifest and the installed files may say the same thing: report it once per place."""
    seen: set[tuple[str, int, int, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.path, f.line, f.column, f.rule)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def deep_check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    """Load each embedding model and measure: its real output dimension, and its tokenizer if chunks are
    counted in tokens. A model that is not installed is a warning here (this check was asked for)."""
    from .embedding import EmbeddingError, backend_for

    findings: list[Finding] = []
    for manifest in state.of_kind("RagConfig"):
        rag = _spec(manifest)
        if rag is None:
            pos = manifest.pos("spec")
            findings.append(Finding(manifest.relpath, pos[0], pos[1], "rag/invalid", Severity.ERROR,
                                    "the RagConfig does not parse; run llmgitops validate"))
            continue
        where = ("spec", "embedding", "model")
        try:
            backend = backend_for(rag.embedding)
            vectors = backend.encode(["llmgitops dimension probe"], "document", 1)
        except EmbeddingError as exc:
            findings.append(manifest.finding(where, "rag/model-unavailable", str(exc).splitlines()[0],
                                             severity=Severity.WARNING))
            continue
        actual = int(vectors.shape[1])
        if actual != rag.embedding.dimensions:
            findings.append(manifest.finding(("spec", "embedding", "dimensions"), "rag/dimension-mismatch",
                                             f"embedding.dimensions is {rag.embedding.dimensions} but "
                                             f"{rag.embedding.model.label} outputs {actual}-dimensional vectors",
                                             f"set embedding.dimensions: {actual}"))
        if rag.chunking.unit == "tokens" and backend.tokenizer() is None:
            findings.append(manifest.finding(("spec", "chunking", "unit"), "rag/tokenizer-unavailable",
                                             f"chunking.unit is tokens but {rag.embedding.model.label} has no "
                                             "tokenizer available here", "chunk by characters or recursive"))
    return findings
