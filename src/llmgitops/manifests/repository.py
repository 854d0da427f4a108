"""The repository model: environments, the manifests in them, and how to find one by reference."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..findings import Finding, Severity
from .kinds import ENVIRONMENT_FILE, ENVIRONMENTS_DIR, FOLDER_KINDS, KINDS, YAML_SUFFIXES, Kind
from .loader import Document, load_bytes
from .ranges import parse_version
from .source import Source, SourceError


@dataclass
class Manifest:
    """One loaded manifest file. ``expected`` is the kind its location calls for."""

    relpath: str
    environment: str | None
    expected: Kind | None
    document: Document
    raw: bytes

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data

    @property
    def kind(self) -> str | None:
        value = self.data.get("kind")
        return value if isinstance(value, str) else None

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.data.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def spec(self) -> dict[str, Any]:
        value = self.data.get("spec")
        return value if isinstance(value, dict) else {}

    @property
    def name(self) -> str | None:
        value = self.metadata.get("name")
        return value if isinstance(value, str) else None

    @property
    def version(self) -> str | None:
        value = self.spec.get("version")
        return value if isinstance(value, str) and parse_version(value) is not None else None

    @property
    def annotations(self) -> dict[str, str]:
        value = self.metadata.get("annotations")
        return {k: v for k, v in value.items() if isinstance(v, str)} if isinstance(value, dict) else {}

    @property
    def stem(self) -> str:
        base = posixpath.basename(self.relpath)
        for suffix in YAML_SUFFIXES:
            if base.endswith(suffix):
                return base[: -len(suffix)]
        return base

    @cached_property
    def digest(self) -> str:
        """sha256 of the file's bytes: what "byte-identical" and "same content" compare."""
        return hashlib.sha256(self.raw).hexdigest()

    def pos(self, *path: str | int) -> tuple[int, int]:
        return self.document.position(path)

    def finding(self, path: tuple[str | int, ...], rule: str, message: str, hint: str | None = None,
                severity: Severity = Severity.ERROR, at_key: bool = False) -> Finding:
        pos = self.document.key_position(path) if at_key else self.document.position(path)
        return Finding(self.relpath, pos[0], pos[1], rule, severity, message, hint)


@dataclass
class EnvironmentState:
    """Everything loaded from one ``environments/<name>/`` folder."""

    name: str
    manifests: list[Manifest] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    _index: dict[tuple[str, str], Manifest] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    @property
    def environment(self) -> Manifest | None:
        return next((m for m in self.manifests if m.expected is KINDS["Environment"]), None)

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m.kind == kind]

    def find(self, kind: str, name: str) -> Manifest | None:
        """The first manifest of ``kind`` named ``name``. Indexed: checks look up every reference, so a
        scan per lookup would make large environments quadratic. ``manifests`` only ever grows while an
        environment loads, so its length tells whether the index is current."""
        if self._indexed != len(self.manifests):
            index: dict[tuple[str, str], Manifest] = {}
            for m in self.manifests:
                if m.kind is not None and m.name is not None:
                    index.setdefault((m.kind, m.name), m)
            self._index, self._indexed = index, len(self.manifests)
        return self._index.get((kind, name))

    @property
    def promotable(self) -> list[Manifest]:
        return [m for m in self.manifests if m.kind in KINDS and KINDS[m.kind].promotable]


def expected_kind(relpath: str) -> tuple[str | None, Kind | None, str | None]:
    """(environment, kind its location calls for, reason it is misplaced) for a repository path."""
    parts = relpath.split("/")
    if len(parts) < 3 or parts[0] != ENVIRONMENTS_DIR:
        return None, None, None
    env = parts[1]
    rest = parts[2:]
    if rest == [ENVIRONMENT_FILE]:
        return env, KINDS["Environment"], None
    if len(rest) == 2 and rest[0] in FOLDER_KINDS:
        return env, FOLDER_KINDS[rest[0]], None
    folders = ", ".join(sorted(FOLDER_KINDS))
    return env, None, f"manifests live in environment.yaml or one of the folders {folders}"


class Repository:
    """Manifests read through a ``Source``, each file loaded once."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._environments: dict[str, EnvironmentState] = {}

    def environment_names(self) -> list[str]:
        names = set()
        for relpath in self.source.files(ENVIRONMENTS_DIR):
            parts = relpath.split("/")
            if len(parts) >= 3:
                names.add(parts[1])
        return sorted(names)

    def load_file(self, relpath: str) -> tuple[Manifest | None, list[Finding]]:
        env, kind, _ = expected_kind(relpath)
        try:
            raw = self.source.read(relpath)
        except SourceError as exc:
            return None, [Finding(relpath, 0, 0, exc.rule, Severity.ERROR, exc.message)]
        result = load_bytes(raw, relpath)
        if result.document is None:
            return None, result.findings
        return Manifest(relpath, env, kind, result.document, raw), result.findings

    def use(self, state: EnvironmentState) -> None:
        """Serve ``state`` for its environment instead of loading it: an environment built in memory,
        such as the target of a promotion before anything is written."""
        self._environments[state.name] = state

    def environment_manifest(self, name: str) -> Manifest | None:
        """Just the Environment manifest of ``name``: cross-environment checks need no more than that."""
        if name in self._environments:
            return self._environments[name].environment
        manifest, _ = self.load_file(f"{ENVIRONMENTS_DIR}/{name}/{ENVIRONMENT_FILE}")
        return manifest if manifest is not None and manifest.kind == "Environment" else None

    def environment(self, name: str) -> EnvironmentState:
        if name not in self._environments:
            self._environments[name] = self._load_environment(name)
        return self._environments[name]

    def _load_environment(self, name: str) -> EnvironmentState:
        state = EnvironmentState(name)
        prefix = f"{ENVIRONMENTS_DIR}/{name}"
        seen_env_file = False
        for relpath in self.source.files(prefix):
            if not relpath.endswith(YAML_SUFFIXES):
                continue
            _, kind, misplaced = expected_kind(relpath)
            if kind is None:
                state.findings.append(Finding(relpath, 0, 0, "layout/unexpected-file", Severity.WARNING,
                                              "YAML file outside the manifest folders is not validated",
                                              misplaced))
                continue
            seen_env_file = seen_env_file or kind.name == "Environment"
            manifest, findings = self.load_file(relpath)
            state.findings.extend(findings)
            if manifest is not None:
                state.manifests.append(manifest)
        if not seen_env_file:
            state.findings.append(Finding(f"{prefix}/{ENVIRONMENT_FILE}", 0, 0, "environment/missing-file",
                                          Severity.ERROR, f"environment {name!r} has no {ENVIRONMENT_FILE}",
                                          "every environment folder needs an Environment manifest"))
        return state
