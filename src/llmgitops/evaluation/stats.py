"""Percentiles and seeded bootstrap confidence intervals.

The bootstrap resamples cases with replacement (``B`` times, 2,000 by default) from a generator seeded
by the suite, so the same results give the same interval on every machine and every re-run. For a
regression against a baseline report the resampling is paired: the same resampled cases on both
sides, so what varies is the per-case difference, which is far less noisy than two independent means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, "type 7")."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _aggregate_rows(samples: Any, q: float | None) -> Any:
    import numpy as np

    if q is None:
        return np.mean(samples, axis=1)
    return np.percentile(samples, q, axis=1)


def bootstrap_interval(
    values: Sequence[float],
    seed: int,
    q: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean (or of the ``q``-th percentile) of ``values``."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("bootstrap of no values")
    if data.size == 1 or np.all(data == data[0]):
        point = float(data[0])
        return point, point
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, data.size, size=(resamples, data.size))
    stats = _aggregate_rows(data[idx], q)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return float(lo), float(hi)


def paired_delta_interval(
    current: Sequence[float],
    baseline: Sequence[float],
    seed: int,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[float, float, float]:
    """(mean difference current - baseline, interval low, interval high) over paired cases."""
    import numpy as np

    if len(current) != len(baseline) or not current:
        raise ValueError("paired bootstrap needs two equally long, non-empty samples")
    diff = np.asarray(current, dtype=float) - np.asarray(baseline, dtype=float)
    point = float(math.fsum(diff.tolist()) / diff.size)
    if diff.size == 1 or np.all(diff == diff[0]):
        return point, point, point
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(resamples, diff.size))
    stats = diff[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return point, float(lo), float(hi)
