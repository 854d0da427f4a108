"""The versioning rule catalog: every rule a semantic diff can fire, with its level, flags and reason.

This table is the single source: the differs look rules up here by id (an unknown id is a bug caught
by the tests), ``docs/versioning.md`` is generated from it, and the finding catalog learns the ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Severity
from ..rules import Rule, register
from .model import (
    GATE_RELAXATION,
    REQUIRES_INDEX_REBUILD,
    REQUIRES_REBASELINE,
    REQUIRES_REEMBED,
    REQUIRES_RETRAIN,
    Level,
)


@dataclass(frozen=True)
class VersionRule:
    id: str
    kind: str  # the manifest kind, or "*" for rules shared by every kind
    level: Level
    reason: str
    flags: tuple[str, ...] = ()
    # the level when the author claims an editorial change (llmgitops.dev/change-class: editorial)
    editorial_level: Level | None = None


MAJOR, MINOR, PATCH = Level.MAJOR, Level.MINOR, Level.PATCH
REEMBED, REBUILD, RETRAIN, REBASELINE, RELAX = (
    REQUIRES_REEMBED,
    REQUIRES_INDEX_REBUILD,
    REQUIRES_RETRAIN,
    REQUIRES_REBASELINE,
    GATE_RELAXATION,
)
EDITORIAL_ANNOTATION = "llmgitops.dev/change-class"
EDITORIAL_VALUE = "editorial"

_CATALOG: tuple[VersionRule, ...] = (
    # -- every kind ------------------------------------------------------------------------------------
    VersionRule(
        "manifest/description-changed",
        "*",
        PATCH,
        "Descriptions document the artifact; they change no behaviour.",
    ),
    VersionRule(
        "manifest/labels-changed", "*", PATCH, "Labels organise artifacts; they change no behaviour."
    ),
    VersionRule("manifest/annotations-changed", "*", PATCH, "Annotations are metadata for tools and people."),
    VersionRule(
        "manifest/api-version-changed",
        "*",
        PATCH,
        "The schema version moved; what the artifact means is compared field by field.",
    ),
    VersionRule(
        "manifest/unclassified-change",
        "*",
        MAJOR,
        "No rule classifies this change, so it is treated as breaking until a rule says otherwise.",
    ),
    # -- Model -----------------------------------------------------------------------------------------
    VersionRule(
        "model/base-model-changed",
        "Model",
        MAJOR,
        "A different base model is a different model: outputs, tokenizer and limits all change.",
        (RETRAIN, REBASELINE),
    ),
    VersionRule(
        "model/base-revision-changed",
        "Model",
        MAJOR,
        "Another snapshot of the base model can change tokenizer, template and behaviour.",
        (RETRAIN, REBASELINE),
    ),
    VersionRule(
        "model/tokenizer-changed",
        "Model",
        MAJOR,
        "Token ids, token counts and budgets computed for the old tokenizer no longer hold.",
        (REBASELINE,),
    ),
    VersionRule(
        "model/chat-template-changed",
        "Model",
        MAJOR,
        "Prompts are rendered through the chat template; a new one changes every request.",
        (REBASELINE,),
    ),
    VersionRule(
        "model/context-shrunk", "Model", MAJOR, "Requests that fit the old context window may no longer fit."
    ),
    VersionRule(
        "model/capability-removed", "Model", MAJOR, "Callers relying on the removed capability break."
    ),
    VersionRule(
        "model/embedding-dimensions-changed",
        "Model",
        MAJOR,
        "Vectors of another size cannot share an index with the old ones.",
        (REEMBED,),
    ),
    VersionRule(
        "model/weights-changed",
        "Model",
        MINOR,
        "New weights on the same base (retrain, new data, another file): behaviour shifts, the "
        "interface holds.",
        (REBASELINE,),
    ),
    VersionRule(
        "model/training-changed",
        "Model",
        MINOR,
        "Method, datasets or hyperparameters of the fine-tune changed: the weights must be retrained.",
        (RETRAIN, REBASELINE),
    ),
    VersionRule(
        "model/quantization-changed",
        "Model",
        MINOR,
        "Quantization changes numerics and quality, not the interface.",
        (REBASELINE,),
    ),
    VersionRule(
        "model/context-grown", "Model", MINOR, "A larger context window accepts everything the old one did."
    ),
    VersionRule("model/capability-added", "Model", MINOR, "A new capability adds to the interface."),
    VersionRule(
        "model/training-resources-changed",
        "Model",
        PATCH,
        "The hardware a fine-tune runs on does not define the weights.",
    ),
    VersionRule(
        "model/serving-runtime-changed",
        "Model",
        PATCH,
        "Serving only: another runtime serves the same weights; latency must be re-measured.",
        (REBASELINE,),
    ),
    VersionRule("model/serving-args-changed", "Model", PATCH, "Serving only: runtime arguments."),
    VersionRule("model/serving-resources-changed", "Model", PATCH, "Serving only: resources and replicas."),
    VersionRule(
        "model/pricing-changed",
        "Model",
        PATCH,
        "Prices feed cost metrics, not the model's behaviour.",
        (REBASELINE,),
    ),
    VersionRule(
        "model/baselines-changed",
        "Model",
        PATCH,
        "Recorded evaluation baselines describe the model; they do not change it.",
    ),
    # -- Prompt ----------------------------------------------------------------------------------------
    VersionRule(
        "prompt/type-changed", "Prompt", MAJOR, "Chat and text prompts are called differently.", (REBASELINE,)
    ),
    VersionRule(
        "prompt/model-swapped",
        "Prompt",
        MAJOR,
        "Another model answers the prompt: outputs, limits and costs all change.",
        (REBASELINE,),
    ),
    VersionRule("prompt/input-removed", "Prompt", MAJOR, "Callers still pass the removed input."),
    VersionRule("prompt/input-renamed", "Prompt", MAJOR, "Callers pass the input under its old name."),
    VersionRule("prompt/input-retyped", "Prompt", MAJOR, "Callers pass values of the old type or shape."),
    VersionRule("prompt/input-made-required", "Prompt", MAJOR, "Callers that omit the input now fail."),
    VersionRule(
        "prompt/input-added-required", "Prompt", MAJOR, "Existing callers do not pass the new input."
    ),
    VersionRule(
        "prompt/input-narrowed",
        "Prompt",
        MAJOR,
        "A smaller maxLength or maxItems rejects values callers send today.",
    ),
    VersionRule(
        "prompt/output-format-changed",
        "Prompt",
        MAJOR,
        "Consumers parse the output in the old format.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/output-contract-broken",
        "Prompt",
        MAJOR,
        "An output field consumers read was removed, retyped, made optional or constrained differently.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/message-reworded",
        "Prompt",
        MINOR,
        "New wording changes model behaviour; the interface holds. An author may claim an editorial "
        "change with the annotation llmgitops.dev/change-class: editorial (then PATCH, and reported).",
        (REBASELINE,),
        editorial_level=PATCH,
    ),
    VersionRule(
        "prompt/messages-restructured",
        "Prompt",
        MINOR,
        "Messages were added, removed, reordered or changed role: the conversation changes.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/input-added-optional", "Prompt", MINOR, "A new optional input; existing callers still work."
    ),
    VersionRule("prompt/input-made-optional", "Prompt", MINOR, "Every existing call still works."),
    VersionRule(
        "prompt/input-widened", "Prompt", MINOR, "A larger maxLength or maxItems accepts every old value."
    ),
    VersionRule(
        "prompt/input-default-changed",
        "Prompt",
        MINOR,
        "Callers omitting the input get another value.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/input-source-changed",
        "Prompt",
        MINOR,
        "Where the value comes from decides how it must be delimited (injection hygiene).",
    ),
    VersionRule(
        "prompt/config-changed",
        "Prompt",
        MINOR,
        "Sampling and length settings change outputs.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/output-field-added",
        "Prompt",
        MINOR,
        "A new or newly guaranteed output field adds to what consumers may read.",
    ),
    VersionRule(
        "prompt/model-range-changed",
        "Prompt",
        MINOR,
        "The prompt accepts other versions of the same model; a breaking model change is the "
        "Model's own major bump.",
        (REBASELINE,),
    ),
    VersionRule(
        "prompt/message-editorial",
        "Prompt",
        PATCH,
        "Only whitespace, letter case or punctuation changed in the wording.",
    ),
    VersionRule(
        "prompt/input-described", "Prompt", PATCH, "Input descriptions document; they change no behaviour."
    ),
    VersionRule(
        "prompt/output-described",
        "Prompt",
        PATCH,
        "Titles, descriptions and examples inside the output schema document it.",
    ),
    VersionRule("prompt/examples-changed", "Prompt", PATCH, "Examples and their assertions test the prompt."),
    # -- RagConfig: the index compatibility table -------------------------------------------------------
    VersionRule(
        "rag/embedding-model-changed",
        "RagConfig",
        MAJOR,
        "Vectors from another embedding model (or revision) are not comparable: re-embed into a new "
        "collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/embedding-dimensions-changed",
        "RagConfig",
        MAJOR,
        "Vectors of another size do not fit the collection: re-embed into a new one.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/embedding-normalize-changed",
        "RagConfig",
        MAJOR,
        "Normalised and raw vectors score differently: re-embed into a new collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/embedding-prefix-changed",
        "RagConfig",
        MAJOR,
        "Document and query prefixes are part of what is embedded: re-embed into a new collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/chunking-changed",
        "RagConfig",
        MAJOR,
        "Other chunks mean other vectors and other ids: re-embed into a new collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/parsing-changed",
        "RagConfig",
        MAJOR,
        "Documents are read differently, so chunks and vectors change: re-embed into a new collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/distance-changed",
        "RagConfig",
        MAJOR,
        "Scores under another distance are not comparable: re-embed into a new collection.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/store-changed",
        "RagConfig",
        MAJOR,
        "Another vector store holds nothing yet: embed into a new collection there.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/collection-changed",
        "RagConfig",
        MINOR,
        "A new collection name must be filled before it serves; the vectors stay compatible.",
        (REEMBED,),
    ),
    VersionRule(
        "rag/index-params-changed",
        "RagConfig",
        MINOR,
        "HNSW build parameters (m, efConstruction): rebuild the index from the stored vectors.",
        (REBUILD, REBASELINE),
    ),
    VersionRule(
        "rag/index-kind-changed",
        "RagConfig",
        MINOR,
        "Another index structure over the same vectors: rebuild without re-embedding.",
        (REBUILD, REBASELINE),
    ),
    VersionRule(
        "rag/index-quantization-changed",
        "RagConfig",
        MINOR,
        "Vector quantization is applied when the index is built: rebuild without re-embedding.",
        (REBUILD, REBASELINE),
    ),
    VersionRule(
        "rag/sources-changed",
        "RagConfig",
        MINOR,
        "Corpora were added, removed or moved to other versions: re-embed the changed sources only.",
        (REEMBED, REBASELINE),
    ),
    VersionRule(
        "rag/top-k-changed",
        "RagConfig",
        PATCH,
        "Query-time only: how many chunks are retrieved.",
        (REBASELINE,),
    ),
    VersionRule(
        "rag/reranker-changed",
        "RagConfig",
        PATCH,
        "Query-time only: reranking of retrieved chunks.",
        (REBASELINE,),
    ),
    VersionRule(
        "rag/score-threshold-changed",
        "RagConfig",
        PATCH,
        "Query-time only: the minimum score a chunk needs.",
        (REBASELINE,),
    ),
    VersionRule(
        "rag/search-params-changed",
        "RagConfig",
        PATCH,
        "Query-time only: HNSW efSearch is set per query, the index stays as built.",
        (REBASELINE,),
    ),
    VersionRule(
        "rag/embedding-batch-size-changed",
        "RagConfig",
        PATCH,
        "Batch size changes how fast vectors are computed, not the vectors.",
    ),
    # -- Dataset ---------------------------------------------------------------------------------------
    VersionRule(
        "dataset/schema-broken",
        "Dataset",
        MAJOR,
        "A record field readers use was removed or retyped, or a new field is required of every record.",
    ),
    VersionRule(
        "dataset/split-changed",
        "Dataset",
        MAJOR,
        "A split (e.g. the test split) now holds other records: results are not comparable.",
        (REBASELINE,),
    ),
    VersionRule("dataset/format-changed", "Dataset", MAJOR, "Readers parse the data in the old format."),
    VersionRule("dataset/purpose-changed", "Dataset", MAJOR, "The dataset is meant for another use."),
    VersionRule(
        "dataset/license-changed", "Dataset", MAJOR, "Another license changes who may use the data, and how."
    ),
    VersionRule(
        "dataset/pii-introduced",
        "Dataset",
        MAJOR,
        "The data now contains personal information: every consumer must handle it.",
    ),
    VersionRule(
        "dataset/records-removed",
        "Dataset",
        MAJOR,
        "Records consumers relied on are gone. Flags follow the purpose: training retrains, "
        "evaluation rebaselines, rag-corpus re-embeds.",
    ),
    VersionRule(
        "dataset/records-appended",
        "Dataset",
        MINOR,
        "New records after the old ones. Flags follow the purpose: training retrains, evaluation "
        "rebaselines, rag-corpus re-embeds.",
    ),
    VersionRule(
        "dataset/data-changed",
        "Dataset",
        MINOR,
        "The data behind a pointer or path changed and cannot be compared record by record in Git, "
        "so it counts as records appended. Flags follow the purpose.",
    ),
    VersionRule("dataset/field-added", "Dataset", MINOR, "A new optional record field; readers ignore it."),
    VersionRule("dataset/split-added", "Dataset", MINOR, "A new split adds to the dataset."),
    VersionRule(
        "dataset/records-corrected",
        "Dataset",
        PATCH,
        "Records were corrected in place: as many records as before, some with new content. Flags "
        "follow the purpose.",
    ),
    VersionRule("dataset/location-changed", "Dataset", PATCH, "The same data is stored elsewhere."),
    VersionRule(
        "dataset/schema-documented",
        "Dataset",
        PATCH,
        "Titles, descriptions and examples inside the record schema document it.",
    ),
    VersionRule(
        "dataset/pii-details-changed", "Dataset", PATCH, "How personal information is described or handled."
    ),
    # -- EvalSuite -------------------------------------------------------------------------------------
    VersionRule(
        "eval/dataset-swapped",
        "EvalSuite",
        MAJOR,
        "Scores on another dataset are not comparable with old baselines.",
        (REBASELINE,),
    ),
    VersionRule(
        "eval/metric-changed",
        "EvalSuite",
        MAJOR,
        "The metric's definition (type, parameters, field) changed: old scores mean something else.",
        (REBASELINE,),
    ),
    VersionRule(
        "eval/metric-removed",
        "EvalSuite",
        MAJOR,
        "Reports and baselines lose the metric, and its gate stops applying.",
        (RELAX,),
    ),
    VersionRule("eval/metric-added", "EvalSuite", MINOR, "A new metric adds to the suite.", (REBASELINE,)),
    VersionRule("eval/threshold-tightened", "EvalSuite", MINOR, "A stricter gate: what passed may now fail."),
    VersionRule(
        "eval/threshold-relaxed",
        "EvalSuite",
        MINOR,
        "A looser gate: reviewers must see it, so it is flagged.",
        (RELAX,),
    ),
    VersionRule(
        "eval/dataset-range-changed",
        "EvalSuite",
        MINOR,
        "The suite runs on another version of the same dataset.",
        (REBASELINE,),
    ),
    VersionRule(
        "eval/targets-changed", "EvalSuite", MINOR, "The suite evaluates other artifacts or versions."
    ),
    VersionRule(
        "eval/provider-changed",
        "EvalSuite",
        MINOR,
        "Another endpoint answers the suite: scores must be re-measured.",
        (REBASELINE,),
    ),
    VersionRule(
        "eval/runner-changed",
        "EvalSuite",
        PATCH,
        "Runner settings (concurrency, timeouts, shards, cache, repeats) change how, not what, is measured.",
    ),
)

CATALOG: dict[str, VersionRule] = {r.id: r for r in _CATALOG}
KIND_ORDER = ("*", "Model", "Prompt", "RagConfig", "Dataset", "EvalSuite")

# Findings check-versions reports; the rules above travel inside them as hits.
POLICY_RULES: tuple[Rule, ...] = (
    Rule("version/not-bumped", Severity.ERROR, "Content changed but spec.version did not."),
    Rule(
        "version/insufficient-bump",
        Severity.ERROR,
        "The version moved less than the content change requires.",
    ),
    Rule("version/backwards", Severity.ERROR, "spec.version went backwards."),
    Rule("version/invalid", Severity.ERROR, "spec.version is missing or not a semantic version."),
    Rule(
        "version/environment-conflict",
        Severity.ERROR,
        "The same name and version carry different content in two environments.",
    ),
    Rule(
        "version/reused",
        Severity.ERROR,
        "A version published earlier in the base ref's history is reused for different content.",
    ),
    Rule("version/bump-without-change", Severity.WARNING, "The version changed but the content did not."),
    Rule(
        "version/editorial-claim",
        Severity.WARNING,
        "The author claims a wording change is editorial (llmgitops.dev/change-class).",
    ),
    Rule("version/removed", Severity.INFO, "An artifact was removed from an environment."),
    Rule("version/removed-referenced", Severity.ERROR, "A removed artifact is still referenced."),
    Rule(
        "version/base-unreadable",
        Severity.WARNING,
        "The manifest at the base ref does not load, so it cannot be compared.",
    ),
    Rule("version/block-scalar", Severity.ERROR, "spec.version is written in a form bump cannot edit."),
)

register(POLICY_RULES)
register(tuple(Rule(r.id, Severity.INFO, r.reason) for r in _CATALOG))


def rule(rule_id: str) -> VersionRule:
    return CATALOG[rule_id]


def rules_for(kind: str) -> list[VersionRule]:
    return [r for r in _CATALOG if r.kind == kind]
