"""Split documents into chunks the way a RagConfig says: by characters, by the embedding model's tokens, or
recursively by separators (LangChain's RecursiveCharacterTextSplitter semantics).

Every splitter works on spans ``(start, end)`` into the original text, so a chunk is always an exact substring
of its document: offsets survive for citations, and overlap is measurable. Boundaries never fall inside a
combining sequence (a base letter and its accents, an emoji and its modifiers), so no chunk starts with a
dangling diacritic.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .spec import ChunkingSpec


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class TokenOffsets(Protocol):
    """What token chunking needs from a tokenizer: character offsets of each token (``tokenizers`` style)."""

    def encode(self, sequence: str, add_special_tokens: bool = ...) -> Any: ...


Span = tuple[int, int]
_JOINERS = frozenset({"\u200d", "\u034f"})  # zero-width joiner, combining grapheme joiner


def _continues(ch: str) -> bool:
    """True when ``ch`` belongs to the character before it, so a boundary before ``ch`` would split it."""
    if ch in _JOINERS or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":
        return True  # joiners, variation selectors, skin-tone modifiers
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def safe_boundary(text: str, pos: int, floor: int) -> int:
    """Move ``pos`` back to the start of the combining sequence it falls in (never below ``floor + 1``);
    when the sequence starts at or before ``floor``, move forward past it instead."""
    if pos <= 0 or pos >= len(text):
        return max(0, min(pos, len(text)))
    back = pos
    while back > floor + 1 and (_continues(text[back]) or text[back - 1] in _JOINERS):
        back -= 1
    if not (_continues(text[back]) or text[back - 1] in _JOINERS):
        return back
    forward = pos
    while forward < len(text) and (_continues(text[forward]) or text[forward - 1] in _JOINERS):
        forward += 1
    return forward


def character_spans(text: str, size: int, overlap: int, offset: int = 0) -> list[Span]:
    """Windows of at most ``size`` characters, consecutive windows sharing ``overlap`` characters."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size >= 1 and 0 <= overlap < size (size={size}, overlap={overlap})")
    spans: list[Span] = []
    start, n = 0, len(text)
    while start < n:
        end = safe_boundary(text, min(start + size, n), start)
        spans.append((offset + start, offset + end))
        if end >= n:
            break
        nxt = safe_boundary(text, end - overlap, start) if overlap else end
        start = nxt if start < nxt <= end else end  # always progress, never leave a gap
    return spans


def token_spans(text: str, size: int, overlap: int, tokenizer: TokenOffsets) -> list[Span]:
    """Windows of at most ``size`` tokens of the embedding model's tokenizer, mapped back to characters."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size >= 1 and 0 <= overlap < size (size={size}, overlap={overlap})")
    encoding = tokenizer.encode(text, add_special_tokens=False)
    offsets = [(s, e) for s, e in encoding.offsets if e > s]
    spans: list[Span] = []
    step = size - overlap
    for first in range(0, len(offsets), step):
        window = offsets[first:first + size]
        spans.append((window[0][0], window[-1][1]))
        if first + size >= len(offsets):
            break
    return spans


def _split_keep(text: str, start: int, end: int, separator: str) -> list[Span]:
    """Pieces of text[start:end] split on ``separator``, each piece carrying the separator that starts it."""
    pieces: list[Span] = []
    cursor = start
    found = text.find(separator, start + 1, end)
    while found != -1:
        pieces.append((cursor, found))
        cursor = found
        found = text.find(separator, cursor + len(separator), end)
    pieces.append((cursor, end))
    return [p for p in pieces if p[1] > p[0]]


def _trim(text: str, span: Span) -> Span | None:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _merge(text: str, pieces: list[Span], size: int, overlap: int) -> list[Span]:
    """Greedily join consecutive pieces while the joined text, whitespace-trimmed, fits ``size``; each new
    chunk restarts with the previous chunk's trailing pieces that fit in ``overlap`` (LangChain's
    _merge_splits, measured on the text a chunk will really hold)."""

    def length(first: Span, last: Span) -> int:
        trimmed = _trim(text, (first[0], last[1]))
        return 0 if trimmed is None else trimmed[1] - trimmed[0]

    chunks: list[Span] = []
    current: list[Span] = []
    for piece in pieces:
        if current and length(current[0], piece) > size:
            chunks.append((current[0][0], current[-1][1]))
            while current and (length(current[0], current[-1]) > overlap or length(current[0], piece) > size):
                current.pop(0)
        current.append(piece)
    if current:
        chunks.append((current[0][0], current[-1][1]))
    return chunks


def recursive_spans(text: str, size: int, overlap: int, separators: Sequence[str],
                    start: int = 0, end: int | None = None) -> list[Span]:
    """Split on the first separator that occurs, recursing with the next ones into pieces still too long;
    the empty separator (or running out of separators) falls back to character windows."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size >= 1 and 0 <= overlap < size (size={size}, overlap={overlap})")
    end = len(text) if end is None else end
    if end - start <= size:
        return [(start, end)] if end > start else []
    chosen, rest = "", list[str]()
    for i, sep in enumerate(separators):
        if sep == "":
            break
        if text.find(sep, start, end) != -1:
            chosen, rest = sep, list(separators[i + 1:])
            break
    if not chosen:
        return character_spans(text[start:end], size, overlap, offset=start)
    out: list[Span] = []
    fitting: list[Span] = []
    for piece in _split_keep(text, start, end, chosen):
        if piece[1] - piece[0] <= size:
            fitting.append(piece)
            continue
        if fitting:
            out.extend(_merge(text, fitting, size, overlap))
            fitting = []
        out.extend(recursive_spans(text, size, overlap, rest, piece[0], piece[1]))
    if fitting:
        out.extend(_merge(text, fitting, size, overlap))
    return out


def chunk_document(doc_id: str, text: str, spec: ChunkingSpec, tokenizer: TokenOffsets | None = None) -> list[Chunk]:
    """The chunks of one document, whitespace-trimmed, empty ones dropped, numbered from 0."""
    if spec.unit == "characters":
        spans = character_spans(text, spec.size, spec.overlap)
    elif spec.unit == "tokens":
        if tokenizer is None:
            raise ValueError("token chunking needs the embedding model's tokenizer")
        spans = token_spans(text, spec.size, spec.overlap, tokenizer)
    elif spec.unit == "recursive":
        spans = recursive_spans(text, spec.size, spec.overlap, spec.separators)
    else:
        raise ValueError(f"unknown chunking unit {spec.unit!r}")
    chunks: list[Chunk] = []
    for span in spans:
        trimmed = _trim(text, span)
        if trimmed is not None:
            chunks.append(Chunk(doc_id, len(chunks), text[trimmed[0]:trimmed[1]], trimmed[0], trimmed[1]))
    return chunks
