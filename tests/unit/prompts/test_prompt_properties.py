"""Whatever a prompt holds, linting returns findings: it never raises and never points outside the file."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prompt_cases import BASE, lint_text

from llmgitops.prompts.secrets import scan

JINJA_BITS = ["{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", " if ", " for ", " in ", " endif ", " endfor ",
              " else ", "raw", "endraw", " set ", "=", "|", "default", "tojson", ".", "__class__", "mro", "(",
              ")", "[", "]", "'", '"', "\n", "question", "lang", "x", "loop", "*", "9", "999999999", " ~ ",
              "include", "macro", "endmacro", "caller", "{{workflow.name}}", "$(id)", "`", "\\", "é", " "]


def prompt_with(content: str, example: object) -> str:
    doc = yaml.safe_load(BASE)
    doc["spec"]["messages"][1]["content"] = content
    doc["spec"]["input"]["lang"] = {"type": "string"}
    doc["spec"]["examples"][0]["input"]["question"] = example
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def check(text: str) -> None:
    lines = text.split("\n")
    for finding in lint_text(text):
        assert finding.rule.startswith("prompt/"), finding
        assert 1 <= finding.line <= len(lines), finding
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1, finding


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.lists(st.sampled_from(JINJA_BITS), max_size=25).map("".join),
       example=st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers(), max_size=3)))
def test_template_soup_never_raises(content: str, example: object) -> None:
    check(prompt_with(content, example))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.text(max_size=80))
def test_arbitrary_text_never_raises(content: str) -> None:
    check(prompt_with(content, "q"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120))
def test_scan_spans_are_inside_the_text(text: str) -> None:
    for match in scan(text):
        assert 0 <= match.start < match.end <= len(text)
