"""Side-by-side timing: run commands alternately, report medians and ratios."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def wall(cmd: Sequence[str], cwd: Path, expect: int | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if expect is not None and done.returncode != expect:
        raise SystemExit(f"{cmd[0]} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def alternate(commands: dict[str, tuple[Sequence[str], int | None]], cwd: Path, rounds: int) -> dict[str, float]:
    """Median wall seconds of each command, run in turn ``rounds`` times after one warm-up each."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd, expect in commands.values():
        wall(cmd, cwd, expect)
    for _ in range(rounds):
        for name, (cmd, expect) in commands.items():
            times[name].append(wall(cmd, cwd, expect))
    return {name: statistics.median(values) for name, values in times.items()}
