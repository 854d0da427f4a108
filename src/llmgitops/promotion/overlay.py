"""A Source that is another Source with some files replaced or deleted: the repository as a promotion
would leave it, before anything is written."""

from __future__ import annotations

from ..manifests.source import Source, SourceError


class Overlay:
    def __init__(self, base: Source, changes: dict[str, bytes | None]) -> None:
        self.base = base
        self.changes = changes
        self.label = f"{base.label} with the promotion applied"

    def files(self, prefix: str) -> list[str]:
        base = prefix.rstrip("/") + "/"
        out = set(self.base.files(prefix))
        for relpath, content in self.changes.items():
            if relpath.startswith(base) or relpath == prefix:
                if content is None:
                    out.discard(relpath)
                else:
                    out.add(relpath)
        return sorted(out)

    def read(self, relpath: str) -> bytes:
        if relpath in self.changes:
            content = self.changes[relpath]
            if content is None:
                raise SourceError("path/missing", f"{relpath} does not exist")
            return content
        return self.base.read(relpath)

    def exists(self, relpath: str) -> bool:
        if relpath in self.changes:
            return self.changes[relpath] is not None
        return self.base.exists(relpath)
