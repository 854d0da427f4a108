"""The one YAML loader: positions, YAML 1.2 core scalars, and every hostile input refused as a finding."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmgitops.manifests import loader
from llmgitops.manifests.loader import load_bytes, load_text


def only_finding(text: str | bytes) -> tuple[str, int, int]:
    result = load_bytes(text, "m.yaml") if isinstance(text, bytes) else load_text(text, "m.yaml")
    assert result.document is None, result.document
    assert len(result.findings) == 1, result.findings
    f = result.findings[0]
    return f.rule, f.line, f.column


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = load_text("a:\n  b: 1.10\n  c:\n    - x\n    - 'y'\n", "m.yaml").document
    assert doc is not None
    assert doc.data == {"a": {"b": 1.1, "c": ["x", "y"]}}
    assert doc.position(("a", "b")) == (2, 6)
    assert doc.key_position(("a", "b")) == (2, 3)
    assert doc.position(("a", "c", 1)) == (5, 7)
    # a missing path falls back to its nearest existing parent
    assert doc.position(("a", "c", 7, "z")) == doc.position(("a", "c"))


def test_core_schema_scalars_no_yaml11_surprises() -> None:
    doc = load_text(
        "v: 1.10\nd: 2024-01-01\ny: yes\nn: no\non: on\nt: true\nz: ~\ni: 0x1f\no: 0o17\ninf: -.inf\n"
        "s: '1.10'\nbig: 12e3\n", "m.yaml").document
    assert doc is not None
    data = doc.data
    assert data["v"] == 1.1 and doc.plain[("v",)] == "1.10"
    assert data["d"] == "2024-01-01"
    assert data["y"] == "yes" and data["n"] == "no" and data["on"] == "on"
    assert data["t"] is True and data["z"] is None
    assert data["i"] == 31 and data["o"] == 15 and data["inf"] == -math.inf
    assert data["s"] == "1.10" and doc.styles[("s",)] == "'"
    assert data["big"] == 12000.0


@pytest.mark.parametrize(
    ("text", "rule", "line", "column"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", "yaml/duplicate-key", 4, 3),
        ("x: !!python/object/apply:os.system ['id']\n", "yaml/unknown-tag", 1, 4),
        ("x: !!python/name:os.system\n", "yaml/unknown-tag", 1, 4),
        ("x: !custom 3\n", "yaml/unknown-tag", 1, 4),
        ("x: !!binary aGVsbG8=\n", "yaml/unknown-tag", 1, 4),
        ("x: !!set {a, b}\n", "yaml/unknown-tag", 1, 4),
        ("x: !!int abc\n", "yaml/bad-tagged-value", 1, 4),
        ("a: 1\n---\nb: 2\n", "yaml/multi-document", 2, 1),
        ("- a\n- b\n", "yaml/not-a-mapping", 1, 1),
        ("just text\n", "yaml/not-a-mapping", 1, 1),
        ("", "yaml/empty", 1, 1),
        ("# only a comment\n", "yaml/empty", 1, 1),
        ("a: [1, 2\n", "yaml/syntax", 2, 1),
        ("a: b: c\n", "yaml/syntax", 1, 5),
        ("a:\n\tb: 1\n", "yaml/syntax", 2, 1),
        ("1: x\n", "yaml/non-string-key", 1, 1),
        ("true: x\n", "yaml/non-string-key", 1, 1),
        ("? [a]\n: x\n", "yaml/non-string-key", 1, 3),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", "yaml/merge-key", 3, 3),
        ("a: &a [*a]\n", "yaml/recursive-alias", 1, 8),
        ("a: *nothing\n", "yaml/syntax", 1, 4),
        ("a: " + "[" * 100 + "]" * 100 + "\n", "yaml/too-deep", 1, 67),
    ],
)
def test_hostile_and_malformed_yaml_is_a_finding(text: str, rule: str, line: int, column: int) -> None:
    assert only_finding(text) == (rule, line, column)


def test_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    rule, _, _ = only_finding("\n".join(lines) + "\n")
    assert rule == "yaml/alias-limit"


def test_a_few_aliases_are_fine() -> None:
    doc = load_text("defaults: &d {cpu: 1}\na: *d\nb: *d\n", "m.yaml").document
    assert doc is not None and doc.data["b"] == {"cpu": 1}


@pytest.mark.parametrize(
    ("raw", "rule", "line", "column"),
    [
        (b"a: 1\nb: \xff\xfe\n", "yaml/encoding", 2, 4),
        (b"\xff\xfea\x00:\x00", "yaml/binary", 1, 4),
        (b"a: 1\n\x00\x01\x02", "yaml/binary", 2, 1),
        (b"\xfe\xff\x00a", "yaml/binary", 1, 3),
    ],
)
def test_bytes_that_are_not_utf8_text(raw: bytes, rule: str, line: int, column: int) -> None:
    assert only_finding(raw) == (rule, line, column)


def test_utf16_without_nul_is_an_encoding_error() -> None:
    assert only_finding(b"\xff\xfe")[0] == "yaml/encoding"


def test_bom_is_accepted_and_size_is_bounded() -> None:
    assert load_bytes(b"\xef\xbb\xbfa: 1\n", "m.yaml").document is not None
    huge = b"a: '" + b"x" * (loader.MAX_BYTES + 10) + b"'\n"
    assert only_finding(huge)[0] == "yaml/too-large"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_loads_or_yields_a_finding(text: str) -> None:
    result = load_text(text, "m.yaml")
    assert (result.document is None) == bool(result.findings)
    if result.document is not None:
        assert isinstance(result.document.data, dict)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_load_or_yield_a_finding(raw: bytes) -> None:
    result = load_bytes(raw, "m.yaml")
    assert (result.document is None) == bool(result.findings)


YAMLISH = st.recursive(
    st.one_of(st.sampled_from(["a", "1", "1.10", "yes", "~", "&x", "*x", "!!str", "!t", "'q'", '"d"', "<<"])),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(children, children), max_size=4).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "<<", "1"]), YAMLISH), max_size=6))
def test_structured_yamlish_input_never_raises(pairs: list[tuple[str, str]]) -> None:
    text = "\n".join(f"{k}: {v}" for k, v in pairs)
    result = load_text(text, "m.yaml")
    assert (result.document is None) == bool(result.findings)
