"""Names, folders and uniqueness: a manifest is where its kind and name say it is."""

from __future__ import annotations

from ..findings import Finding
from ..manifests.repository import EnvironmentState, Manifest, Repository


def check(repo: Repository, state: EnvironmentState) -> list[Finding]:
    findings: list[Finding] = []
    seen: dict[tuple[str, str], Manifest] = {}
    for m in state.manifests:
        kind, name = m.kind, m.name
        if m.expected is not None and kind is not None and kind != m.expected.name:
            where = f"{m.expected.folder}/" if m.expected.folder else "environment.yaml"
            findings.append(m.finding(("kind",), "layout/wrong-folder",
                                      f"a {kind} does not belong in {where} (that place holds {m.expected.name})",
                                      "move the file to the folder of its kind"))
        if name is None:
            continue
        if kind == "Environment":
            if name != state.name:
                findings.append(m.finding(("metadata", "name"), "environment/name-mismatch",
                                          f"Environment is named {name!r} but lives in environments/{state.name}/",
                                          f"set metadata.name to {state.name!r}"))
        elif name != m.stem:
            findings.append(m.finding(("metadata", "name"), "manifest/name-mismatch",
                                      f"metadata.name {name!r} does not match the file name {m.stem!r}",
                                      f"rename the file to {name}.yaml or the manifest to {m.stem!r}"))
        if kind is None:
            continue
        other = seen.get((kind, name))
        if other is not None:
            findings.append(m.finding(("metadata", "name"), "manifest/duplicate-name",
                                      f"{kind} {name!r} is also defined in {other.relpath}",
                                      "names are unique per kind within an environment"))
        else:
            seen[(kind, name)] = m
    return findings
