"""`llmgitops rag`: deep RagConfig checks, index compatibility of a change, re-index plans and runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, UsageError
from ..validate import find_root
from .options import format_option, report, strict_option

repo_option = click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
                           help="Repository root (default: found from the current directory).")
store_option = click.option("--store", "store", default=None,
                            help="Vector store: a folder (FAISS, embedded Qdrant) or a Qdrant URL (default: "
                                 "$LLMGITOPS_VECTOR_STORE, else .llmgitops/state/<env>-vector-store).")
output_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             help="Output format.")


def _store(root: Path, env: str, store: str | None) -> str:
    from ..pipeline.steps.reindex import STORE_ENV
    from ..pipeline.workspace import local_dir

    return store or os.environ.get(STORE_ENV) or str(local_dir(root, "state", f"{env}-vector-store"))


@click.group()
def rag() -> None:
    """RAG: deep checks, what a RagConfig change forces, blue/green re-indexing."""


@rag.command("check")
@click.argument("environments", nargs=-1)
@repo_option
@format_option
@strict_option
def check(environments: tuple[str, ...], repo: Path | None, fmt: str | None, strict: bool) -> int:
    """Load every RagConfig's embedding model and check it for real: the output dimension against
    embedding.dimensions, and a tokenizer where chunks are counted in tokens. Slower than `validate`
    (models load), so it is not a hook; run it in CI or before a re-index."""
    from ..manifests.repository import Repository
    from ..manifests.source import WorkingTree
    from ..rag.checks import check as cheap_check
    from ..rag.checks import deep_check

    root = repo or find_root(Path.cwd())
    repository = Repository(WorkingTree(root))
    known = repository.environment_names()
    unknown = [e for e in environments if e not in known]
    if unknown:
        raise UsageError(f"no environment {', '.join(unknown)} (known: {', '.join(known) or 'none'})")
    findings = []
    for name in environments or tuple(known):
        state = repository.environment(name)
        findings += cheap_check(repository, state) + deep_check(repository, state)
    return report(findings, fmt, strict)


def _load_ragconfig(path: Path) -> Any:
    from ..manifests.loader import load_bytes
    from ..manifests.repository import Manifest

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    result = load_bytes(raw, str(path))
    if result.document is None:
        first = result.findings[0]
        raise UsageError(f"{path}:{first.line}:{first.column}: {first.message}")
    manifest = Manifest(str(path), None, None, result.document, raw)
    if manifest.kind != "RagConfig":
        raise UsageError(f"{path} is a {manifest.kind or 'document without a kind'}, not a RagConfig")
    return manifest


@rag.command("compat")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option
def compat(old: Path, new: Path, fmt: str) -> int:
    """What changing RagConfig OLD into NEW forces on the index: reembed, rebuild, query-only or none."""
    from ..rag.compat import assess

    result = assess(_load_ragconfig(old), _load_ragconfig(new))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
        return EXIT_OK
    click.echo(f"{result.action} (at least a {result.level.label} version bump)")
    for reason in result.reasons:
        click.echo(f"  {reason.rule}: {reason.message}\n    {reason.reason}")
    return EXIT_OK


def _print_plan(plan: Any) -> None:
    click.echo(f"{plan.ragconfig} {plan.version}: {plan.action} (alias {plan.alias} -> "
               f"{plan.serving or 'nothing'} now)")
    for reason in plan.reasons:
        click.echo(f"  because {reason.rule}: {reason.message}")
    for number, step in enumerate(plan.steps, start=1):
        click.echo(f"  {number}. {step.name}: {step.detail}")


@rag.command("plan")
@click.argument("environment")
@click.argument("ragconfig")
@repo_option
@store_option
@output_option
def plan(environment: str, ragconfig: str, repo: Path | None, store: str | None, fmt: str) -> int:
    """Show what `rag reindex` would do for ENVIRONMENT's RAGCONFIG, without doing it."""
    from ..rag.reindex import plan_for

    root = repo or find_root(Path.cwd())
    result = plan_for(root, environment, ragconfig, _store(root, environment, store))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_plan(result)
    return EXIT_OK


@rag.command("reindex")
@click.argument("environment")
@click.argument("ragconfig")
@repo_option
@store_option
@click.option("--provider", default=None, help="An openai provider of the Environment to embed with "
                                                "(default: the RagConfig's model in this process).")
@output_option
def reindex(environment: str, ragconfig: str, repo: Path | None, store: str | None, provider: str | None,
            fmt: str) -> int:
    """Serve ENVIRONMENT's RAGCONFIG: build a new collection beside the old one when the change calls for
    it, verify it, switch the alias, and keep the old collection for rollback."""
    from ..rag.reindex import run

    root = repo or find_root(Path.cwd())
    result = run(root, environment, ragconfig, _store(root, environment, store), provider)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _print_plan(result.plan)
        if result.count is not None:
            click.echo(f"  built {result.count} vectors; embedding cache {result.cache.get('hits', 0)} hits, "
                       f"{result.cache.get('misses', 0)} misses; checks {result.checks}")
        click.echo(("ok: " if result.ok else "failed: ") + result.message)
    return EXIT_OK if result.ok else EXIT_FINDINGS


@rag.command("rollback")
@click.argument("alias")
@click.argument("collection")
@click.option("--store-kind", type=click.Choice(["faiss", "qdrant"]), default="faiss", show_default=True)
@click.option("--store", "store", required=True, help="The vector store folder or Qdrant URL.")
def rollback(alias: str, collection: str, store_kind: str, store: str) -> int:
    """Point ALIAS back at a retained COLLECTION."""
    from ..rag.reindex import rollback as do_rollback
    from ..rag.stores.base import open_store

    opened = open_store(store_kind, store)
    try:
        before = opened.alias(alias)
        do_rollback(opened, alias, collection)
    finally:
        opened.close()
    click.echo(f"{alias} -> {collection} (was {before or 'nothing'})")
    return EXIT_OK


@rag.command("eval")
@click.argument("suite")
@click.option("--env", "env", default=None, help="Environment of the suite (default: the first that has it).")
@click.option("--baseline-env", default=None, help="Compare with the RagConfig of the same name in this "
                                                     "environment (where it serves now).")
@click.option("--baseline-ref", default=None, help="Compare with the RagConfig at this Git revision.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for report.json, report.md, report.html (default: .llmgitops/reports/ENV/SUITE).")
@repo_option
@output_option
def eval_(suite: str, env: str | None, baseline_env: str | None, baseline_ref: str | None,
          report_dir: Path | None, repo: Path | None, fmt: str) -> int:
    """Run retrieval suite SUITE on its RagConfig and on the current one (--baseline-env or --baseline-ref)
    over the same queries; the regression gates decide on a paired bootstrap interval. Exit 1 when a gate
    fails."""
    from ..rag.compare import run_against_baseline

    root = repo or find_root(Path.cwd())
    result = run_against_baseline(root, env, suite, baseline_env=baseline_env, baseline_ref=baseline_ref,
                                  report_dir=report_dir)
    doc = result.document
    if fmt == "json":
        click.echo(json.dumps({"passed": doc["passed"], "baseline": doc["baselineRun"], "metrics": doc["metrics"],
                               "gates": doc["gates"], "reports": {k: str(v) for k, v in result.paths.items()}},
                              indent=2))
    else:
        base = doc["baselineRun"]
        click.echo(f"{doc['suite']['name']} on RagConfig {doc['targets'][0]['name']} "
                   f"{doc['targets'][0]['version']} vs {base['target']['version']} from {base['source']}: "
                   + ("PASSED" if doc["passed"] else "FAILED"))
        for metric in doc["metrics"]:
            if metric.get("value") is None:
                click.echo(f"  metric {metric['name']:<24} unmeasured: {metric.get('reason', '')}")
                continue
            was = metric.get("baseline")
            change = f" (baseline {was:.4g}, {metric['delta']:+.4g})" if was is not None else ""
            click.echo(f"  metric {metric['name']:<24} {metric['value']:.4g}{change}")
        for gate in doc["gates"]:
            click.echo(f"  gate {gate['name']:<26} {gate['status']:<10} {gate['message']}")
        for kind, path in sorted(result.paths.items()):
            click.echo(f"  {kind} report: {path}")
    return EXIT_OK if doc["passed"] else EXIT_FINDINGS
