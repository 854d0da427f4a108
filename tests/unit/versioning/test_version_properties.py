"""Properties: the required level never drops when a change is added; bump then check always passes."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from version_cases import BASE_FILES, BASES, CASES, Case, Change, write_side

from llmgitops.manifests.loader import load_bytes
from llmgitops.manifests.ranges import parse_version
from llmgitops.manifests.repository import Manifest
from llmgitops.manifests.source import WorkingTree
from llmgitops.versioning import Level, achieved_level, diff_manifests, minimal_version
from llmgitops.versioning.bump import replace_version
from llmgitops.versioning.kinds.common import wording_key
from llmgitops.versioning.model import increment
from llmgitops.versioning.policy import policy_findings

POSITIVE = [c for c in CASES if c.fires]
KINDS = sorted({c.base for c in POSITIVE})


# Edits of referenced files and of the fields that point at them (or count their records) act on one
# thing, the data: a moved path can point at the very bytes an edited file used to hold.
DATA_FIELDS = ("spec.path", "spec.storage", "spec.records", "spec.weights", "spec.splits", "spec.evalBaselines")


def _scope(path: str) -> str:
    """A path up to its first list index: edits inside one list may shift each other's positions."""
    if path.startswith("file:") or path.startswith(DATA_FIELDS):
        return "data"
    parts = []
    for part in path.split("."):
        if part.isdigit():
            break
        parts.append(part)
    return ".".join(parts)


def _disjoint(cases: list[Case]) -> list[Case]:
    """Cases whose edits touch unrelated paths (neither a prefix of the other), first come first kept."""
    kept: list[Case] = []
    taken: list[str] = []
    for case in cases:
        paths = [_scope(p) for p in case.change.paths]
        if any(p == t or p.startswith(t + ".") or t.startswith(p + ".") for p in paths for t in taken):
            continue
        kept.append(case)
        taken += paths
    return kept


@st.composite
def change_sets(draw: st.DrawFn) -> tuple[str, list[Case], Case]:
    """A kind, a set of independent changes, and one more independent change."""
    kind = draw(st.sampled_from(KINDS))
    pool = [c for c in POSITIVE if c.base == kind]
    chosen = _disjoint(draw(st.permutations(pool)))
    size = draw(st.integers(0, max(0, len(chosen) - 1)))
    return kind, chosen[:size], chosen[size] if size < len(chosen) else chosen[-1]


def _apply(kind: str, cases: list[Case], version: str = "1.0.0") -> tuple[dict, dict]:
    doc = copy.deepcopy(BASES[kind])
    files = dict(BASE_FILES)
    total = Change()
    for case in cases:
        total = total + case.change
    total(doc, files)
    doc["spec"]["version"] = version
    return doc, files


def _diff(root: Path, kind: str, cases: list[Case], old_version: str = "1.0.0", new_version: str = "1.0.0"):
    old_doc = copy.deepcopy(BASES[kind])
    old_doc["spec"]["version"] = old_version
    old = write_side(root / "old", old_doc, dict(BASE_FILES))
    new_doc, files = _apply(kind, cases, new_version)
    new = write_side(root / "new", new_doc, files)
    return old, new, diff_manifests(old, new, old_files=WorkingTree(root / "old"),
                                    new_files=WorkingTree(root / "new"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change_sets())
def test_required_level_never_decreases_when_a_change_is_added(drawn: tuple[str, list[Case], Case]) -> None:
    kind, before, extra = drawn
    with tempfile.TemporaryDirectory() as tmp:
        _, _, smaller = _diff(Path(tmp) / "a", kind, before)
        _, _, larger = _diff(Path(tmp) / "b", kind, [*before, extra])
    assert larger.required >= smaller.required
    assert set(smaller.flags) <= set(larger.flags)


versions = st.builds(
    lambda major, minor, patch, pre: f"{major}.{minor}.{patch}" + (f"-rc.{pre}" if pre is not None else ""),
    st.integers(0, 3), st.integers(0, 12), st.integers(0, 12), st.none() | st.integers(0, 3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(change_sets(), versions)
def test_bump_then_check_always_passes(drawn: tuple[str, list[Case], Case], old_version: str) -> None:
    kind, before, extra = drawn
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old, new, change = _diff(root, kind, [*before, extra], old_version, old_version)
        target = minimal_version(old_version, change.required)
        edited = replace_version(new.raw, new.relpath, target)
        loaded = load_bytes(edited, new.relpath)
        assert loaded.document is not None
        bumped = Manifest(new.relpath, new.environment, new.expected, loaded.document, edited)
        again = diff_manifests(old, bumped, old_files=WorkingTree(root / "old"), new_files=WorkingTree(root / "new"))
    assert bumped.version == target
    assert again.required == change.required
    errors = [f for f in policy_findings(again, bumped) if f.severity.value == "error"]
    assert errors == [], [f.message for f in errors]


@given(versions, st.sampled_from(list(Level)))
def test_minimal_version_reaches_the_level_and_moves_forward(old: str, level: Level) -> None:
    new = minimal_version(old, level)
    if level is Level.NONE:
        assert new == old
        return
    reached = achieved_level(old, new)
    assert reached is not None and reached >= level
    assert parse_version(new).compare(parse_version(old)) > 0  # type: ignore[union-attr]


@given(versions, st.sampled_from([Level.PATCH, Level.MINOR, Level.MAJOR]))
def test_increment_moves_forward(old: str, level: Level) -> None:
    assert achieved_level(old, increment(old, level)) is not None


@given(st.text(alphabet="abc {}%#.,!?\n\t", max_size=40), st.text(alphabet=" \n\t", max_size=4))
def test_wording_key_ignores_whitespace_outside_templates(text: str, spaces: str) -> None:
    assert wording_key(text) == wording_key(text.replace(" ", " " + spaces))


def test_level_boundaries() -> None:
    assert achieved_level("1.2.3", "2.0.0") is Level.MAJOR
    assert achieved_level("1.2.3", "1.3.0") is Level.MINOR
    assert achieved_level("1.2.3", "1.2.4") is Level.PATCH
    assert achieved_level("1.2.3", "1.2.3") is None
    assert achieved_level("1.2.3", "1.2.2") is None
    assert achieved_level("0.3.1", "0.4.0") is Level.MAJOR  # caret: ^0.3.1 excludes 0.4.0
    assert achieved_level("0.3.1", "0.3.2") is Level.MINOR
    assert achieved_level("0.0.3", "0.0.4") is Level.MAJOR
    assert achieved_level("2.0.0-rc.1", "2.0.0") is Level.MAJOR  # a pre-release promises nothing
    assert minimal_version("1.2.3", Level.MAJOR) == "2.0.0"
    assert minimal_version("0.3.1", Level.MAJOR) == "0.4.0"
    assert minimal_version("0.3.1", Level.PATCH) == "0.3.2"
    assert minimal_version("2.0.0-rc.1", Level.MAJOR) == "2.0.0"
