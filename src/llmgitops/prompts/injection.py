"""Prompt-injection hygiene: where user-supplied text lands in the prompt.

Text a user typed (an input declared ``source: user``) must never become instructions: it stays out of
the system message, and where it appears it is fenced, so the model (and a reviewer) can tell the
user's words from the prompt's. Accepted fences: an XML-style tag pair (``<question>…</question>``),
triple backticks or tildes (with or without a label: ```` ```text ````), triple quotes, BEGIN/END marker
lines (``-----BEGIN QUESTION-----`` … ``-----END QUESTION-----``), or JSON encoding (``|tojson``).
"""

from __future__ import annotations

import re

from ..findings import Finding, Severity
from .template import Template
from .variables import OutputSite

_OPEN_TAG = re.compile(r"<([A-Za-z][\w.:-]*)(?:\s[^<>]*)?>\Z")
_FENCE = re.compile(r"(?:^|\n)[ \t]*(`{3,}|~{3,})[^\n`]*\Z")
_BEGIN = re.compile(r"(?:^|\n)[^\n]*\bBEGIN\b[^\n]*\Z", re.IGNORECASE)
_END = re.compile(r"\A[^\n]*\bEND\b", re.IGNORECASE)
_TAG_OR_COMMENT_END = re.compile(r"(\{%-?|\{#-?)[^{}]*?(-?%\}|-?#\})\Z", re.S)
_TAG_OR_COMMENT_START = re.compile(r"\A\{[%#]-?.*?-?[%#]\}", re.S)
HINT = ("wrap it in delimiters the model can see, e.g. <{name}>{{{{ {name} }}}}</{name}>, "
        "and tell the model to treat that block as data")


def _strip_before(text: str) -> str:
    """Text before an output, without the block tags and comments between them."""
    while True:
        text = text.rstrip()
        m = _TAG_OR_COMMENT_END.search(text)
        if not m:
            return text
        text = text[: m.start()]


def _strip_after(text: str) -> str:
    while True:
        text = text.lstrip()
        m = _TAG_OR_COMMENT_START.match(text)
        if not m:
            return text
        text = text[m.end():]


def delimited(before: str, after: str) -> bool:
    before, after = _strip_before(before), _strip_after(after)
    tag = _OPEN_TAG.search(before)
    if tag and re.match(rf"</{re.escape(tag.group(1))}\s*>", after):
        return True
    fence = _FENCE.search(before)
    if fence and after.startswith(fence.group(1)[0] * 3):
        return True
    for quotes in ('"""', "'''"):
        if before.endswith(quotes) and after.startswith(quotes):
            return True
    return bool(_BEGIN.search(before) and _END.match(after))


def check(template: Template, sites: list[OutputSite], relpath: str) -> list[Finding]:
    out: list[Finding] = []
    last: dict[tuple[int, str], int] = {}
    for site in sites:
        names = ", ".join(site.inputs)
        if template.role == "system":
            pos = template.at_name(site.lineno, site.anchor)
            out.append(Finding(relpath, pos[0], pos[1], "prompt/user-input-in-system", Severity.WARNING,
                               f"user-supplied input {names} is placed in the system message",
                               "move it to a user message: system text is read as instructions"))
            continue
        key = (site.lineno, site.anchor)
        span = template.output_span(site.lineno, site.anchor, after=last.get(key, -1))
        if span is None:
            continue  # no {{ }} found around it (a construct the search does not know): stay quiet
        last[key] = span[0]
        if delimited(template.source[: span[0]], template.source[span[1]:]):
            continue
        pos = template.at(span[2])
        out.append(Finding(relpath, pos[0], pos[1], "prompt/undelimited-user-input", Severity.WARNING,
                           f"user-supplied input {names} is inserted without delimiters in {template.label}",
                           HINT.format(name=site.inputs[0])))
    return out
