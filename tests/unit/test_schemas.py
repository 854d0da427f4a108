"""The shipped JSON Schemas: well-formed, documented, strict, and the fast path agrees with jsonschema."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from llmgitops.manifests.kinds import KINDS
from llmgitops.manifests.loader import load_text
from llmgitops.schemas import SCHEMA_BASE, load_all, validator
from llmgitops.schemas.fast import is_valid
from minirepo import FILES

KIND_FILES = [k.schema for k in KINDS.values()]


@pytest.mark.parametrize("name", [*KIND_FILES, "common.json"])
def test_schema_is_valid_2020_12_with_id(name: str) -> None:
    schema = load_all()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == SCHEMA_BASE + name


def undocumented(schema: Any, path: str = "") -> list[str]:
    """Field definitions without a description; conditions (if/then/else/not) restate fields, so skip them."""
    if not isinstance(schema, dict):
        return []
    out = []
    for prop, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict) and "description" not in sub:
            out.append(f"{path}/properties/{prop}")
        out += undocumented(sub, f"{path}/properties/{prop}")
    for key in ("items", "additionalProperties"):
        out += undocumented(schema.get(key), f"{path}/{key}")
    for key in ("$defs", "patternProperties"):
        for name, sub in schema.get(key, {}).items():
            out += undocumented(sub, f"{path}/{key}/{name}")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            out += undocumented(sub, f"{path}/{key}/{i}")
    return out


@pytest.mark.parametrize("name", [*KIND_FILES, "common.json"])
def test_every_property_has_a_description(name: str) -> None:
    assert undocumented(load_all()[name]) == []


@pytest.mark.parametrize("name", KIND_FILES)
def test_top_level_is_closed_and_has_no_status(name: str) -> None:
    schema = load_all()[name]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert schema["properties"]["spec"].get("additionalProperties") is False


def test_typo_in_any_nested_closed_object_is_rejected() -> None:
    """Every object schema that lists properties and is closed rejects an unknown key: spot-check them all."""
    doc = load_text(FILES["environments/dev/models/chat.yaml"], "m.yaml").document
    assert doc is not None
    data = copy.deepcopy(doc.data)
    data["spec"]["serving"]["replicaz"] = 2
    assert [e.validator for e in validator("Model").iter_errors(data)] == ["additionalProperties"]


def _docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for text in FILES.values():
        loaded = load_text(text, "x.yaml").document
        if loaded is not None and loaded.data.get("kind") in KINDS:
            out.append((loaded.data["kind"], loaded.data))
    return out


DOCS = _docs()
MUTANTS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False), st.text(max_size=12),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(range(len(DOCS))), st.data())
def test_fast_path_agrees_with_jsonschema(index: int, data: st.DataObject) -> None:
    kind, original = DOCS[index]
    doc = copy.deepcopy(original)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(MUTANTS)
    slow_ok = not list(validator(kind).iter_errors(doc))
    assert is_valid(kind, doc) is slow_ok


def test_compiled_validator_cache_survives_corruption_and_read_only_dirs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llmgitops.schemas import fast

    doc = load_text(FILES["environments/dev/models/chat.yaml"], "m.yaml").document
    assert doc is not None
    monkeypatch.setenv("LLMGITOPS_CACHE_DIR", str(tmp_path / "cache"))
    fast.compiled.cache_clear()
    assert fast.is_valid("Model", doc.data) is True
    [cached] = list((tmp_path / "cache" / "llmgitops" / "schemas").iterdir())
    cached.write_bytes(b"not a code object")
    fast.compiled.cache_clear()
    assert fast.is_valid("Model", {"kind": "Model"}) is False
    assert cached.read_bytes() != b"not a code object"  # rewritten

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("LLMGITOPS_CACHE_DIR", str(blocker))  # cannot hold a directory
    fast.compiled.cache_clear()
    assert fast.is_valid("Model", doc.data) is True
    fast.compiled.cache_clear()
