"""Deterministic slices of a dataset, and the merge of shard reports into the report of the whole.

Shard ``i/n`` (1-based) takes the records whose position in the dataset leaves remainder ``i-1`` when
divided by ``n``: every record lands in exactly one shard, shards stay the same size within one record,
and a slice never depends on timing. ``merge`` checks that the reports belong together (same suite,
dataset, provider, settings and baseline; shards 1..n each exactly once), puts the cases back in dataset
order and summarizes them with the very code an unsharded run uses; so the merged report equals the
unsharded one except for ``run`` (timings and provenance).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

from ..errors import UsageError
from .gates import summarize

T = TypeVar("T")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
# what must agree between shard reports of one run
IDENTITY_KEYS = ("schema", "suite", "targets", "dataset", "provider", "settings", "metricDefinitions", "baseline")


def parse_shard(text: str) -> tuple[int, int]:
    match = _SHARD.match(text)
    if not match:
        raise UsageError(f"--shard {text!r}: expected i/n, e.g. 2/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UsageError(f"--shard {text}: i must lie between 1 and n")
    return index, count


def select(items: Sequence[T], index: int, count: int, position: Any = None) -> list[T]:
    """The items of shard ``index``/``count``; ``position(item)`` gives an item's dataset position."""
    if position is None:
        return [item for i, item in enumerate(items) if i % count == index - 1]
    return [item for item in items if position(item) % count == index - 1]


class MergeError(UsageError):
    pass


def merge(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    if not reports:
        raise MergeError("nothing to merge")
    shards = [r.get("shard") for r in reports]
    if any(not isinstance(s, dict) for s in shards):
        raise MergeError("only shard reports (from `llmgitops eval --shard i/n`) can be merged")
    counts = {s["count"] for s in shards if isinstance(s, dict)}
    if len(counts) != 1:
        raise MergeError(f"the reports come from different splits: shard counts {sorted(counts)}")
    count = counts.pop()
    indexes = sorted(s["index"] for s in shards if isinstance(s, dict))
    if indexes != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(indexes))
        extra = sorted(i for i in set(indexes) if indexes.count(i) > 1)
        parts = ([f"missing shard(s) {', '.join(map(str, missing))}"] if missing else []) + (
            [f"shard(s) {', '.join(map(str, extra))} given twice"] if extra else []
        )
        raise MergeError(f"cannot merge {count} shards: {'; '.join(parts)}")
    first = reports[0]
    for report in reports[1:]:
        for key in IDENTITY_KEYS:
            if report.get(key) != first.get(key):
                raise MergeError(
                    f"shard {report['shard']['index']} differs from shard {first['shard']['index']} in "
                    f"`{key}`: the reports are not from one run"
                )
    merged: dict[str, Any] = {key: first[key] for key in IDENTITY_KEYS if key in first}
    merged["shard"] = None
    merged["cases"] = sorted((case for r in reports for case in r["cases"]), key=lambda c: c["index"])
    if len({c["id"] for c in merged["cases"]}) != len(merged["cases"]):
        raise MergeError("the shards share records: they were not split from one dataset the same way")
    runs = [r.get("run") or {} for r in sorted(reports, key=lambda r: r["shard"]["index"])]
    summarize(merged)
    merged["run"] = {
        "mergedFrom": [{"shard": f"{i + 1}/{count}", **run} for i, run in enumerate(runs)],
        "seconds": round(max((r.get("seconds") or 0.0) for r in runs), 3),
    }
    return merged
