from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmgitops.manifests.ranges import RangeError, max_satisfying, parse_range, parse_version, satisfies


@pytest.mark.parametrize(
    ("version", "rng", "expected"),
    [
        ("1.2.3", "1.2.3", True), ("1.2.4", "1.2.3", False), ("1.2.3", "=1.2.3", True),
        ("2.1.5", "^2.1.0", True), ("3.0.0", "^2.1.0", False), ("2.0.9", "^2.1.0", False),
        ("0.2.5", "^0.2.3", True), ("0.3.0", "^0.2.3", False), ("0.0.3", "^0.0.3", True), ("0.0.4", "^0.0.3", False),
        ("1.4.9", "~1.4", True), ("1.5.0", "~1.4", False), ("1.4.2", "~1.4.2", True), ("1.4.1", "~1.4.2", False),
        ("2.5.0", ">=2.0.0 <3.0.0", True), ("3.0.0", ">=2.0.0 <3.0.0", False), ("1.9.9", ">=2.0.0 <3.0.0", False),
        ("9.9.9", "*", True), ("1.9.0", "1.x", True), ("2.0.0", "1.x", False), ("1.2.7", "1.2", True),
        ("1.3.0", "<=1.2", False), ("1.2.9", "<=1.2", True), ("1.0.0", "<1.2", True), ("1.2.0", "<1.2", False),
        ("1.3.0", ">1.2", True), ("1.2.5", ">1.2", False), ("5.0.0", "1.x || >=5", True), ("4.0.0", "1.x || >=5", False),
        # pre-releases only match a range that names one of the same major.minor.patch
        ("3.0.0-rc.1", ">=2.0.0 <3.0.0", False), ("1.3.0-rc.1", "^1.2.0", False),
        ("1.2.0-rc.2", "^1.2.0-rc.1", True), ("1.2.0-rc.1", "^1.2.0-rc.2", False),
        ("1.2.3+build.5", "1.2.3", True),
    ],
)
def test_satisfies(version: str, rng: str, expected: bool) -> None:
    assert satisfies(version, rng) is expected


@pytest.mark.parametrize("bad", ["", "  ", "abc", ">=", "1.x.3", "1.2.3 ~", ">=1.0.0 <", "1.2.3-", "^1.2.3 || "])
def test_invalid_ranges_raise_range_error(bad: str) -> None:
    with pytest.raises(RangeError):
        parse_range(bad)


@pytest.mark.parametrize("bad", ["1.10", "01.2.3", "1.2", "v1.2.3", "1.2.3-01", ""])
def test_versions_are_strict_semver(bad: str) -> None:
    assert parse_version(bad) is None


def test_max_satisfying_orders_by_semver_not_text() -> None:
    assert max_satisfying(["1.9.0", "1.10.0", "2.0.0", "1.10.0-rc.1"], "^1.0.0") == "1.10.0"
    assert max_satisfying(["1.0.0"], "^2") is None


versions = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)).map(lambda t: ".".join(map(str, t)))


@given(versions, versions)
def test_caret_is_same_major_and_not_lower(a: str, b: str) -> None:
    va, vb = parse_version(a), parse_version(b)
    assert va is not None and vb is not None
    if va.major > 0:
        assert satisfies(b, f"^{a}") == (vb.major == va.major and vb >= va)
