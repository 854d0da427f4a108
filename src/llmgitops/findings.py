"""Findings are data: every check returns them, every reporter formats them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based; 0 means "the whole file"."""

    path: str
    line: int
    column: int
    rule: str
    severity: Severity
    message: str
    hint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        if not self.extra:
            data.pop("extra")
        return data


def error(path: str, pos: tuple[int, int], rule: str, message: str, hint: str | None = None) -> Finding:
    return Finding(path, pos[0], pos[1], rule, Severity.ERROR, message, hint)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Sorted and de-duplicated, so output is stable across runs."""
    return sorted(set(findings), key=lambda f: f.sort_key)


def has_errors(findings: Iterable[Finding], strict: bool = False) -> bool:
    floor = Severity.WARNING.rank if strict else Severity.ERROR.rank
    return any(f.severity.rank >= floor for f in findings)
