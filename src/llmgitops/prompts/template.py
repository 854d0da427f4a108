"""Templates of a prompt: parsed in the sandbox, with every template position mapped back into the YAML file.

A Prompt holds its templates in ``spec.template`` (type text) or ``spec.messages[i].content`` (type
chat). Each becomes a ``Template``: the source text, where it lives in the manifest, its Jinja2 AST (or
the syntax error), and a lazily built table of token offsets, because Jinja's nodes carry a line
number but no column.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import signal
import sys
import threading
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.bccache import FileSystemBytecodeCache
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .scalars import DocumentPositions, JsonPath, Pos

_JINJA_MARKERS = ("{{", "{%", "{#")
_OPAQUE = re.compile(r"\{#|\{%-?\s*raw\b")  # comments and raw blocks: text that may look like {{ … }}
_OUTPUT = re.compile(r"\{\{.*?\}\}", re.S)
_NEWLINE = re.compile(r"\r\n|\r|\n")
MAX_SEQUENCE = 1_000_000  # characters or items a template may build with * or a filter argument
MAX_RANGE_TOTAL = 1_000_000  # range() items per render, over all loops
RENDER_SECONDS = 2.0


class LintUndefined(StrictUndefined):
    """StrictUndefined, except that an absent value is falsy.

    Printing, iterating or comparing an absent input fails, as at runtime with StrictUndefined; but
    ``{% if x %}`` is how a template guards an optional input, so the test itself must not fail.
    """

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]
        return False


class _Budget:
    def __init__(self) -> None:
        self.range_left = MAX_RANGE_TOTAL


class PromptEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox prompts render in, bounded so a hostile template cannot exhaust memory or time.

    Jinja's sandbox stops attribute escapes but not ``'x' * 10**10``, ``"a"|center(10**9)`` or loops
    nested over huge ranges; those are refused here with a SecurityError.
    """

    intercepted_binops = frozenset(["*", "**"])

    def __init__(self) -> None:
        # No constant folding at compile time: it evaluates template expressions before any bound
        # applies, and prompts render a handful of times, so the optimizer costs more than it saves.
        super().__init__(undefined=LintUndefined, autoescape=False, optimized=False)
        self._budget = threading.local()
        self.globals["range"] = self._counted_range
        self.filters = {name: _bounded_filter(func) for name, func in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int) and isinstance(left, int) and abs(right) > 4096 and abs(left) > 1:
                raise SecurityError("exponent too large for a template")
            return left**right
        for seq, count in ((left, right), (right, left)):
            sized = isinstance(seq, (str, list, tuple)) and isinstance(count, int)
            if sized and len(seq) * count > MAX_SEQUENCE:
                raise SecurityError(f"a repeated sequence longer than {MAX_SEQUENCE} in a template")
        return left * right

    def _counted_range(self, *args: int) -> range:
        result = range(*args)
        budget: _Budget | None = getattr(self._budget, "value", None)
        if budget is not None:
            budget.range_left -= len(result)
            if budget.range_left < 0:
                raise SecurityError(f"range() produced more than {MAX_RANGE_TOTAL} items in one render")
        if len(result) > MAX_SEQUENCE:
            raise SecurityError("range too large")
        return result

    @contextmanager
    def bounded(self) -> Iterator[None]:
        """One render: a fresh range budget, inside a wall-clock limit (the caller's, if it set one)."""
        self._budget.value = _Budget()
        with deadline(RENDER_SECONDS):
            try:
                yield
            finally:
                self._budget.value = None


class RenderTimeout(Exception):
    pass


_ACTIVE = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise RenderTimeout in the block after ``seconds``; nested uses share the outermost limit.

    A SIGALRM timer is the one way to interrupt a runaway pure-Python loop; it exists only on the main
    thread of a POSIX process, so elsewhere the range and size bounds above are the only guard.
    """
    if getattr(_ACTIVE, "on", False) or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise RenderTimeout(f"rendering took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds)
    _ACTIVE.on = True
    try:
        yield
    finally:
        _ACTIVE.on = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0] > 0:  # someone else's timer was running: give it back
            signal.setitimer(signal.ITIMER_REAL, *outer)


def _bounded_filter(func: Any) -> Any:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SEQUENCE:
                raise SecurityError(f"filter argument {value} is larger than {MAX_SEQUENCE}")
        return func(*args, **kwargs)

    bounded.__dict__.update(getattr(func, "__dict__", {}))  # keeps jinja_pass_arg (context passing)
    bounded.__name__ = getattr(func, "__name__", "filter")
    return bounded


_ENV: PromptEnvironment | None = None


def environment() -> PromptEnvironment:
    global _ENV
    if _ENV is None:
        _ENV = PromptEnvironment()
    return _ENV


def is_plain(source: str) -> bool:
    """True when Jinja would see nothing but text (no delimiter anywhere)."""
    return not any(marker in source for marker in _JINJA_MARKERS)


def plain_render(source: str) -> str:
    """What Jinja renders for a plain text: newlines normalized, one trailing newline dropped."""
    text = _NEWLINE.sub("\n", source)
    return text[:-1] if text.endswith("\n") else text


@lru_cache(maxsize=8192)
def parse(source: str) -> nodes.Template | TemplateSyntaxError:
    """The AST of a template, or its syntax error. Cached: promoted prompts repeat across environments."""
    env = environment()
    if is_plain(source):
        # Without a delimiter Jinja sees plain text; skipping the lexer makes plain messages free.
        tree = nodes.Template([nodes.Output([nodes.TemplateData(source, lineno=1)], lineno=1)], lineno=1)
        tree.set_environment(env)
        return tree
    try:
        return env.parse(source)
    except TemplateSyntaxError as exc:
        return exc


def _fingerprint(*modules: str) -> str:
    """A digest of this package's own analysis code: cached results die with the code that made them."""
    here = Path(__file__).parent
    digest = hashlib.sha256(f"{sys.implementation.cache_tag} jinja2-{jinja2.__version__}".encode())
    for name in modules:
        with suppress(OSError):
            digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


class DiskCache:
    """Compiled template code and template analyses kept on disk between runs, in one file per user.

    Parsing and compiling are the largest costs of linting a prompt, and a hook lints the same unchanged
    prompts on every commit; with this cache only templates whose text changed are parsed and compiled
    again. One file (read once, replaced atomically once per run) rather than a file per template:
    creating small files is slower than compiling on some filesystems. It lives in Jinja's per-user 0700
    cache folder in the temp dir, or LLMGITOPS_CACHE_DIR; LLMGITOPS_NO_CACHE=1 turns it off. Values are
    code objects and tuples of plain data, stored with marshal.
    """

    MAX_ENTRIES = 8192

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # marshal's format belongs to one Python version, generated code to one Jinja version and to
        # this package's environment and analyzer, hence all of them in the header.
        self.header = f"llmgitops-template-cache {_fingerprint('template.py', 'variables.py')}\n".encode()
        self.values: dict[str, Any] | None = None
        self.used: set[str] = set()
        self.added = False

    def _load(self) -> dict[str, Any]:
        if self.values is None:
            self.values = {}
            if self.path is not None:
                try:
                    data = self.path.read_bytes()
                    if data.startswith(self.header):
                        loaded = marshal.loads(data[len(self.header):])
                        if isinstance(loaded, dict):
                            self.values = {k: v for k, v in loaded.items() if isinstance(k, str)}
                except (OSError, EOFError, ValueError, TypeError):
                    pass  # a missing or damaged cache is an empty one
        return self.values

    def get(self, key: str) -> Any:
        value = self._load().get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self._load()[key] = value
        self.used.add(key)
        self.added = True

    def save(self) -> None:
        if not self.added or self.path is None or self.values is None:
            return
        # Keep what this run used, then older entries, up to the bound.
        keep = {k: self.values[k] for k in self.used}
        for key, value in self.values.items():
            if len(keep) >= self.MAX_ENTRIES:
                break
            keep.setdefault(key, value)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(self.header + marshal.dumps(keep))
            os.replace(tmp, self.path)
            self.added = False
        except (OSError, ValueError):
            with suppress(OSError):
                tmp.unlink()


_disk_cache: DiskCache | None = None


def disk_cache() -> DiskCache:
    global _disk_cache
    if _disk_cache is None:
        path: Path | None = None
        if not os.environ.get("LLMGITOPS_NO_CACHE"):
            try:
                folder = os.environ.get("LLMGITOPS_CACHE_DIR") or FileSystemBytecodeCache().directory
                path = Path(folder) / "llmgitops-templates.marshal"
            except (RuntimeError, OSError):
                path = None  # no safe per-user folder: run without a cache
        _disk_cache = DiskCache(path)
    return _disk_cache


def source_key(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=8192)
def syntax_error(source: str) -> TemplateSyntaxError | None:
    """Why a template does not parse, or None; a template compiled in an earlier run is known to parse."""
    if is_plain(source) or disk_cache().get("code:" + source_key(source)) is not None:
        return None
    tree = parse(source)
    return tree if isinstance(tree, TemplateSyntaxError) else None


@lru_cache(maxsize=8192)
def compiled(source: str) -> Any:
    """The compiled jinja2 Template for a source that parses."""
    env = environment()
    cache = disk_cache()
    key = "code:" + source_key(source)
    code = cache.get(key)
    if not isinstance(code, CodeType):
        tree = parse(source)
        assert not isinstance(tree, TemplateSyntaxError)
        code = env.compile(tree)
        cache.put(key, code)
    return env.template_class.from_code(env, code, env.make_globals(None), None)


@dataclass
class Token:
    offset: int  # in the template source
    lineno: int
    kind: str
    value: str


@dataclass
class Template:
    """One template string of a prompt and where it lives in the manifest."""

    source: str
    path: JsonPath  # ("spec", "template") or ("spec", "messages", i, "content")
    positions: DocumentPositions
    role: str | None = None  # the message role, None for a text template
    _tokens: list[Token] | None = field(default=None, repr=False)
    _line_starts: list[int] | None = field(default=None, repr=False)

    @property
    def tree(self) -> nodes.Template | TemplateSyntaxError:
        return parse(self.source)

    @property
    def syntax_error(self) -> TemplateSyntaxError | None:
        return syntax_error(self.source)

    @property
    def label(self) -> str:
        if self.role is None:
            return "spec.template"
        return f"the {self.role} message (spec.messages[{self.path[2]}])"

    def line_start(self, lineno: int) -> int:
        """Offset where the template's line ``lineno`` starts (Jinja counts \\r\\n, \\r and \\n alike)."""
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(self.source))]
        starts = self._line_starts
        return starts[min(max(lineno, 1), len(starts)) - 1]

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = _tokens(self.source)
        return self._tokens

    def find_token_index(self, lineno: int, value: str, kind: str = "name", after: int = -1) -> int | None:
        wanted = (lineno, kind, value)
        for i, token in enumerate(self.tokens()):
            if (token.lineno, token.kind, token.value) == wanted and token.offset > after:
                return i
        return None

    def find_token(self, lineno: int, value: str, kind: str = "name", after: int = -1) -> Token | None:
        index = self.find_token_index(lineno, value, kind, after)
        return self.tokens()[index] if index is not None else None

    def line_of(self, offset: int) -> int:
        self.line_start(1)
        assert self._line_starts is not None
        return bisect_right(self._line_starts, offset)

    def output_span(self, lineno: int, name: str, after: int = -1) -> tuple[int, int, int] | None:
        """(start of ``{{``, end of ``}}``, offset of ``name``) of the first output expression past
        ``after`` that spans line ``lineno`` and reads ``name``.

        Templates without raw blocks or comments (the common case) are searched with a regular
        expression; the others through Jinja's lexer, where ``{{`` inside them is plain text.
        """
        if _OPAQUE.search(self.source) is None:
            word = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
            for m in _OUTPUT.finditer(self.source):
                if m.start() <= after or not self.line_of(m.start()) <= lineno <= self.line_of(m.end() - 1):
                    continue
                found = word.search(self.source, m.start() + 2, m.end() - 2)
                if found is not None:
                    return m.start(), m.end(), found.start()
            return None
        tokens = self.tokens()
        index = self.find_token_index(lineno, name, after=after)
        if index is None:
            return None
        begin = next((t for t in reversed(tokens[:index]) if t.kind == "variable_begin"), None)
        end = next((t for t in tokens[index:] if t.kind == "variable_end"), None)
        if begin is None or end is None:
            return None
        return begin.offset, end.offset + len(end.value), tokens[index].offset

    def at(self, offset: int) -> Pos:
        """The YAML file position of template character ``offset``."""
        return self.positions.at(self.path, offset)

    def at_line(self, lineno: int) -> Pos:
        """The YAML position of a template line: its first Jinja construct, else its first non-blank."""
        start = self.line_start(lineno)
        end = self.line_start(lineno + 1) if lineno < len(self._line_starts or []) else len(self.source)
        line = self.source[start:end]
        marks = [i for i in (line.find(m) for m in _JINJA_MARKERS) if i != -1]
        column = min(marks) if marks else len(line) - len(line.lstrip())
        return self.at(start + column)

    def at_name(self, lineno: int, name: str, kind: str = "name") -> Pos:
        token = self.find_token(lineno, name, kind)
        return self.at(token.offset) if token is not None else self.at_line(lineno)


def _tokens(source: str) -> list[Token]:
    """Jinja's raw token stream with the offset of each token in ``source``.

    The lexer yields each token's raw text in order (a data token may lose trailing white space to
    ``{%-``), so searching for it from the end of the previous one finds its exact offset.
    """
    out: list[Token] = []
    cursor = 0
    normalized = _NEWLINE.sub("\n", source)
    # Offsets are found in the normalized text; convert back through line/column when \r was present.
    try:
        for lineno, kind, value in environment().lexer.tokeniter(normalized, None):
            found = normalized.find(value, cursor)
            if found == -1:
                continue
            out.append(Token(found, lineno, kind, value))
            cursor = found + len(value)
    except TemplateSyntaxError:
        pass  # tokens up to the error are enough to place names before it
    if normalized != source:
        starts = [0, *(m.end() for m in _NEWLINE.finditer(source))]
        nstarts = [0, *(m.end() for m in re.finditer("\n", normalized))]
        for token in out:
            line = token.lineno
            column = token.offset - nstarts[min(line, len(nstarts)) - 1]
            token.offset = starts[min(line, len(starts)) - 1] + column
    return out


def templates_of(spec: dict[str, Any], positions: DocumentPositions) -> list[Template]:
    out: list[Template] = []
    if isinstance(spec.get("template"), str):
        out.append(Template(spec["template"], ("spec", "template"), positions))
    messages = spec.get("messages")
    if isinstance(messages, list):
        for i, message in enumerate(messages):
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                role = message.get("role") if isinstance(message.get("role"), str) else "unknown"
                out.append(Template(message["content"], ("spec", "messages", i, "content"), positions, role))
    return out

