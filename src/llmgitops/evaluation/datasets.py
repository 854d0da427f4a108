"""Dataset records for evaluation: JSONL or CSV, from a file in Git (``spec.path``) or tracked by DVC
(``spec.storage.dvc.path``), each record validated against the Dataset's declared ``schema``.

Bad records are findings at ``file:line``; a dataset with any is not evaluated, because a score over
half a dataset is a different score. DVC-tracked data is read through DVC's Python API (``dvc.api.open``:
the workspace copy, else the DVC cache, else the remote) and checked against the md5 its pointer records,
so an evaluation never runs on data that differs from what Git says it is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import Finding, Severity
from ..manifests.loader import load_bytes
from ..manifests.repository import Manifest
from ..manifests.source import file_problem, path_problem
from ..rules import Rule, register
from .cases import Case

MAX_DATASET_BYTES = 512 * 1024 * 1024
FORMATS = ("jsonl", "csv")

register(
    (
        Rule("eval/dataset-format", Severity.ERROR, "The Dataset's format cannot be evaluated (use jsonl or csv)."),
        Rule("eval/dataset-source", Severity.ERROR, "The Dataset's file or DVC pointer cannot be read."),
        Rule("eval/dataset-integrity", Severity.ERROR, "DVC-tracked data differs from the md5 its pointer records."),
        Rule("eval/dataset-parse", Severity.ERROR, "A dataset line is not a JSON object, or a CSV row is malformed."),
        Rule("eval/dataset-record", Severity.ERROR, "A dataset record does not match the Dataset's schema."),
        Rule("eval/dataset-duplicate-id", Severity.ERROR, "Two dataset records share an id."),
        Rule("eval/dataset-empty", Severity.ERROR, "The dataset holds no records."),
    )
)


@dataclass
class DatasetData:
    name: str
    version: str
    relpath: str  # the data file, repository-relative
    digest: str  # sha256 of the data bytes
    cases: list[Case] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": self.relpath,
            "sha256": self.digest,
            "records": len(self.cases),
        }


def _finding(path: str, line: int, rule: str, message: str, hint: str | None = None) -> Finding:
    return Finding(path, line, 1 if line else 0, rule, Severity.ERROR, message, hint)


def load_dataset(root: Path, manifest: Manifest) -> DatasetData:
    spec = manifest.spec
    data = DatasetData(manifest.name or "?", manifest.version or "?", manifest.relpath, "")
    fmt = spec.get("format")
    if fmt not in FORMATS:
        data.findings.append(manifest.finding(
            ("spec", "format"), "eval/dataset-format",
            f"Dataset {data.name} has format {fmt!r}; evaluation reads {' or '.join(FORMATS)}"))
        return data
    raw = _read_source(root, manifest, data)
    if raw is None:
        return data
    data.digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        data.findings.append(
            _finding(data.relpath, raw[: exc.start].count(b"\n") + 1, "eval/dataset-parse", "the data is not UTF-8")
        )
        return data
    records = _parse_jsonl(text, data) if fmt == "jsonl" else _parse_csv(text, data, spec.get("schema"))
    _validate(records, spec.get("schema"), data)
    if not data.findings and not data.cases:
        data.findings.append(_finding(data.relpath, 0, "eval/dataset-empty", f"Dataset {data.name} has no records"))
    return data


def _read_source(root: Path, manifest: Manifest, data: DatasetData) -> bytes | None:
    spec = manifest.spec
    storage = spec.get("storage")
    dvc = storage.get("dvc") if isinstance(storage, dict) else None
    if isinstance(spec.get("path"), str):
        return _read_file(root, spec["path"], manifest, ("spec", "path"), data)
    if isinstance(dvc, dict) and isinstance(dvc.get("path"), str):
        return _read_dvc(root, dvc["path"], manifest, data)
    data.findings.append(manifest.finding(
        ("spec",), "eval/dataset-source", f"Dataset {data.name} names neither spec.path nor spec.storage.dvc.path"))
    return None


def _read_file(root: Path, relpath: str, manifest: Manifest, where: tuple[str, ...], data: DatasetData) -> bytes | None:
    data.relpath = relpath
    why = file_problem(root, relpath, MAX_DATASET_BYTES)
    if why:
        data.findings.append(manifest.finding(where, "eval/dataset-source", f"Dataset {data.name}: {relpath}: {why}"))
        return None
    return (root / relpath).read_bytes()


def _read_dvc(root: Path, pointer: str, manifest: Manifest, data: DatasetData) -> bytes | None:
    where = ("spec", "storage", "dvc", "path")
    pos = manifest.pos(*where)

    def fail(message: str, hint: str | None = None) -> None:
        data.findings.append(
            Finding(
                manifest.relpath,
                pos[0],
                pos[1],
                "eval/dataset-source",
                Severity.ERROR,
                f"Dataset {data.name}: {message}",
                hint,
            )
        )

    why = path_problem(root, pointer)
    if why or not (root / pointer).is_file():
        fail(f"{pointer}: {why or 'the DVC pointer file does not exist'}")
        return None
    loaded = load_bytes((root / pointer).read_bytes(), pointer)
    outs = loaded.document.data.get("outs") if loaded.document else None
    out = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else None
    if out is None or not isinstance(out.get("path"), str):
        fail(f"{pointer} is not a DVC pointer with outs[0].path")
        return None
    relpath = posixpath.normpath(posixpath.join(posixpath.dirname(pointer), out["path"]))
    data.relpath = relpath
    why = path_problem(root, relpath)
    if why:
        fail(f"{relpath}: {why}")
        return None
    try:
        import dvc.api
    except ImportError:
        fail("the data is tracked by DVC, which is not installed", "pip install 'llmgitops[dvc]'")
        return None
    try:
        with dvc.api.open(relpath, repo=str(root), mode="rb") as fh:
            raw: bytes = fh.read(MAX_DATASET_BYTES + 1)
    except Exception as exc:  # DVC raises many types (missing cache, unreachable remote, bad config)
        fail(
            f"DVC cannot open {relpath}: {type(exc).__name__}: {exc}".rstrip(": "),
            "run `dvc pull`, or check the DVC remote",
        )
        return None
    if len(raw) > MAX_DATASET_BYTES:
        fail(f"{relpath} is larger than {MAX_DATASET_BYTES // (1024 * 1024)} MiB")
        return None
    md5 = out.get("md5")
    if isinstance(md5, str) and hashlib.md5(raw, usedforsecurity=False).hexdigest() != md5:
        data.findings.append(
            _finding(
                relpath,
                0,
                "eval/dataset-integrity",
                f"{relpath} differs from the md5 recorded in {pointer}",
                "`dvc add` the new data (and commit the pointer) or `dvc checkout`",
            )
        )
        return None
    return raw


def _parse_jsonl(text: str, data: DatasetData) -> list[tuple[int, Any]]:
    records: list[tuple[int, Any]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            data.findings.append(_finding(data.relpath, lineno, "eval/dataset-parse", f"not a JSON line: {exc}"))
            continue
        if not isinstance(value, dict):
            data.findings.append(
                _finding(
                    data.relpath,
                    lineno,
                    "eval/dataset-parse",
                    f"a record must be a JSON object, not {type(value).__name__}",
                )
            )
            continue
        records.append((lineno, value))
    return records


def _coerce(value: str, declared: Any) -> Any:
    """CSV cells are strings; turn them into the type the schema declares, when they read as one."""
    types = declared if isinstance(declared, list) else [declared]
    if value == "" and "null" in types:
        return None
    for kind in types:
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
        except ValueError:
            continue
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind in ("array", "object"):
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if isinstance(parsed, list if kind == "array" else dict):
                return parsed
    return value


def _parse_csv(text: str, data: DatasetData, schema: Any) -> list[tuple[int, Any]]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    props = props if isinstance(props, dict) else {}
    records: list[tuple[int, Any]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        data.findings.append(_finding(data.relpath, 1, "eval/dataset-parse", f"CSV header: {exc}"))
        return records
    if not header:
        return records
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            data.findings.append(_finding(data.relpath, start, "eval/dataset-parse", f"CSV: {exc}"))
            break
        if row:
            if len(row) != len(header):
                data.findings.append(
                    _finding(
                        data.relpath,
                        start,
                        "eval/dataset-parse",
                        f"row has {len(row)} fields, the header {len(header)}",
                    )
                )
            else:
                record = {
                    name: _coerce(cell, (props.get(name) or {}).get("type"))
                    for name, cell in zip(header, row, strict=True)
                }
                records.append((start, record))
        start = reader.line_num + 1
    return records


def case_id(record: dict[str, Any], index: int) -> str:
    value = record.get("id")
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"#{index + 1}"


def _validate(records: list[tuple[int, Any]], schema: Any, data: DatasetData) -> None:
    check = None
    if isinstance(schema, dict):
        from jsonschema import Draft202012Validator

        check = Draft202012Validator(schema)
    seen: dict[str, int] = {}
    for index, (line, record) in enumerate(records):
        if check is not None:
            errors = sorted(check.iter_errors(record), key=lambda e: list(e.absolute_path))
            for error in errors[:3]:
                where = ".".join(str(p) for p in error.absolute_path)
                data.findings.append(
                    _finding(
                        data.relpath, line, "eval/dataset-record", f"{where + ': ' if where else ''}{error.message}"
                    )
                )
            if errors:
                continue
        cid = case_id(record, index)
        if cid in seen:
            data.findings.append(
                _finding(
                    data.relpath, line, "eval/dataset-duplicate-id", f"id {cid!r} was already used on line {seen[cid]}"
                )
            )
            continue
        seen[cid] = line
        data.cases.append(Case(len(data.cases), cid, record, line))
