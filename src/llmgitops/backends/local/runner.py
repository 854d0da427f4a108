"""Run an environment's pipeline on this machine.

The revision is checked out into a temporary `git worktree` (the steps read manifests and data there,
as each Argo step reads its own checkout), steps run in dependency order on a pool of two threads, each
with its own log file, and the run is recorded as JSON under ``.llmgitops/runs/<run id>/run.json``. When
a step fails no new step starts; the running ones finish, then the rollback step restores the last good
release (when the Environment's ``deploy.rollback.automatic`` allows).
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import LLMGitOpsError
from ...gitrepo import Git, require
from ...manifests.repository import Repository
from ...manifests.source import WorkingTree
from ...pipeline.build import build_pipeline
from ...pipeline.model import Pipeline, Step
from ...pipeline.release import Release, changes_between, release_of
from ...pipeline.settings import settings_of
from ...pipeline.steps import StepContext, run_step
from ...pipeline.workspace import local_dir
from .state import load, now

WORKERS = 2
SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"


@dataclass
class StepRecord:
    id: str
    kind: str
    status: str
    summary: str = ""
    log: str = ""
    started: str | None = None
    seconds: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "summary": self.summary, "log": self.log,
                "started": self.started, "seconds": round(self.seconds, 3), "outputs": self.outputs}


@dataclass
class RunRecord:
    id: str
    environment: str
    revision: str
    state: str
    pipeline: Pipeline
    baseline: str
    steps: dict[str, StepRecord] = field(default_factory=dict)
    rollback: StepRecord | None = None
    status: str = "running"
    started: str = field(default_factory=now)
    finished: str | None = None
    traffic: dict[str, int] = field(default_factory=dict)
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCEEDED

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "environment": self.environment, "revision": self.revision, "state": self.state,
                "status": self.status, "started": self.started, "finished": self.finished,
                "baseline": self.baseline, "pipeline": self.pipeline.to_dict(),
                "steps": [self.steps[s.id].to_dict() for s in self.pipeline.steps if s.id in self.steps],
                "rollback": self.rollback.to_dict() if self.rollback else None, "traffic": self.traffic}


def candidate_release(root: Path, checkout_root: Path, env: str) -> tuple[Release, str]:
    """The release at the checkout, with the changes since what serves here (the local stable release);
    before anything was deployed, the changes its rendered record names, or everything as new."""
    from ...backends.argo.render import read_record

    repo = Repository(WorkingTree(checkout_root))
    release = release_of(repo.environment(env))
    state = load(root, env)
    if state.stable is not None:
        git = Git.discover(root)

        def blobs(ids: Any) -> dict[str, bytes]:
            from ...gitrepo import read_blobs
            from ...manifests.loader import MAX_BYTES

            return {k: b.head for k, b in read_blobs(git, ids, MAX_BYTES + 1).items()}

        stable = state.stable.release(env)
        return (release.with_changes(changes_between(stable, release, blobs)),
                f"the stable release {state.stable.state[:12]} deployed here")
    record = read_record(WorkingTree(checkout_root), env)
    if record is not None and record.entries == release.entries:
        return release.with_changes(record.changes), "the changes in the rendered release record"
    return release.with_changes(changes_between(None, release)), "nothing (first deployment: everything is new)"


class Runner:
    def __init__(self, ctx_factory: Callable[[Step, Callable[[str], None]], StepContext], pipeline: Pipeline,
                 record: RunRecord, run_dir: Path, echo: Callable[[str], None]) -> None:
        self.ctx_factory = ctx_factory
        self.pipeline = pipeline
        self.record = record
        self.run_dir = run_dir
        self.echo = echo
        self.lock = threading.Lock()

    def _execute(self, step: Step) -> StepRecord:
        log_path = self.run_dir / f"{step.id}.log"
        entry = StepRecord(step.id, step.kind, "running", log=log_path.name, started=now())
        start = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as fh:
            def log(message: str) -> None:
                stamp = datetime.datetime.now(datetime.UTC).strftime("%H:%M:%S")
                for line in message.splitlines() or [""]:
                    fh.write(f"{stamp} {line}\n")
                fh.flush()

            log(f"step {step.id} ({step.kind}) in {self.record.environment} at {self.record.revision}")
            try:
                outcome = run_step(self.ctx_factory(step, log), step)
            except LLMGitOpsError as exc:
                entry.status, entry.summary = FAILED, exc.message.splitlines()[0]
                log(f"failed: {exc.message}")
            except Exception as exc:  # a step's own bug: recorded as the step's failure, then rolled back
                entry.status, entry.summary = FAILED, f"internal error: {type(exc).__name__}: {exc}"
                import traceback

                log(traceback.format_exc())
            else:
                entry.status, entry.summary, entry.outputs = SUCCEEDED, outcome.summary, outcome.outputs
                log(f"succeeded: {outcome.summary}")
        entry.seconds = time.monotonic() - start
        return entry

    def run(self) -> None:
        done: set[str] = set()
        failed = False
        running: dict[Future[StepRecord], Step] = {}
        pending = list(self.pipeline.steps)
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="llmgitops-step") as pool:
            while pending or running:
                if not failed:
                    for step in [s for s in pending if all(n in done for n in s.needs)]:
                        if len(running) >= WORKERS:
                            break
                        pending.remove(step)
                        self.echo(f"  ▶ {step.id}")
                        running[pool.submit(self._execute, step)] = step
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    step = running.pop(future)
                    entry = future.result()
                    self.record.steps[step.id] = entry
                    mark = "✓" if entry.status == SUCCEEDED else "✗"
                    self.echo(f"  {mark} {step.id}: {entry.summary} ({entry.seconds:.1f}s)")
                    if entry.status == SUCCEEDED:
                        done.add(step.id)
                    else:
                        failed = True
        for step in pending:
            self.record.steps[step.id] = StepRecord(step.id, step.kind, SKIPPED, "not run: an earlier step failed")
        if failed and self.pipeline.automatic_rollback:
            self.echo(f"  ↺ {self.pipeline.rollback.id}")
            entry = self._execute(self.pipeline.rollback)
            self.record.rollback = entry
            mark = "✓" if entry.status == SUCCEEDED else "✗"
            self.echo(f"  {mark} {entry.id}: {entry.summary} ({entry.seconds:.1f}s)")
        self.record.status = FAILED if failed else SUCCEEDED


def run_pipeline(root: Path, env: str, revision: str | None = None, provider: str | None = None,
                 approvals: tuple[str, ...] = (), echo: Callable[[str], None] = print) -> RunRecord:
    git = Git.discover(root)
    root = git.root
    sha = require(git, revision or "HEAD", "revision")
    repo_here = Repository(WorkingTree(root))
    if env not in Repository(_tree(git, sha)).environment_names():
        names = ", ".join(repo_here.environment_names()) or "none"
        raise LLMGitOpsError(f"there is no environment {env!r} at {sha[:12]}", hint=f"environments: {names}")
    with git.temporary_worktree(sha, prefix="llmgitops-run-") as tree:
        release, baseline = candidate_release(root, tree, env)
        env_manifest = Repository(WorkingTree(tree)).environment(env).environment
        if env_manifest is None:
            raise LLMGitOpsError(f"environment {env} has no environment.yaml at {sha[:12]}")
        settings = settings_of(env_manifest)
        provider = provider or local_provider(env_manifest)
        pipeline = build_pipeline(release, settings)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        run_id = f"{env}-{stamp}-{release.state[:8]}"
        run_dir = local_dir(root, "runs", run_id)
        record = RunRecord(run_id, env, sha, release.state, pipeline, baseline)
        shared: dict[str, Any] = {"backend": "local"}
        lock = threading.Lock()

        def context(step: Step, log: Callable[[str], None]) -> StepContext:
            return StepContext(repo_root=tree, state_root=root, environment=env, revision=sha, release=release,
                               settings=settings, out_dir=run_dir, provider=provider, approvals=approvals,
                               log=log, lock=lock, shared=shared)

        echo(f"pipeline {env} at {sha[:12]} (state {release.state[:12]}; changes since {baseline}): "
             f"{len(pipeline.steps)} steps")
        Runner(context, pipeline, record, run_dir, echo).run()
    record.finished = now()
    record.traffic = load(root, env).traffic
    record.path = run_dir / "run.json"
    record.path.write_text(json.dumps(record.to_dict(), indent=2) + "\n", encoding="utf-8")
    return record


def local_provider(env_manifest: Any) -> str | None:
    """On this machine evaluations use the embedded models: the Environment's first `transformers`
    provider (its cluster endpoints are out of reach); None lets the evaluation engine choose."""
    providers = env_manifest.spec.get("providers")
    if not isinstance(providers, dict):
        return None
    for name in sorted(providers):
        if isinstance(providers[name], dict) and providers[name].get("type") == "transformers":
            return str(name)
    return None


def _tree(git: Git, sha: str) -> Any:
    from ...gitrepo import GitTree

    return GitTree(git, sha)
