"""The run memo: an unchanged re-run reads the last run's scored records back instead of scoring them again.

The response cache spares an unchanged re-run every model call; what it leaves is the work per record
(render, hash, look up, score). Like DVC's run cache, the memo skips that too when nothing a result
depends on has changed, so a hit returns exactly what re-scoring from the response cache would. Its key
covers the suite, every manifest of the environment (prompts, models, providers, pricing, judges), the
dataset's bytes, what metrics read from files, the shard, the ``--provider`` choice and this package's
code. A run is remembered only when replaying it is exact:

* built-in target kinds without a retriever (an index lives outside the manifests) and built-in metric
  types (a plug-in may read anything);
* a provider the response cache covers (replayed answers come from a recordings file instead);
* every record answered and every metric measured or not applicable: a failure is retried by the next
  run, never replayed.

The memo lives in the response cache's database, one entry per scope (environment, suite, shard);
``--no-cache`` bypasses both, and ``--record`` needs the requests themselves, so it bypasses the memo.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from .providers import canonical_json
from .suite import Plan
from .targets import ModelTarget, PromptTarget

if TYPE_CHECKING:
    from .providers.cache import ResponseCache

BUILT_IN_TARGETS = (PromptTarget, ModelTarget)
BUILT_IN_METRICS = "llmgitops.evaluation.metrics."


@dataclass(frozen=True)
class MemoKey:
    """The key of a run the memo can stand in for, or why it cannot (``key`` is then None)."""

    key: str | None
    reason: str | None = None


NO_MEMO = MemoKey(None, "the cache is off")


def memo_key(
    plan: Plan, dataset_digest: str, provider: str | None, shard: tuple[int, int] | None, recording: bool
) -> MemoKey:
    if recording:
        return MemoKey(None, "recording")
    target = plan.target
    if type(target) not in BUILT_IN_TARGETS or target.retriever is not None:
        return MemoKey(None, f"target kind {target.kind} reads outside its manifests")
    plugin = next((m for m in plan.metrics if not type(m).__module__.startswith(BUILT_IN_METRICS)), None)
    if plugin is not None:
        return MemoKey(None, f"metric {plugin.spec.name} is a plug-in")
    named = [plan.providers.get(str(m.params["provider"])) for m in plan.metrics if "provider" in m.params]
    if any(c is not None and c.type == "replay" for c in [plan.provider_config, *named]):
        return MemoKey(None, "answers are replayed from recordings")
    parts = {
        "code": code_fingerprint(),
        "suite": plan.suite.digest,
        "environment": sorted(f"{m.relpath}\n{m.digest}" for m in plan.env.manifests),
        "dataset": dataset_digest,
        "metrics": [m.outside_inputs() for m in plan.metrics],
        "provider": provider,
        "shard": list(shard) if shard else None,
    }
    return MemoKey(hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest())


def remember(cache: ResponseCache, memo: MemoKey, cases: list[dict[str, Any]]) -> str:
    """Store a finished run under its key when it can be replayed exactly; returns what the report's
    ``run.cache.memo`` says."""
    if memo.key is None:
        return memo.reason or "off"
    if not replayable(cases):
        return "not stored: a record was not answered or not measured"
    cache.remember_run(memo.key, cases, cache.hits + cache.misses)
    return "stored"


def replayable(cases: list[dict[str, Any]]) -> bool:
    """True when every record was answered and every metric measured (or not applicable)."""
    for case in cases:
        if case.get("error") is not None:
            return False
        for entry in (case.get("metrics") or {}).values():
            if entry.get("value") is None and entry.get("applicable") is not False:
                return False
    return True


@cache
def code_fingerprint() -> str:
    """This package's version and the size and modification time of each of its modules: an edited
    checkout (an editable install) must not be answered with results an older metric computed."""
    package = Path(__file__).resolve().parents[1]
    stats = []
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        stats.append(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256(json.dumps([__version__, stats]).encode("utf-8")).hexdigest()
