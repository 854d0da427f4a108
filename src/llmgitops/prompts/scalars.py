"""Where each character of a loaded YAML string sits in the file.

The loader records where a scalar starts and its style. A template's own line 3 is somewhere else in
the file: past a block scalar's header and indentation, after folded line breaks, behind escape
sequences. This module decodes the scalar again from the raw text the way libyaml does, keeping the
source offset of every character it produces, and checks the result against the loaded value. Where
the two agree the mapping is exact; past the first disagreement (which a correct decoder never hits)
positions fall back to the last character that did agree, so a finding is never lost.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from ..manifests.loader import Document

Pos = tuple[int, int]
JsonPath = tuple[str | int, ...]
Decoded = list[tuple[str, int]]

_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
    "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


class TextIndex:
    """Offsets in a text to 1-based (line, column) and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.starts = starts

    def offset(self, pos: Pos) -> int:
        line = min(max(pos[0], 1), len(self.starts))
        return min(self.starts[line - 1] + max(pos[1], 1) - 1, len(self.text))

    def position(self, offset: int) -> Pos:
        line = bisect_right(self.starts, offset)
        return (line, offset - self.starts[line - 1] + 1)


class ScalarMap:
    """Source positions of the characters of one string value."""

    def __init__(self, index: TextIndex, start: Pos, value: str, style: str | None) -> None:
        self.index = index
        self.start = start
        self.value = value
        self.offsets = _align(index.text, index.offset(start), value, style)

    @property
    def exact(self) -> bool:
        return len(self.offsets) == len(self.value)

    def position(self, i: int) -> Pos:
        """Where value character ``i`` is written in the file."""
        if not self.offsets:
            return self.start
        return self.index.position(self.offsets[min(max(i, 0), len(self.offsets) - 1)])


class DocumentPositions:
    """Lazily built scalar maps for one loaded document."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._index: TextIndex | None = None
        self._maps: dict[JsonPath, ScalarMap] = {}

    @property
    def index(self) -> TextIndex:
        if self._index is None:
            self._index = TextIndex(self.document.text)
        return self._index

    def scalar(self, path: JsonPath) -> ScalarMap | None:
        value = self.document.get(path)
        if not isinstance(value, str) or path not in self.document.values:
            return None
        found = self._maps.get(path)
        if found is None:
            found = ScalarMap(self.index, self.document.values[path], value, self.document.styles.get(path))
            self._maps[path] = found
        return found

    def at(self, path: JsonPath, i: int) -> Pos:
        """Position of character ``i`` of the string at ``path`` (the node's start when it is no string)."""
        smap = self.scalar(path)
        return smap.position(i) if smap is not None else self.document.position(path)


def _align(text: str, start: int, value: str, style: str | None) -> list[int]:
    if style in ("|", ">"):
        candidates = _block_candidates(text, start, style, value)
    else:
        candidates = [lambda: _flow(text, start, style, len(value))]
    best: list[int] = []
    for decode in candidates:
        offsets = _agreeing(decode(), value)
        if len(offsets) == len(value):
            return offsets
        if len(offsets) > len(best):
            best = offsets
    return best


def _agreeing(decoded: Decoded, value: str) -> list[int]:
    out: list[int] = []
    for (char, offset), expected in zip(decoded, value, strict=False):
        if char != expected:
            break
        out.append(offset)
    return out


def _skip_properties(text: str, i: int) -> int:
    """Past an anchor (&a) or tag (!!str) in front of the scalar."""
    n = len(text)
    while i < n and text[i] in "&!":
        while i < n and text[i] not in " \t\r\n":
            i += 1
        while i < n and text[i] in " \t":
            i += 1
    return i


def _after_break(text: str, i: int) -> int:
    return i + 2 if text.startswith("\r\n", i) else i + 1


def _flow(text: str, start: int, style: str | None, limit: int) -> Decoded:
    """Plain, single- and double-quoted scalars: folding, '' and backslash escapes."""
    n = len(text)
    i = _skip_properties(text, start)
    quote = style if style in ("'", '"') else None
    if quote is not None:
        if i >= n or text[i] != quote:
            return []
        i += 1
    out: Decoded = []
    while i < n and len(out) < limit:
        c = text[i]
        if c == quote:
            if quote == "'" and text.startswith("''", i):
                out.append(("'", i))
                i += 2
                continue
            break
        if quote == '"' and c == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt in ("\r", "\n"):  # an escaped line break joins the lines with nothing between
                i = _after_break(text, i + 1)
                while i < n and text[i] in " \t":
                    i += 1
                continue
            width = _HEX_ESCAPES.get(nxt)
            if width is not None:
                digits = text[i + 2:i + 2 + width]
                try:
                    out.append((chr(int(digits, 16)), i))
                except ValueError:
                    return out
                i += 2 + width
                continue
            out.append((_ESCAPES.get(nxt, "\ufffd"), i))
            i += 2
            continue
        if c in " \t":
            j = i
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] in "\r\n":  # trailing white space before a fold is dropped
                i = j
                continue
            out.extend((text[k], k) for k in range(i, j))
            i = j
            continue
        if c in "\r\n":
            fold_at = i
            i = _after_break(text, i)
            empty_lines: list[int] = []
            while True:
                j = i
                while j < n and text[j] in " \t":
                    j += 1
                if j < n and text[j] in "\r\n":
                    empty_lines.append(j)
                    i = _after_break(text, j)
                    continue
                i = j
                break
            if empty_lines:
                out.extend(("\n", e) for e in empty_lines)
            else:
                out.append((" ", fold_at))
            continue
        out.append((c, i))
        i += 1
    return out


def _block_candidates(text: str, start: int, style: str, value: str) -> list[Callable[[], Decoded]]:
    """Decoders for each plausible content indentation, the auto-detected one first.

    An indentation indicator (``|2``) counts from the parent node's indentation, which the loader does
    not record; trying each indentation up to the first content line's and keeping the one that
    reproduces the value settles it without re-parsing the document.
    """
    i = _skip_properties(text, start)
    if i >= len(text) or text[i] not in "|>":
        return []
    literal = text[i] == "|"
    eol = text.find("\n", i)
    if eol == -1:
        return []
    body = eol + 1
    auto = _auto_indent(text, body)
    order = [auto, *range(auto - 1, -1, -1)]
    return [lambda k=k: _block(text, body, literal, k) for k in order]  # type: ignore[misc]


def _auto_indent(text: str, body: int) -> int:
    n, i, widest = len(text), body, 0
    while i < n:
        j = i
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] in "\r\n":
            widest = max(widest, j - i)
            i = _after_break(text, j)
            continue
        return max(widest, j - i)
    return widest


def _block(text: str, body: int, literal: bool, indent: int) -> Decoded:
    """libyaml's block scalar scan (scan_block_scalar), keeping offsets."""
    n = len(text)
    out: Decoded = []
    trailing: list[int] = []

    def breaks(p: int) -> tuple[int, int]:
        while True:
            col = 0
            while p < n and text[p] == " " and col < indent:
                p += 1
                col += 1
            if p < n and text[p] in "\r\n":
                trailing.append(p)
                p = _after_break(text, p)
                continue
            return p, col

    leading_break: int | None = None
    leading_blank = False
    p, col = breaks(body)
    while col == indent and p < n:
        trailing_blank = text[p] in " \t"
        if not literal and leading_break is not None and not leading_blank and not trailing_blank:
            if not trailing:
                out.append((" ", leading_break))
        elif leading_break is not None:
            out.append(("\n", leading_break))
        leading_break = None
        out.extend(("\n", t) for t in trailing)
        trailing.clear()
        leading_blank = text[p] in " \t"
        while p < n and text[p] not in "\r\n":
            out.append((text[p], p))
            p += 1
        if p >= n:
            break
        leading_break = p
        p, col = breaks(_after_break(text, p))
    if leading_break is not None:
        out.append(("\n", leading_break))
    out.extend(("\n", t) for t in trailing)
    return out
