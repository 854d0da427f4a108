"""Reading many blobs with one ``git cat-file --batch`` process.

Requests are written from a thread while the answers are read, so neither side blocks on a full pipe.
Each blob is hashed whole but only its first ``cap`` bytes are kept: a hostile 1 GB blob costs a pass
over the pipe, never the memory.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from .git import Git, GitError

CHUNK = 1 << 16


@dataclass(frozen=True)
class Blob:
    size: int
    head: bytes  # the first ``cap`` bytes
    sha256: str


def _read_exact(stream: IO[bytes], size: int, cap: int) -> tuple[bytes, str]:
    h = hashlib.sha256()
    kept = bytearray()
    remaining = size
    while remaining:
        block = stream.read(min(CHUNK, remaining))
        if not block:
            raise GitError("git cat-file ended early")
        h.update(block)
        if len(kept) < cap:
            kept += block[: cap - len(kept)]
        remaining -= len(block)
    return bytes(kept), h.hexdigest()


def read_blobs(git: Git, object_ids: Iterable[str], cap: int) -> dict[str, Blob]:
    """Blobs by object id; ids git does not have, or that are not blobs, are left out."""
    ids = list(dict.fromkeys(object_ids))
    if not ids:
        return {}
    proc = git.popen("cat-file", "--batch")
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        try:
            stdin.write(b"".join(i.encode("ascii") + b"\n" for i in ids))
        except BrokenPipeError:
            pass
        finally:
            stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out: dict[str, Blob] = {}
    try:
        for requested in ids:
            header = proc.stdout.readline()
            if not header:
                raise GitError("git cat-file stopped answering")
            parts = header.split()
            if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
                continue
            if len(parts) != 3:
                raise GitError(f"git cat-file: unexpected answer {header[:80]!r}")
            size = int(parts[2])
            head, digest = _read_exact(proc.stdout, size, cap)
            proc.stdout.read(1)  # the newline after the contents
            if parts[1] == b"blob":
                out[requested] = Blob(size, head, digest)
    finally:
        writer.join()
        proc.stdout.close()
        proc.wait()
    return out
