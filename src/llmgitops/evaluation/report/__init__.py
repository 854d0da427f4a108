"""Reports of a run: ``report.json`` (machines), ``report.md`` (the pull-request comment) and
``report.html`` (people; self-contained, works offline). All three are written to a temporary name and
renamed, so a reader never sees half a report."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ...atomicfile import write_text

TAIL_BYTES = 4096  # report.json ends with its small ``run`` line


def write_reports(doc: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Write the three reports. ``run.resultSha256`` identifies the results; when the folder already holds
    reports of the very same results (an unchanged re-run), only report.json's ``run`` changes, so the
    Markdown and HTML pages, which show no timings, are left as they are."""
    from .html import render_html
    from .json import lines_of
    from .markdown import render_markdown

    paths = {"json": directory / "report.json", "markdown": directory / "report.md", "html": directory / "report.html"}
    body = lines_of(doc, timing=False)
    digest = hashlib.sha256(("{\n" + ",\n".join(body) + "\n}\n").encode("utf-8")).hexdigest()
    unchanged = _holds(paths["json"], digest) and paths["markdown"].is_file() and paths["html"].is_file()
    run = {**(doc.get("run") or {}), "resultSha256": digest}
    doc["run"] = run
    write_text(paths["json"], "{\n" + ",\n".join([*body, *lines_of({"run": run})]) + "\n}\n")
    if not unchanged:
        write_text(paths["markdown"], render_markdown(doc))
        write_text(paths["html"], render_html(doc))
    return paths


def _holds(report: Path, digest: str) -> bool:
    """True when ``report``'s last line, its ``run``, names ``digest`` (the tail is all it reads)."""
    try:
        with report.open("rb") as fh:
            fh.seek(max(0, fh.seek(0, 2) - TAIL_BYTES))
            return f'"resultSha256": "{digest}"'.encode() in fh.read()
    except OSError:
        return False
