"""The pull request description of a promotion, in Markdown: what moves, why the versions say so, what
the pipeline will do, and how to undo it."""

from __future__ import annotations

from typing import Any

from ..pipeline.model import EVALUATE, Pipeline
from ..versioning import FLAGS
from .plan import Plan
from .preview import Preview

FLAG_MEANING = {
    "requires-retrain": "weights must be trained again: the pipeline runs `train` for it",
    "requires-reembed": "the corpus must be embedded again: `reindex` builds a new collection and switches "
                        "the alias",
    "requires-index-rebuild": "the index must be rebuilt from the stored embeddings",
    "requires-rebaseline": "earlier evaluation baselines no longer compare: the new reports become the baseline",
    "gate-relaxation": "an evaluation gate got looser: reviewers should confirm this on purpose",
}


def cell(text: Any) -> str:
    """A Markdown table cell: pipes and line breaks would break the table, backticks the code spans."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _version(value: str | None) -> str:
    return f"`{value}`" if value else "—"


def _gates(preview: Preview, pipeline: Pipeline) -> list[str]:
    lines = []
    release = preview.release
    for step in pipeline.of_kind(EVALUATE):
        if step.artifact is None or release is None:
            continue
        suite = release.manifests.get(("EvalSuite", step.artifact.name))
        if suite is None:
            continue
        raw_gates = suite.spec.get("gates")
        gates: dict[str, Any] = raw_gates if isinstance(raw_gates, dict) else {}
        parts = [f"{k} {cell(v)}" for k, v in sorted(gates.items()) if isinstance(v, (int, float, str))]
        raw_metrics = suite.spec.get("metrics")
        metrics: list[Any] = raw_metrics if isinstance(raw_metrics, list) else []
        thresholds = [f"{cell(m.get('name'))} ≥ {cell(m.get('threshold'))}" for m in metrics
                      if isinstance(m, dict) and isinstance(m.get("threshold"), (int, float))]
        text = f"- `{step.artifact.ref}`: " + ("; ".join(parts) or "suite defaults")
        if thresholds:
            text += f" — thresholds: {', '.join(thresholds)}"
        lines.append(text)
    if preview.settings is not None and preview.settings.gates:
        floor = ", ".join(f"{k} {v:g}" for k, v in sorted(preview.settings.gates.items()))
        lines.append(f"- environment `{pipeline.environment}` floor (the stricter value wins): {floor}")
    if preview.settings is not None and preview.settings.metrics:
        analysis = ", ".join(f"{m.name} {m.comparison} {m.threshold:g}" for m in preview.settings.metrics)
        lines.append(f"- canary analysis at each weight: {analysis}")
    return lines


def describe(plan: Plan, preview: Preview) -> str:
    title = f"Promote {plan.source} → {plan.target}"
    out = [f"## {title}", "",
           f"Promoted from `{plan.source}` at `{plan.base[:12]}`; plan `{plan.hash[:12]}`, "
           f"branch `{plan.branch}`.", ""]
    if plan.only:
        out += ["Only: " + ", ".join(f"`{o}`" for o in plan.only) + " (and what they need).", ""]
    out += ["### Artifacts", "", "| Artifact | Change | Version | Bump | Flags |", "|---|---|---|---|---|"]
    for item in plan.items:
        flags = ", ".join(f"`{f}`" for f in item.flags) or "—"
        change = item.action + (f" (needed by {', '.join(item.required_by)})" if item.required_by else "")
        out.append(f"| `{item.ref}` | {cell(change)} | {_version(item.old_version)} → {_version(item.new_version)} "
                   f"| {item.required.label} | {flags} |")
    hits = [(item, hit) for item in plan.items for hit in item.change.hits]
    out += ["", "### Rules that fired", ""]
    if hits:
        out += [f"- `{item.ref}` `{hit.rule}` ({hit.level.label}) at `{cell(hit.json_path)}`: {cell(hit.message)}"
                for item, hit in hits]
    else:
        out.append("None: only added or removed artifacts, or changes that need no version bump.")
    flagged = {f: [i.ref for i in plan.items if f in i.flags] for f in FLAGS}
    out += ["", "### Flags", ""]
    if any(flagged.values()):
        out += [f"- `{flag}` ({', '.join(f'`{r}`' for r in refs)}): {FLAG_MEANING.get(flag, '')}"
                for flag, refs in flagged.items() if refs]
    else:
        out.append("None.")
    pipeline = preview.pipeline
    if pipeline is not None:
        out += ["", "### Gates that will run", ""]
        out += _gates(preview, pipeline) or ["No evaluation suite touches these changes."]
        out += ["", "### Pipeline", "",
                f"State `{pipeline.state[:12]}`. Each step is `llmgitops step <kind>` on this commit:", ""]
        for number, (step, line) in enumerate(zip(pipeline.steps, pipeline.describe(), strict=True), start=1):
            why = f" — {cell('; '.join(step.reasons))}" if step.reasons else ""
            out.append(f"{number}. `{cell(line)}`{why}")
        if pipeline.automatic_rollback:
            out.append(f"- on failure: `{pipeline.rollback.id}` restores the last good release")
    out += ["", "### Rolling back", "",
            f"- Before merging: close this pull request and delete `{plan.branch}`; nothing has run.",
            "- During the rollout: any failed step, analysis or rejected approval rolls back automatically "
            "(Argo `onExit`; locally, the `rollback` step restores the last good release).",
            "- After a completed rollout: revert the merge commit (`git revert -m 1 <merge>`) and merge the "
            "revert; the environment state changes again and its pipeline deploys the previous versions.",
            ""]
    return "\n".join(out)
