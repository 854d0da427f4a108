"""`llmgitops eval`: run an EvalSuite and apply its gates; merge shard reports; import human reviews."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, LLMGitOpsError
from ..validate import find_root
from .options import format_option, report


class EvalGroup(click.Group):
    """``llmgitops eval SUITE …`` is ``llmgitops eval run SUITE …``; ``merge`` and ``review`` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=EvalGroup)
def eval_group() -> None:
    """Run an EvalSuite on a model and apply its gates (`llmgitops eval SUITE`), merge shard reports, or
    import human review verdicts. Exit code 1 when a gate fails."""


def _repo(repo: Path | None) -> Path:
    return (repo or find_root(Path.cwd())).resolve()


def _summary_lines(doc: dict[str, Any]) -> list[str]:
    suite = doc["suite"]
    passed = doc.get("passed")
    verdict = (
        "shard done (gates are decided by `llmgitops eval merge`)"
        if passed is None
        else ("PASSED" if passed else "FAILED")
    )
    shard = f" shard {doc['shard']['index']}/{doc['shard']['count']}" if doc.get("shard") else ""
    s = doc["summary"]
    lines = [
        f"eval {suite['name']} {suite['version']} ({suite['environment']}){shard}: {verdict}",
        f"  records: {s['cases']} ({s['passed']} passed, {s['failed']} failed, {s['unmeasured']} unmeasured, "
        f"{s['errors']} without output)",
    ]
    cache = (doc.get("run") or {}).get("cache")
    if cache:
        memo = " (the run memo read the scored records back)" if cache.get("memo") == "hit" else ""
        lines.append(f"  answers: {cache['hits']} from the cache, {cache['misses']} fetched{memo}")
    for gate in doc.get("gates") or []:
        effect = f" [{gate['effect']}]" if gate.get("effect") else ""
        lines.append(f"  gate {gate['name']:<28} {gate['status']:<10}{effect} {gate['message']}")
    for metric in doc["metrics"]:
        if metric["status"] == "measured":
            ci = metric.get("ci")
            text = f"{metric['value']:.4g}" + (f" [{ci[0]:.4g}, {ci[1]:.4g}]" if ci else "")
            if metric.get("baseline") is not None:
                text += f" baseline {metric['baseline']:.4g} ({metric['delta']:+.4g})"
        else:
            text = f"unmeasured: {metric.get('reason', '')}"
        lines.append(f"  metric {metric['name']:<26} {text}")
    return lines


def _github_annotations(doc: dict[str, Any]) -> list[str]:
    out = []
    for gate in doc.get("gates") or []:
        if gate["status"] == "fail" or (gate["status"] == "unmeasured" and gate.get("effect") != "ignored"):
            level = "error" if gate["status"] == "fail" or gate.get("effect") == "fails the run" else "warning"
            message = gate["message"].replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            out.append(f"::{level} file={doc['suite']['path']},title=eval gate {gate['name']}::{message}")
    return out


def _print_outcome(doc: dict[str, Any], paths: dict[str, Path], fmt: str | None) -> int:
    from ..reporting import default_format

    chosen = default_format(fmt)
    if chosen == "json":
        from ..evaluation.report.json import dumps

        click.echo(dumps(doc), nl=False)
    else:
        click.echo("\n".join(_summary_lines(doc)))
        if chosen == "github":
            for line in _github_annotations(doc):
                click.echo(line)
    if paths:
        where = ", ".join(str(p) for p in paths.values())
        click.echo(f"reports: {where}", err=True)
    return EXIT_FINDINGS if doc.get("passed") is False else EXIT_OK


@eval_group.command("run")
@click.argument("suite")
@click.option(
    "--env", "env", help="Environment to take the suite from (default: the first that has it, in promotion order)."
)
@click.option(
    "--provider", help="A provider declared in the environment, openai:URL for an OpenAI-compatible endpoint, "
    "or replay:FILE for answers recorded with --record."
)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path),
    help="A previous report.json to compare with (default: the target Model's evalBaselines).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.json, report.md, report.html (default: .llmgitops/reports/ENV/SUITE).",
)
@click.option("--shard", help="Evaluate the deterministic slice i/n of the dataset (merge with `eval merge`).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the response cache.")
@click.option("--human-sample", type=click.IntRange(min=1), help="Write a review sheet of N stratified records.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every answer to a recordings file (JSONL) for the replay provider.",
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Repository root (default: found from the current directory).",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    help="Stop sending requests once fresh answers cost this much (the Model's pricing currency); "
    "the records left are unmeasured.",
)
@click.option(
    "--token-budget",
    type=click.IntRange(min=0),
    help="Stop sending requests once fresh answers used this many tokens.",
)
@click.option("--quiet", is_flag=True, help="No progress output.")
@format_option
def run_cmd(
    suite: str,
    env: str | None,
    provider: str | None,
    baseline: Path | None,
    report_dir: Path | None,
    shard: str | None,
    no_cache: bool,
    human_sample: int | None,
    record: Path | None,
    budget: float | None,
    token_budget: int | None,
    repo: Path | None,
    quiet: bool,
    fmt: str | None,
) -> int:
    """Run SUITE (an EvalSuite name or the path of its manifest) and apply its gates."""
    from ..evaluation.runner import EvalConfigError, RunOptions, run_suite
    from ..evaluation.shard import parse_shard

    options = RunOptions(
        provider=provider,
        shard=parse_shard(shard) if shard else None,
        baseline=baseline,
        report_dir=report_dir,
        use_cache=False if no_cache else None,
        record=record,
        human_sample=human_sample,
        progress=not quiet,
        budget=budget,
        token_budget=token_budget,
    )
    try:
        result = run_suite(_repo(repo), env, suite, options=options)
    except EvalConfigError as exc:
        return report(exc.findings, fmt)
    return _print_outcome(result.document, result.paths, fmt)


@eval_group.command("merge")
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the merged report.json, report.md, report.html.",
)
@format_option
def merge_cmd(reports: tuple[Path, ...], report_dir: Path, fmt: str | None) -> int:
    """Merge shard reports (report.json of each `--shard i/n` run) into the report of the whole run."""
    from ..evaluation.baseline import read_report
    from ..evaluation.report import write_reports
    from ..evaluation.shard import merge

    merged = merge([read_report(p) for p in reports])
    return _print_outcome(merged, write_reports(merged, report_dir), fmt)


@eval_group.group("review")
def review_group() -> None:
    """Human review of sampled records (sheets come from `llmgitops eval SUITE --human-sample N`)."""


@review_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="The report.json (or its folder) to update (default: report.json next to FILE).",
)
@format_option
def review_import_cmd(file: Path, report_path: Path | None, fmt: str | None) -> int:
    """Import the verdicts of a filled review CSV into a report and decide its gates again."""
    from ..evaluation.baseline import read_report
    from ..evaluation.report import write_reports
    from ..evaluation.review import import_review

    target = report_path or file.parent / "report.json"
    if target.is_dir():
        target = target / "report.json"
    if not target.is_file():
        raise LLMGitOpsError(f"{target}: no report to import into", hint="pass --report PATH/report.json")
    doc = import_review(read_report(target), file)
    return _print_outcome(doc, write_reports(doc, target.parent), fmt)
