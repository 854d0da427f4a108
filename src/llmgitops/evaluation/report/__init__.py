"""Reports of a run: ``report.json`` (machines), ``report.md`` (the pull-request comment) and
``report.html`` (people; self-contained, works offline). All three are written to a temporary name and
renamed, so a reader never sees half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_reports(doc: dict[str, Any], directory: Path) -> dict[str, Path]:
    from .html import render_html
    from .json import dumps
    from .markdown import render_markdown

    paths = {"json": directory / "report.json", "markdown": directory / "report.md", "html": directory / "report.html"}
    write_text(paths["json"], dumps(doc))
    write_text(paths["markdown"], render_markdown(doc))
    write_text(paths["html"], render_html(doc))
    return paths
