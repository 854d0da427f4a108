"""Progress of a run: a rich progress bar on a terminal, a few plain lines in CI logs (no TTY)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


class Progress:
    LOG_EVERY_SECONDS = 10.0

    def __init__(self, label: str, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.done = 0
        self.errors = 0
        self.started = time.perf_counter()
        self._next_fraction = 0.1
        self._last_log = self.started
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled and self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[errors]}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, errors="")
        return self

    def advance(self, error: bool = False) -> None:
        self.done += 1
        self.errors += int(error)
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, advance=1, errors=f"{self.errors} errors" if self.errors else "")
            return
        now = time.perf_counter()
        if (
            self.done == self.total
            or self.done / self.total >= self._next_fraction
            or now - self._last_log >= self.LOG_EVERY_SECONDS
        ):
            while self._next_fraction <= self.done / self.total:
                self._next_fraction += 0.1
            self._last_log = now
            rate = self.done / max(now - self.started, 1e-9)
            speed = f"{rate:.1f}/s" if rate >= 1 else f"{1 / rate:.1f} s each"
            errors = f", {self.errors} error{'s' * (self.errors != 1)}" if self.errors else ""
            print(
                f"{self.label}: {self.done}/{self.total} records ({self.done / self.total:.0%}){errors}, {speed}",
                file=self.stream,
                flush=True,
            )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
