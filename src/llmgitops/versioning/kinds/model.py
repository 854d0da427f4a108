"""Model: base model and interface define compatibility; weights and training are minor; serving is patch."""

from __future__ import annotations

from ..diff import DiffContext, Pattern, describe_value

PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("spec", "interface", "tokenizer"), "model/tokenizer-changed"),
    (("spec", "interface", "chatTemplate"), "model/chat-template-changed"),
    (("spec", "interface", "embeddingDimensions"), "model/embedding-dimensions-changed"),
    (("spec", "weights"), "model/weights-changed"),
    (("spec", "training", "resources"), "model/training-resources-changed"),
    (("spec", "training"), "model/training-changed"),
    (("spec", "quantization"), "model/quantization-changed"),
    (("spec", "serving", "runtime"), "model/serving-runtime-changed"),
    (("spec", "serving", "args"), "model/serving-args-changed"),
    (("spec", "serving", "resources"), "model/serving-resources-changed"),
    (("spec", "serving", "replicas"), "model/serving-resources-changed"),
    (("spec", "pricing"), "model/pricing-changed"),
    (("spec", "evalBaselines"), "model/baselines-changed"),
)


def _capabilities(value: object) -> set[str]:
    return {c for c in value if isinstance(c, str)} if isinstance(value, list) else set()


def diff(ctx: DiffContext) -> None:
    if ctx.value_change("model/base-model-changed", "spec", "baseModel", "id", what="base model"):
        ctx.claim("spec", "baseModel")
    else:
        ctx.value_change(
            "model/base-revision-changed", "spec", "baseModel", "revision", what="base model revision"
        )

    before, after = (
        ctx.before("spec", "interface", "maxContextTokens"),
        ctx.after("spec", "interface", "maxContextTokens"),
    )
    if isinstance(before, int) and isinstance(after, int) and before != after:
        rule = "model/context-shrunk" if after < before else "model/context-grown"
        ctx.hit(rule, ("spec", "interface", "maxContextTokens"), f"context window {before} -> {after} tokens")

    old_caps = _capabilities(ctx.before("spec", "interface", "capabilities"))
    new_caps = _capabilities(ctx.after("spec", "interface", "capabilities"))
    caps: tuple[str, ...] = ("spec", "interface", "capabilities")
    if old_caps - new_caps:
        ctx.hit(
            "model/capability-removed",
            caps,
            "capabilities removed: " + ", ".join(sorted(old_caps - new_caps)),
            claim=False,
        )
    if new_caps - old_caps:
        ctx.hit(
            "model/capability-added",
            caps,
            "capabilities added: " + ", ".join(sorted(new_caps - old_caps)),
            claim=False,
        )
    ctx.claim(*caps)  # a set: the order of capabilities means nothing

    for where, path, old_path in ctx.referenced_file_changes():
        if where[:2] == ("spec", "weights"):
            ctx.hit(
                "model/weights-changed",
                where,
                f"weights pointer {path} records other data"
                + (f" (was {old_path})" if old_path != path else ""),
                claim=False,
            )
        elif where[:2] == ("spec", "evalBaselines"):
            ctx.hit("model/baselines-changed", where, f"baseline report {path} changed", claim=False)
        else:
            ctx.hit(
                "manifest/unclassified-change",
                where,
                f"referenced file {path} changed ({describe_value(old_path)})",
                claim=False,
            )
