"""How a repository tunes findings: rule severities, disabled rules, and suppressions in one manifest.

Project-wide, in ``pyproject.toml``::

    [tool.llmgitops]
    severity = {"prompt/pii-email" = "error", "prompt/pii-*" = "off"}
    disable = ["prompt/unused-variable"]

or the same keys in ``.llmgitops.yaml`` at the repository root (read with the manifest loader, so the
same safety rules apply). When both files set a rule, ``.llmgitops.yaml`` wins. Keys are rule ids or
shell-style patterns (``prompt/pii-*``); an exact id beats a pattern, a longer pattern a shorter one.
Severities are ``error``, ``warning``, ``info`` or ``off``.

For one manifest, the annotation ``llmgitops.dev/ignore: "rule-a,rule-b"`` suppresses those rules in
that file. A suppressed finding is not dropped: it is kept as an ``info`` finding marked
``extra["suppressed"]``, so every report lists what was silenced, and by what.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .findings import Finding, Severity
from .manifests.kinds import YAML_SUFFIXES
from .manifests.loader import load_bytes
from .manifests.repository import Manifest, Repository, expected_kind
from .manifests.source import Source, SourceError
from .rules import RULES, Rule, register

PYPROJECT = "pyproject.toml"
CONFIG_FILE = ".llmgitops.yaml"
IGNORE_ANNOTATION = "llmgitops.dev/ignore"
KNOWN_KEYS = frozenset({"severity", "disable"})
_LEVELS: dict[str, Severity | None] = {"error": Severity.ERROR, "warning": Severity.WARNING,
                                       "info": Severity.INFO, "off": None}

register((
    Rule("config/invalid", Severity.ERROR, "The configuration does not parse or holds a bad value."),
    Rule("config/unknown-key", Severity.WARNING, "The llmgitops configuration has a key it does not read."),
    Rule("config/unknown-rule", Severity.WARNING, "The configuration names a rule id that does not exist."),
))


@dataclass(frozen=True)
class Config:
    severity: Mapping[str, Severity | None]  # rule id or pattern -> severity (None: off)
    disable: tuple[str, ...] = ()
    problems: tuple[Finding, ...] = ()  # findings about the configuration files themselves

    def severity_for(self, rule: str, default: Severity) -> Severity | None:
        """The severity a rule reports at here; None when it is switched off."""
        if any(fnmatch.fnmatchcase(rule, pattern) for pattern in self.disable):
            return None
        if rule in self.severity:
            return self.severity[rule]
        matching = [p for p in self.severity if fnmatch.fnmatchcase(rule, p)]
        if not matching:
            return default
        return self.severity[max(matching, key=len)]


EMPTY = Config({})


def _problem(path: str, rule: str, message: str, pos: tuple[int, int] = (0, 0),
             severity: Severity = Severity.ERROR, hint: str | None = None) -> Finding:
    return Finding(path, pos[0], pos[1], rule, severity, message, hint)


def _known_rule(pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return True
    family = pattern.split("/", 1)[0] + "/"
    # Rules register as their areas load; only a family that is loaded can tell a typo from a rule.
    return pattern in RULES or not any(r.startswith(family) for r in RULES)


def parse(settings: Any, path: str, where: Callable[[tuple[str | int, ...]], tuple[int, int]]) -> Config:
    """A Config from the settings mapping of one file; ``where`` positions a key path in that file."""
    problems: list[Finding] = []
    if not isinstance(settings, dict):
        return Config({}, (), (_problem(path, "config/invalid", "llmgitops settings must be a mapping",
                                        where(())),))
    for name in settings:
        if name not in KNOWN_KEYS:
            problems.append(_problem(path, "config/unknown-key", f"unknown llmgitops setting {name!r}",
                                     where((name,)), Severity.WARNING,
                                     f"known settings: {', '.join(sorted(KNOWN_KEYS))}"))
    severity: dict[str, Severity | None] = {}
    raw = settings.get("severity", {})
    if not isinstance(raw, dict):
        problems.append(_problem(path, "config/invalid",
                                 "severity must map rule ids to error, warning, info or off",
                                 where(("severity",))))
        raw = {}
    for rule, level in raw.items():
        if not isinstance(level, str) or level.lower() not in _LEVELS:
            problems.append(_problem(path, "config/invalid", f"severity of {rule!r} is {level!r}",
                                     where(("severity", rule)), hint="use error, warning, info or off"))
            continue
        severity[str(rule)] = _LEVELS[level.lower()]
    disable_raw = settings.get("disable", [])
    if not isinstance(disable_raw, list) or not all(isinstance(r, str) for r in disable_raw):
        problems.append(_problem(path, "config/invalid", "disable must be a list of rule ids",
                                 where(("disable",))))
        disable_raw = []
    named: list[tuple[str, tuple[str | int, ...]]] = [(r, ("severity", r)) for r in severity]
    named += [(r, ("disable", i)) for i, r in enumerate(disable_raw)]
    for rule, key in named:
        if not _known_rule(rule):
            problems.append(_problem(path, "config/unknown-rule", f"no rule is named {rule!r}", where(key),
                                     Severity.WARNING, "rule ids are listed in docs/ and in --format sarif"))
    return Config(severity, tuple(disable_raw), tuple(problems))


def _read(source: Source, relpath: str) -> bytes | None:
    if not source.exists(relpath):
        return None
    try:
        return source.read(relpath)
    except SourceError:
        return None


def _from_pyproject(raw: bytes) -> Config:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        pos = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        problem = _problem(PYPROJECT, "config/invalid", f"pyproject.toml does not parse: {exc}", pos)
        return Config({}, (), (problem,))
    tool = data.get("tool")
    settings = tool.get("llmgitops") if isinstance(tool, dict) else None
    if settings is None:
        return EMPTY
    text = raw.decode("utf-8")
    header = re.search(r"^\[tool\.llmgitops[.\]]", text, re.M)
    start = header.start() if header else 0

    def where(path: tuple[str | int, ...]) -> tuple[int, int]:
        # tomllib keeps no positions: point at the key's line when it is written plainly, else the table.
        key = re.search(rf"^[ \t]*{re.escape(str(path[0]))}[ \t]*=", text[start:], re.M) if path else None
        offset = start + key.start() if key else start
        return (text.count("\n", 0, offset) + 1, 1) if header else (0, 0)

    return parse(settings, PYPROJECT, where)


def _from_yaml(raw: bytes) -> Config:
    result = load_bytes(raw, CONFIG_FILE)
    if result.document is None:
        return Config({}, (), tuple(result.findings))
    document = result.document
    return parse(document.data, CONFIG_FILE, lambda path: document.key_position(path))


def merge(first: Config, second: Config) -> Config:
    """``second`` overrides ``first`` rule by rule."""
    return Config({**first.severity, **second.severity}, (*first.disable, *second.disable),
                  (*first.problems, *second.problems))


def load(source: Source) -> Config:
    config = EMPTY
    raw = _read(source, PYPROJECT)
    if raw is not None:
        config = merge(config, _from_pyproject(raw))
    raw = _read(source, CONFIG_FILE)
    if raw is not None:
        config = merge(config, _from_yaml(raw))
    return config


def ignored_rules(annotations: Mapping[str, str]) -> tuple[str, ...]:
    value = annotations.get(IGNORE_ANNOTATION, "")
    return tuple(part.strip() for part in value.split(",") if part.strip())


def apply(findings: Iterable[Finding], config: Config,
          annotations_of: Callable[[str], Mapping[str, str]]) -> list[Finding]:
    """Findings with the configured severities, disabled rules dropped, suppressed ones marked."""
    out = list(config.problems)
    ignores: dict[str, tuple[str, ...]] = {}
    for finding in findings:
        if finding.extra.get("suppressed"):
            out.append(finding)  # already configured (a command that applies twice changes nothing)
            continue
        severity = config.severity_for(finding.rule, finding.severity)
        if severity is None:
            continue
        if finding.path not in ignores:
            ignores[finding.path] = ignored_rules(annotations_of(finding.path))
        if any(fnmatch.fnmatchcase(finding.rule, pattern) for pattern in ignores[finding.path]):
            note = {"by": f"metadata.annotations {IGNORE_ANNOTATION}", "severity": severity.value}
            out.append(replace(finding, severity=Severity.INFO, extra={**finding.extra, "suppressed": note}))
        elif severity is not finding.severity:
            out.append(replace(finding, severity=severity))
        else:
            out.append(finding)
    return out


def manifest_annotations(repo: Repository) -> Callable[[str], Mapping[str, str]]:
    """Annotations of the manifest at a repository path, from what ``repo`` has loaded."""

    def annotations_of(relpath: str) -> Mapping[str, str]:
        if not relpath.endswith(YAML_SUFFIXES):
            return {}
        env, kind, _ = expected_kind(relpath)
        manifest: Manifest | None = None
        if env is not None and kind is not None:
            manifest = next((m for m in repo.environment(env).manifests if m.relpath == relpath), None)
        elif repo.source.exists(relpath):
            manifest, _ = repo.load_file(relpath)
        return manifest.annotations if manifest is not None else {}

    return annotations_of


def configure(findings: Iterable[Finding], repo: Repository) -> list[Finding]:
    """``apply`` with the repository's own configuration and annotations."""
    return apply(findings, load(repo.source), manifest_annotations(repo))
