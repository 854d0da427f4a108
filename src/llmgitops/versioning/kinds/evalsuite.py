"""EvalSuite: the dataset and metric definitions define comparability; gates tighten (minor) or relax
(minor, flagged ``gate-relaxation``); runner settings are patch."""

from __future__ import annotations

from typing import Any

from ..diff import MISSING, DiffContext, Pattern, describe_value, same
from .common import diff_reference, ranges_equivalent

PATTERNS: tuple[tuple[Pattern, str], ...] = (
    (("spec", "provider"), "eval/provider-changed"),
    (("spec", "runner"), "eval/runner-changed"),
    (("spec", "repeat"), "eval/runner-changed"),
)

# Metric types whose threshold is a maximum (lower is better); every other threshold is a minimum.
LOWER_IS_BETTER = frozenset({"latency", "tokens", "cost", "refusal-rate", "toxicity-lexicon"})
# Suite gates: +1 when a higher value is stricter, -1 when a lower one is.
GATE_DIRECTION = {"minPassRate": 1, "requireHumanPassRate": 1, "maxRegression": -1}
UNMEASURED_STRICTNESS = {"ignore": 0, "warn": 1, "fail": 2}
DEFINITION_KEYS = ("type", "params", "field")


def _tightening(before: Any, after: Any, direction: int) -> bool | None:
    """True when ``after`` is the stricter limit, False when looser, None when not comparable.
    An absent limit is the loosest one."""
    if before is MISSING and after is not MISSING:
        return True
    if after is MISSING and before is not MISSING:
        return False
    if (
        isinstance(before, (int, float))
        and isinstance(after, (int, float))
        and not isinstance(before, bool)
        and not isinstance(after, bool)
    ):
        return (after > before) if direction > 0 else (after < before)
    return None


def _limit(
    ctx: DiffContext, where: tuple[str | int, ...], label: str, before: Any, after: Any, direction: int
) -> None:
    if same(before, after):
        return
    tighter = _tightening(before, after, direction)
    rule = "eval/threshold-tightened" if tighter else "eval/threshold-relaxed"
    if tighter is None:
        rule = "manifest/unclassified-change"
    ctx.hit(rule, where, f"{label}: {describe_value(before)} -> {describe_value(after)}")


def _metrics(value: Any) -> dict[str, tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return {}
    return {
        m["name"]: (i, m)
        for i, m in enumerate(value)
        if isinstance(m, dict) and isinstance(m.get("name"), str)
    }


def _diff_metrics(ctx: DiffContext) -> None:
    where = ("spec", "metrics")
    ctx.claim(*where)
    old, new = _metrics(ctx.before(*where)), _metrics(ctx.after(*where))
    for name in old:
        if name not in new:
            gated = " (its gate no longer applies)" if "threshold" in old[name][1] else ""
            ctx.hit("eval/metric-removed", where, f"metric {name!r} removed{gated}", detail={"metric": name})
    for name, (i, metric) in new.items():
        if name not in old:
            ctx.hit("eval/metric-added", (*where, i), f"metric {name!r} added")
            continue
        before = old[name][1]
        defn = {k: before.get(k, MISSING) for k in DEFINITION_KEYS}
        defn_new = {k: metric.get(k, MISSING) for k in DEFINITION_KEYS}
        if not same(defn, defn_new):
            changed = [k for k in DEFINITION_KEYS if not same(defn[k], defn_new[k])]
            ctx.hit(
                "eval/metric-changed",
                (*where, i, changed[0]),
                f"metric {name!r} definition changed: {', '.join(changed)}",
            )
            continue  # a new definition makes the old threshold incomparable
        mtype = metric.get("type")
        direction = -1 if mtype in LOWER_IS_BETTER else 1
        _limit(
            ctx,
            (*where, i, "threshold"),
            f"metric {name!r} threshold",
            before.get("threshold", MISSING),
            metric.get("threshold", MISSING),
            direction,
        )
        for key in sorted((set(before) | set(metric)) - {*DEFINITION_KEYS, "threshold", "name"}):
            if not same(before.get(key, MISSING), metric.get(key, MISSING)):
                ctx.hit(
                    "manifest/unclassified-change", (*where, i, key), f"metric {name!r} field {key!r} changed"
                )


def _diff_gates(ctx: DiffContext) -> None:
    where = ("spec", "gates")
    ctx.claim(*where)
    old, new = ctx.before(*where), ctx.after(*where)
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key, MISSING), new.get(key, MISSING)
        if key in GATE_DIRECTION:
            _limit(ctx, (*where, key), f"gate {key}", before, after, GATE_DIRECTION[key])
        elif key == "unmeasured":
            # absent means the default, "fail"
            b = UNMEASURED_STRICTNESS.get(before if isinstance(before, str) else "fail")
            a = UNMEASURED_STRICTNESS.get(after if isinstance(after, str) else "fail")
            if b is None or a is None:
                _limit(ctx, (*where, key), f"gate {key}", before, after, 1)
            elif a != b:
                ctx.hit(
                    "eval/threshold-tightened" if a > b else "eval/threshold-relaxed",
                    (*where, key),
                    f"gate unmeasured: {describe_value(before)} -> {describe_value(after)}",
                )
        elif not same(before, after):
            ctx.hit("manifest/unclassified-change", (*where, key), f"gate {key} changed")


def _targets(value: Any) -> set[tuple[str, str, str]]:
    out = set()
    if isinstance(value, list):
        for t in value:
            if isinstance(t, dict):
                out.add((str(t.get("kind")), str(t.get("name")), str(t.get("version"))))
    return out


def diff(ctx: DiffContext) -> None:
    diff_reference(ctx, "dataset", "dataset", "eval/dataset-swapped", "eval/dataset-range-changed")

    old_t, new_t = _targets(ctx.before("spec", "targets")), _targets(ctx.after("spec", "targets"))
    old_by_name = {(k, n): v for k, n, v in old_t}
    new_by_name = {(k, n): v for k, n, v in new_t}
    differs = sorted(
        key
        for key in set(old_by_name) | set(new_by_name)
        if not ranges_equivalent(old_by_name.get(key, MISSING), new_by_name.get(key, MISSING))
    )
    if differs:
        ctx.hit(
            "eval/targets-changed",
            ("spec", "targets"),
            "targets changed: " + ", ".join(f"{k} {n}" for k, n in differs),
        )
    ctx.claim("spec", "targets")

    _diff_metrics(ctx)
    _diff_gates(ctx)
