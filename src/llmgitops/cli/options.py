"""Options and output shared by the commands that report findings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ..errors import EXIT_FINDINGS, EXIT_OK
from ..findings import Finding, has_errors
from ..reporting import FORMATS, as_json, default_format, render, summary_line

F = TypeVar("F", bound=Callable[..., Any])


def format_option(func: F) -> F:
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default=None,
        help="Output format (default: text; github under GitHub Actions).",
    )(func)


def strict_option(func: F) -> F:
    return click.option("--strict", is_flag=True, help="Treat warnings as failures.")(func)


def report(findings: Sequence[Finding], fmt: str | None, strict: bool = False, text_head: str = "",
           json_extra: dict[str, Any] | None = None) -> int:
    """Print findings in the chosen format and return the exit code they call for.

    ``text_head`` precedes the findings in text output (a command's own summary of what it looked at);
    ``json_extra`` adds keys to the JSON document (the data a pipeline consumes)."""
    chosen = default_format(fmt)
    if chosen == "json":
        click.echo(as_json(findings, json_extra), nl=False)
    else:
        if chosen == "text" and text_head:
            click.echo(text_head, nl=False)
        out = render(findings, chosen)
        if out:
            click.echo(out, nl=False)
        if chosen == "text":
            click.echo(summary_line(findings), err=True)
    return EXIT_FINDINGS if has_errors(findings, strict) else EXIT_OK
