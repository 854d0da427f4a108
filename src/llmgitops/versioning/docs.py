"""The rule tables of docs/versioning.md, generated from the catalog (a test fails on drift).

    python -m llmgitops.versioning.docs            # print the tables
    python -m llmgitops.versioning.docs --write    # rewrite them in docs/versioning.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from .catalog import CATALOG, KIND_ORDER, POLICY_RULES

BEGIN = "<!-- BEGIN GENERATED from src/llmgitops/versioning/catalog.py: python -m llmgitops.versioning.docs --write -->"
END = "<!-- END GENERATED -->"
DOC = Path(__file__).resolve().parents[3] / "docs" / "versioning.md"
TITLES = {"*": "Every kind", "Model": "Model", "Prompt": "Prompt", "RagConfig": "RagConfig",
          "Dataset": "Dataset", "EvalSuite": "EvalSuite"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    out = [BEGIN, ""]
    for kind in KIND_ORDER:
        rules = sorted((r for r in CATALOG.values() if r.kind == kind), key=lambda r: (-r.level, r.id))
        out += [f"### {TITLES[kind]}", "", "| rule | level | flags | why |", "|---|---|---|---|"]
        for r in rules:
            level = r.level.label.upper()
            if r.editorial_level is not None:
                level += f" ({r.editorial_level.label.upper()} when claimed editorial)"
            flags = ", ".join(f"`{f}`" for f in r.flags) or "-"
            out.append(f"| `{r.id}` | {level} | {flags} | {_cell(r.reason)} |")
        out.append("")
    out += ["### Findings of `check-versions`", "", "| rule | severity | meaning |", "|---|---|---|"]
    for p in POLICY_RULES:
        out.append(f"| `{p.id}` | {p.severity.value} | {_cell(p.summary)} |")
    out += ["", END]
    return "\n".join(out)


def splice(document: str, tables: str) -> str:
    start, end = document.find(BEGIN), document.find(END)
    if start == -1 or end == -1 or end < start:
        raise ValueError("docs/versioning.md has no generated section markers")
    return document[:start] + tables + document[end + len(END):]


def main(argv: list[str]) -> int:
    tables = render()
    if "--write" in argv:
        DOC.write_text(splice(DOC.read_text(encoding="utf-8"), tables), encoding="utf-8")
    else:
        sys.stdout.write(tables + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
