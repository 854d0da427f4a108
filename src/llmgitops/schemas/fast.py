"""A compiled fast path for schema validation: most manifests are valid, so ask a compiled validator first
and let jsonschema explain only the ones that fail.

fastjsonschema speaks draft-07, so each kind's schema is bundled into a draft-07 equivalent: the shared
definitions are inlined under ``$defs`` (JSON pointers work the same in both drafts) and every ``$ref``
that has sibling keywords is wrapped in ``allOf`` (draft-07 ignores a ``$ref``'s siblings, 2020-12 does
not). The schema tests check that both validators agree.

Generating and compiling a validator costs ~0.1 s per kind, more than a hook's whole budget, so the
compiled code object is cached on disk (like a .pyc), keyed by the bundle's hash, the fastjsonschema
version and the interpreter's bytecode magic. A cache that cannot be written only costs speed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import json
import marshal
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..atomicfile import write_bytes
from ..manifests.kinds import KINDS

COMMON = "common.json"
DRAFT7 = "http://json-schema.org/draft-07/schema#"


def _rewrite(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite(v) for k, v in node.items() if k not in ("$id", "$schema")}
    ref = out.get("$ref")
    if isinstance(ref, str):
        if ref.startswith(COMMON + "#"):
            ref = ref[len(COMMON):]
        siblings = {k: v for k, v in out.items() if k not in ("$ref", "description", "title", "$comment")}
        out = {**siblings, "allOf": [*siblings.get("allOf", []), {"$ref": ref}]} if siblings else {"$ref": ref}
    return out


def bundle(schemas: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    """The kind's schema with common.json inlined, as a self-contained draft-07 document."""
    schema = copy.deepcopy(schemas[KINDS[kind].schema])
    defs = {**schemas.get(COMMON, {}).get("$defs", {}), **schema.get("$defs", {})}
    bundled: dict[str, Any] = _rewrite({**schema, "$defs": defs})
    bundled["$schema"] = DRAFT7
    return bundled


def cache_dir() -> Path:
    base = os.environ.get("LLMGITOPS_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "llmgitops" / "schemas"


@cache
def compiled(kind: str) -> Callable[[Any], Any] | None:
    """The compiled validator for ``kind``, or None when fastjsonschema is unavailable."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    from . import load_all

    definition = bundle(load_all(), kind)
    key = hashlib.sha256(
        json.dumps(definition, sort_keys=True).encode() + fastjsonschema.VERSION.encode() + importlib.util.MAGIC_NUMBER
    ).hexdigest()[:24]
    path = cache_dir() / f"{kind.lower()}-{key}.bin"
    code = None
    try:
        code = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        source = fastjsonschema.compile_to_code(definition, use_default=False, use_formats=False)
        code = compile(source, f"<llmgitops schema {kind}>", "exec")
        with contextlib.suppress(OSError):  # a read-only home only costs speed
            write_bytes(path, marshal.dumps(code))
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # our own generated code, keyed by the hash of our own schema
    validate: Callable[[Any], Any] = namespace["validate"]
    return validate


def is_valid(kind: str, data: Any) -> bool | None:
    """True/False from the compiled validator; None when it cannot say (not installed)."""
    check = compiled(kind)
    if check is None:
        return None
    import fastjsonschema

    try:
        check(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
