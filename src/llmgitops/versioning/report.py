"""Changes as text, for people reading hook and CI output."""

from __future__ import annotations

from collections.abc import Sequence

from .model import ManifestChange, Status


def render_change(change: ManifestChange) -> str:
    versions = f"{change.old_version or '-'} -> {change.new_version or '-'}"
    head = f"{change.path}: {change.kind} {change.name} {versions} ({change.status.value}"
    if change.status is Status.CHANGED:
        head += f"; requires {change.required.label}"
    head += ")"
    if change.flags:
        head += " [" + ", ".join(change.flags) + "]"
    lines = [head]
    for hit in change.hits:
        lines.append(f"    {hit.level.label:<5} {hit.rule} {hit.json_path}: {hit.message}")
    return "\n".join(lines)


def render_changes(changes: Sequence[ManifestChange]) -> str:
    shown = [render_change(c) for c in changes if c.status is not Status.UNCHANGED]
    return "\n".join(shown) + ("\n" if shown else "")
