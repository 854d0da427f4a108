"""Errors that end a command carry their exit code, as click's ClickException does."""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class LLMGitOpsError(click.ClickException):
    """A failure to report in one line, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FINDINGS, hint: str | None = None) -> None:
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""))
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


class UsageError(LLMGitOpsError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, EXIT_USAGE, hint)
