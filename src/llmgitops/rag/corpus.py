"""A RagConfig's corpus: the documents of its source Datasets, read the way ``spec.parsing`` says.

Record datasets (JSONL, CSV) are read by the evaluation engine's dataset loader, so path safety, DVC
integrity (md5 against the pointer) and schema validation are the same everywhere; each record is one
document (``idField``, ``titleField``, ``textField``). A single-file text, markdown or HTML dataset is one
document whose id is its file path. HTML is reduced to its text.
"""

from __future__ import annotations

import html.parser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LLMGitOpsError
from ..findings import Finding, Severity
from ..manifests.ranges import RangeError, satisfies
from ..manifests.repository import EnvironmentState, Manifest
from ..manifests.source import file_problem
from .spec import RagSpec

RECORD_FORMATS = ("jsonl", "csv")
FILE_FORMATS = ("text", "markdown")
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    title: str | None = None


class CorpusError(LLMGitOpsError):
    """The corpus cannot be read; ``findings`` say where."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class _TextOnly(html.parser.HTMLParser):
    _SKIP = frozenset({"script", "style", "head"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def find_source(state: EnvironmentState, name: str, version_range: str) -> Manifest | None:
    """The Dataset a source reference names, when its version satisfies the range."""
    manifest = state.find("Dataset", name)
    if manifest is None or manifest.version is None:
        return None
    try:
        return manifest if satisfies(manifest.version, version_range) else None
    except RangeError:
        return None


def _documents_from_records(records: list[dict[str, Any]], rag: RagSpec, label: str) -> list[Document]:
    docs: list[Document] = []
    fields = rag.parsing
    for number, record in enumerate(records, start=1):
        text, doc_id = record.get(fields.text_field), record.get(fields.id_field)
        if not isinstance(text, str):
            raise CorpusError(f"{label} record {number} has no string field {fields.text_field!r} "
                              "(spec.parsing.textField)")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
            raise CorpusError(f"{label} record {number} has no id field {fields.id_field!r} (spec.parsing.idField)")
        title = record.get(fields.title_field) if fields.title_field else None
        if rag.parsing.format == "html":
            text = html_text(text)
        docs.append(Document(str(doc_id), text, title if isinstance(title, str) else None))
    return docs


def _read_file(root: Path, relpath: str, label: str) -> str:
    why = file_problem(root, relpath, MAX_FILE_BYTES)
    if why:
        raise CorpusError(f"{label}: {relpath}: {why}")
    try:
        return (root / relpath).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(f"{label}: {relpath} is not UTF-8") from None


def load_corpus(root: Path, state: EnvironmentState, rag: RagSpec) -> list[Document]:
    """Every document of every source, in source order; duplicate ids across sources are an error, because
    retrieval metrics compare document ids."""
    from ..evaluation.datasets import load_dataset

    documents: list[Document] = []
    for name, version_range in rag.sources:
        manifest = find_source(state, name, version_range)
        if manifest is None:
            raise CorpusError(f"RagConfig {rag.name}: source Dataset {name} {version_range} is not in "
                              f"environment {state.name}")
        label = f"Dataset {name}"
        fmt = manifest.spec.get("format")
        if fmt in RECORD_FORMATS:
            data = load_dataset(root, manifest)
            errors = [f for f in data.findings if f.severity is Severity.ERROR]
            if errors:
                raise CorpusError(f"{label} cannot be read: {errors[0].message}", data.findings)
            documents.extend(_documents_from_records([c.record for c in data.cases], rag, label))
        elif fmt in FILE_FORMATS or fmt == "html":
            relpath = manifest.spec.get("path")
            if not isinstance(relpath, str):
                raise CorpusError(f"{label}: a {fmt} corpus is read from spec.path (a file in Git)")
            text = _read_file(root, relpath, label)
            if rag.parsing.format == "html" or fmt == "html":
                text = html_text(text)
            documents.append(Document(relpath, text, None))
        else:
            raise CorpusError(f"{label} has format {fmt!r}; a corpus is jsonl, csv, text or markdown")
    seen: set[str] = set()
    for doc in documents:
        if doc.id in seen:
            raise CorpusError(f"RagConfig {rag.name}: document id {doc.id!r} occurs twice in its sources")
        seen.add(doc.id)
    return documents
