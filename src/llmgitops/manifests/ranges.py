"""Semantic versions and the version ranges references use (npm/cargo syntax, the subset users know).

``1.2.3`` exact, ``^1.2.3`` compatible, ``~1.4`` patch-level, ``1.x``/``1.2``/``*`` wildcards,
comparator sets ``>=2.0.0 <3.0.0``, and alternatives joined by ``||``. Pre-releases match only a range
that names a pre-release of the same major.minor.patch, as in npm, so ``^1.2.0`` never picks ``1.3.0-rc.1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from semver import Version

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_PARTIAL = re.compile(
    r"^(?P<op>\^|~|>=|<=|>|<|=)?\s*v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?(?:\.(?P<patch>\d+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


class RangeError(ValueError):
    pass


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version | None:
    """A full semver 2.0.0 version, or None when ``text`` is not one."""
    if not isinstance(text, str) or not SEMVER.match(text):
        return None
    return Version.parse(text)


@dataclass(frozen=True)
class Comparator:
    op: str  # one of >=, >, <, <=, =
    version: Version

    def test(self, v: Version) -> bool:
        c = v.compare(self.version)
        return {">=": c >= 0, ">": c > 0, "<": c < 0, "<=": c <= 0, "=": c == 0}[self.op]


@dataclass(frozen=True)
class Range:
    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def satisfied_by(self, version: Version | str) -> bool:
        v = parse_version(version) if isinstance(version, str) else version
        if v is None:
            return False
        return any(_set_matches(alt, v) for alt in self.alternatives)



def _set_matches(comparators: tuple[Comparator, ...], v: Version) -> bool:
    if not all(c.test(v) for c in comparators):
        return False
    if v.prerelease:
        core = (v.major, v.minor, v.patch)
        return any(
            c.version.prerelease and (c.version.major, c.version.minor, c.version.patch) == core
            for c in comparators
        )
    return True


def _floor(major: int, minor: int = 0, patch: int = 0) -> Version:
    # "-0" is the lowest pre-release, so "< X.Y.Z-0" excludes X.Y.Z's pre-releases too
    return Version(major, minor, patch, prerelease="0")


def _expand(token: str) -> list[Comparator]:
    m = _PARTIAL.match(token)
    if not m:
        raise RangeError(f"{token!r} is not a version or comparator")
    op = m.group("op") or "="
    parts = [m.group("major"), m.group("minor"), m.group("patch")]
    wild = [p is None or p in ("x", "X", "*") for p in parts]
    if any(wild[i] and not wild[i + 1] for i in range(2)):
        raise RangeError(f"{token!r}: a wildcard cannot precede a number")
    nums = [0 if w else int(p) for p, w in zip(parts, wild, strict=True)]
    pre = m.group("pre")
    if pre and any(wild):
        raise RangeError(f"{token!r}: a pre-release needs a full version")
    major, minor, patch = nums
    exact = Version(major, minor, patch, prerelease=pre)
    if wild[0]:
        return [] if op in ("=", ">=", "<=", "^", "~") else [Comparator("<", _floor(0))]
    if op == "^":
        if wild[1] or major > 0:
            upper = _floor(major + 1)
        elif wild[2] or minor > 0:
            upper = _floor(0, minor + 1)
        else:
            upper = _floor(0, 0, patch + 1)
        return [Comparator(">=", exact), Comparator("<", upper)]
    if op == "~":
        upper = _floor(major + 1) if wild[1] else _floor(major, minor + 1)
        return [Comparator(">=", exact), Comparator("<", upper)]
    if not any(wild):
        return [Comparator(op, exact)]
    # partial versions: 1.2 means 1.2.x
    upper = _floor(major + 1) if wild[1] else _floor(major, minor + 1)
    if op == "=":
        return [Comparator(">=", exact), Comparator("<", upper)]
    if op == ">=":
        return [Comparator(">=", exact)]
    if op == ">":
        return [Comparator(">=", upper.replace(prerelease=None))]
    if op == "<":
        return [Comparator("<", _floor(major, minor, 0) if not wild[1] else _floor(major))]
    return [Comparator("<", upper)]  # <=


@lru_cache(maxsize=4096)
def parse_range(text: str) -> Range:
    if not isinstance(text, str) or not text.strip():
        raise RangeError("empty version range")
    alternatives = []
    for alt in text.split("||"):
        if not alt.strip():
            raise RangeError("an empty alternative around '||'")
        tokens = re.findall(r"(?:\^|~|>=|<=|>|<|=)?\s*[^\s^~<>=|]+", alt.strip())
        if not tokens and alt.strip() not in ("", "*"):
            raise RangeError(f"{alt.strip()!r} is not a version range")
        if "".join(t.replace(" ", "") for t in tokens) != alt.replace(" ", ""):
            raise RangeError(f"{alt.strip()!r} is not a version range")
        comparators: list[Comparator] = []
        for token in tokens:
            comparators.extend(_expand(token.replace(" ", "")))
        alternatives.append(tuple(comparators))
    return Range(text, tuple(alternatives))


def satisfies(version: str, range_text: str) -> bool:
    return parse_range(range_text).satisfied_by(version)


def max_satisfying(versions: list[str], range_text: str) -> str | None:
    rng = parse_range(range_text)
    matching = [v for v in versions if rng.satisfied_by(v)]
    return max(matching, key=lambda v: parse_version(v), default=None)  # type: ignore[arg-type,return-value]
