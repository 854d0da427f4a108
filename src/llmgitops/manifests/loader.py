"""The one YAML loader: strict, position-keeping, and safe against hostile input.

libyaml (through PyYAML's C parser) turns the text into events; this module builds plain Python data
from them with an explicit stack. Building it ourselves is what lets us
  * keep the line and column of every key and value (findings point at the exact spot),
  * resolve scalars by the YAML 1.2 core schema, so ``yes`` stays a string, ``1.10`` is a number whose
    original text is kept (the schema check can then say "quote it"), and a date is never a date,
  * refuse what a GitOps manifest never needs: duplicate keys, tags beyond the core ones, merge keys,
    more than one document, alias expansion past a bound (billion laughs), nesting past a bound,
  * never recurse, so no input can exhaust the stack.
The load never raises for bad input: it returns findings instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..findings import Finding, Severity

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 32
MAX_EXPANDED_NODES = 100_000

Path_ = tuple[str | int, ...]
Pos = tuple[int, int]

_CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


class _Abort(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


@dataclass
class Document:
    """A loaded YAML mapping with the position of every node.

    ``values[path]`` is where the value at ``path`` starts, ``keys[path]`` where its key starts;
    ``plain[path]`` keeps the source text of plain scalars that did not load as strings, and
    ``styles[path]`` the style of quoted and block strings (``'``, ``"``, ``|``, ``>``).
    """

    path: str
    text: str
    data: dict[str, Any]
    values: dict[Path_, Pos] = field(default_factory=dict)
    keys: dict[Path_, Pos] = field(default_factory=dict)
    plain: dict[Path_, str] = field(default_factory=dict)
    styles: dict[Path_, str] = field(default_factory=dict)

    def position(self, path: Path_) -> Pos:
        """Where ``path`` is, or the nearest enclosing node that exists."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def key_position(self, path: Path_) -> Pos:
        p = tuple(path)
        return self.keys.get(p) or self.position(p)

    def get(self, path: Path_, default: Any = None) -> Any:
        """The value at ``path``, or ``default`` when any step of it is missing."""
        node: Any = self.data
        for part in path:
            found = isinstance(node, dict) and isinstance(part, str) and part in node
            found = found or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
            if not found:
                return default
            node = node[part]
        return node


@dataclass
class LoadResult:
    document: Document | None
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return self.document is not None


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


def _offset_pos(raw: bytes, offset: int) -> Pos:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return (line, column)


def decode(raw: bytes, path: str) -> tuple[str | None, list[Finding]]:
    """UTF-8 text, or a finding saying why the bytes are not a text manifest."""

    def bad(pos: Pos, rule: str, msg: str, hint: str | None = None) -> tuple[None, list[Finding]]:
        return None, [Finding(path, pos[0], pos[1], rule, Severity.ERROR, msg, hint)]

    if len(raw) > MAX_BYTES:
        return bad((0, 0), "yaml/too-large", f"file is larger than {MAX_BYTES} bytes, the limit for a manifest",
                   "keep large data out of manifests: reference it through a DVC pointer")
    nul = raw.find(b"\x00")
    if nul != -1:
        return bad(_offset_pos(raw, nul), "yaml/binary", "file contains NUL bytes: not a text manifest")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return bad((1, 1), "yaml/encoding", "file is UTF-16; manifests must be UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return bad(_offset_pos(raw, exc.start), "yaml/encoding",
                   f"invalid UTF-8 byte 0x{raw[exc.start]:02x}; manifests must be UTF-8")


def load_bytes(raw: bytes, path: str) -> LoadResult:
    text, findings = decode(raw, path)
    if text is None:
        return LoadResult(None, findings)
    return load_text(text, path)


def load_text(text: str, path: str) -> LoadResult:
    try:
        return LoadResult(_Builder(path, text).build(), [])
    except _Abort as stop:
        return LoadResult(None, [stop.finding])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        pos = _pos(mark) if mark is not None else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None and _pos(context_mark) != pos:
            line, column = _pos(context_mark)
            context = f"{context} (started at line {line}, column {column})"
        message = f"{context}: {problem}" if context else str(problem)
        return LoadResult(None, [Finding(path, pos[0], pos[1], "yaml/syntax", Severity.ERROR, message)])


def resolve_plain(value: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema (no yes/no booleans, no dates, no sexagesimals)."""
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT10.match(value):
        return int(value)
    if _INT8.match(value):
        return int(value[2:], 8)
    if _INT16.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.match(value):
        return math.nan
    return value


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: Path_
    anchor: str | None
    weight: int = 1
    pending_key: str | None = None


class _Builder:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.doc = Document(path, text, {})
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.aliases = 0
        self.expanded = 0

    def fail(self, pos: Pos, rule: str, message: str, hint: str | None = None) -> _Abort:
        return _Abort(Finding(self.path, pos[0], pos[1], rule, Severity.ERROR, message, hint))

    def build(self) -> Document:
        stack: list[_Frame] = []
        root: Any = _MISSING
        documents = 0
        # dispatch on the exact event class (cheaper than isinstance chains); typed Any as mypy cannot narrow it
        events: Iterable[Any] = yaml.parse(self.text, Loader=yaml.CSafeLoader)
        for event in events:
            kind = type(event)
            if kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise self.fail(_pos(event.start_mark), "yaml/multi-document",
                                    "more than one YAML document; a manifest file holds exactly one",
                                    "split the documents into one file per manifest")
                continue
            if kind in (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent):
                continue
            pos = _pos(event.start_mark)
            if kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                self._check_tag(event.tag, pos, "map" if kind is yaml.MappingStartEvent else "seq")
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(pos, "yaml/too-deep", f"nesting deeper than {MAX_DEPTH} levels")
                container: dict[str, Any] | list[Any] = {} if kind is yaml.MappingStartEvent else []
                path = self._child_path(stack, pos)
                if event.anchor:
                    self.open_anchors.add(event.anchor)
                self._attach(stack, container, pos, path)
                stack.append(_Frame(container, path, event.anchor))
                continue
            if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor:
                    self.open_anchors.discard(frame.anchor)
                    self.anchors[frame.anchor] = (frame.container, frame.weight)
                if stack:
                    stack[-1].weight += frame.weight
                else:
                    root = frame.container
                continue
            if kind is yaml.ScalarEvent:
                value = self._scalar(event, pos)
                if stack and isinstance(stack[-1].container, dict) and stack[-1].pending_key is None:
                    self._take_key(stack[-1], value, event, pos)
                    continue
                path = self._child_path(stack, pos)
                self._record_scalar(path, event, value)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
                self._attach(stack, value, pos, path)
                if stack:
                    stack[-1].weight += 1
                else:
                    root = value
                continue
            if kind is yaml.AliasEvent:
                self._alias(stack, event, pos)
                if not stack:
                    root = self.anchors[event.anchor][0]
                continue
        if root is _MISSING or root is None:
            raise self.fail((1, 1), "yaml/empty", "empty document: a manifest is a mapping")
        if not isinstance(root, dict):
            raise self.fail((1, 1), "yaml/not-a-mapping",
                            f"the document is a {_type_name(root)}; a manifest is a mapping")
        self.doc.data = root
        self.doc.values.setdefault((), (1, 1))
        return self.doc

    def _check_tag(self, tag: str | None, pos: Pos, expected: str) -> None:
        if tag is None or tag == "!" or tag == _CORE + expected:
            return
        shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
        raise self.fail(pos, "yaml/unknown-tag", f"tag {shown} is not allowed in manifests",
                        "remove the tag; manifests use plain YAML values only")

    def _scalar(self, event: Any, pos: Pos) -> Any:
        tag, value, style = event.tag, event.value, event.style
        if tag is None and not style:
            return resolve_plain(value)
        if tag is None or tag == "!" or tag == _CORE + "str":
            return value
        if tag.startswith(_CORE):
            name = tag[len(_CORE):]
            if name in ("int", "float", "bool", "null"):
                resolved = resolve_plain(value)
                ok = {
                    "int": isinstance(resolved, int) and not isinstance(resolved, bool),
                    "float": isinstance(resolved, (int, float)) and not isinstance(resolved, bool),
                    "bool": isinstance(resolved, bool),
                    "null": resolved is None,
                }[name]
                if not ok:
                    raise self.fail(pos, "yaml/bad-tagged-value", f"{value!r} is not a valid !!{name}")
                return float(resolved) if name == "float" else resolved
        self._check_tag(tag, pos, "str")
        return value

    def _take_key(self, frame: _Frame, key: Any, event: Any, pos: Pos) -> None:
        assert isinstance(frame.container, dict)
        if not isinstance(key, str):
            raise self.fail(pos, "yaml/non-string-key", f"mapping key {event.value!r} is not a string",
                            f"quote the key: \"{event.value}\"")
        if key == "<<" and not event.style:
            raise self.fail(pos, "yaml/merge-key", "merge keys (<<) are not supported in manifests",
                            "write the keys out; merges hide what a manifest really contains")
        if key in frame.container:
            first = self.doc.keys.get(frame.path + (key,))
            where = f" (first at line {first[0]})" if first else ""
            raise self.fail(pos, "yaml/duplicate-key", f"duplicate key {key!r}{where}",
                            "YAML parsers disagree on which value wins; keep one")
        if event.anchor:
            raise self.fail(pos, "yaml/anchor-on-key", "anchors on mapping keys are not supported")
        frame.pending_key = key
        self.doc.keys[frame.path + (key,)] = pos

    def _child_path(self, stack: list[_Frame], pos: Pos) -> Path_:
        if not stack:
            return ()
        top = stack[-1]
        if isinstance(top.container, dict):
            if top.pending_key is None:
                raise self.fail(pos, "yaml/non-string-key", "complex mapping keys are not supported")
            return top.path + (top.pending_key,)
        return top.path + (len(top.container),)

    def _attach(self, stack: list[_Frame], value: Any, pos: Pos, path: Path_) -> None:
        self.doc.values[path] = pos
        if not stack:
            return
        top = stack[-1]
        if isinstance(top.container, dict):
            assert top.pending_key is not None
            top.container[top.pending_key] = value
            top.pending_key = None
        else:
            top.container.append(value)

    def _record_scalar(self, path: Path_, event: Any, value: Any) -> None:
        if event.style:
            self.doc.styles[path] = event.style
        elif not isinstance(value, str) and event.tag is None:
            self.doc.plain[path] = event.value

    def _alias(self, stack: list[_Frame], event: Any, pos: Pos) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(pos, "yaml/recursive-alias", f"alias *{name} refers to a node that contains it")
        if name not in self.anchors:
            raise self.fail(pos, "yaml/syntax", f"alias *{name} refers to no anchor")
        self.aliases += 1
        value, weight = self.anchors[name]
        self.expanded += weight
        if self.aliases > MAX_ALIASES or self.expanded > MAX_EXPANDED_NODES:
            raise self.fail(pos, "yaml/alias-limit",
                            f"aliases expand past the limit ({MAX_ALIASES} aliases, {MAX_EXPANDED_NODES} nodes)",
                            "write the values out; large alias expansions are how YAML bombs work")
        if stack and isinstance(stack[-1].container, dict) and stack[-1].pending_key is None:
            raise self.fail(pos, "yaml/non-string-key", "aliases cannot be used as mapping keys")
        path = self._child_path(stack, pos)
        self._attach(stack, value, pos, path)
        if stack:
            stack[-1].weight += weight


class _Missing:
    pass


_MISSING: Any = _Missing()


def _type_name(value: Any) -> str:
    if isinstance(value, list):
        return "sequence"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
