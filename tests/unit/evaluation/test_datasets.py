"""Datasets: JSONL and CSV in Git, DVC-tracked data through a real local DVC remote, and every kind of
bad record reported at its line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import evalrepo
from llmgitops.evaluation.datasets import load_dataset
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree

SCHEMA = evalrepo.manifests()["environments/dev/datasets/qa.yaml"]["spec"]["schema"]


def dataset(root: Path, **spec: object):  # type: ignore[no-untyped-def]
    docs = evalrepo.manifests()
    docs["environments/dev/datasets/qa.yaml"]["spec"].update(spec)
    for key in [k for k, v in spec.items() if v is None]:
        del docs["environments/dev/datasets/qa.yaml"]["spec"][key]
    evalrepo.write(root, docs)
    manifest = Repository(WorkingTree(root)).environment("dev").find("Dataset", "qa")
    assert manifest is not None
    return manifest


def messages(data) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{f.path}:{f.line} {f.rule} {f.message}" for f in data.findings]


def test_jsonl_records_become_cases(tmp_path: Path) -> None:
    data = load_dataset(tmp_path, dataset(tmp_path))
    assert not data.findings
    assert [c.id for c in data.cases] == ["q1", "q2", "q3", "q4"]
    assert [c.line for c in data.cases] == [1, 2, 3, 4] and data.cases[3].index == 3
    assert len(data.digest) == 64 and data.describe()["records"] == 4


def test_bad_jsonl_lines_are_reported_by_line(tmp_path: Path) -> None:
    manifest = dataset(tmp_path)
    (tmp_path / "data/qa.jsonl").write_text(
        '{"id": "a", "question": "ok?", "expected": "x"}\n'
        "\n"
        "{not json\n"
        '["a list"]\n'
        '{"id": "b", "question": "", "expected": "x"}\n'
        '{"id": "a", "question": "again", "expected": "x"}\n', encoding="utf-8")
    found = messages(load_dataset(tmp_path, manifest))
    assert found[0].startswith("data/qa.jsonl:3 eval/dataset-parse not a JSON line")
    assert found[1] == "data/qa.jsonl:4 eval/dataset-parse a record must be a JSON object, not list"
    assert found[2].startswith("data/qa.jsonl:5 eval/dataset-record question: '' should be non-empty")
    assert found[3] == "data/qa.jsonl:6 eval/dataset-duplicate-id id 'a' was already used on line 1"


def test_csv_cells_follow_the_declared_types(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["id", "question", "n"],
              "properties": {"id": {"type": "string"}, "question": {"type": "string"}, "n": {"type": "integer"},
                             "ok": {"type": "boolean"}, "tags": {"type": "array"}}}
    manifest = dataset(tmp_path, path="data/qa.csv", format="csv", schema=schema)
    (tmp_path / "data/qa.csv").write_text('id,question,n,ok,tags\nc1,"Hello, world",3,true,"[""a""]"\n'
                                          "c2,Second,x,false,[]\n", encoding="utf-8")
    data = load_dataset(tmp_path, manifest)
    assert messages(data) == ["data/qa.csv:3 eval/dataset-record n: 'x' is not of type 'integer'"]
    (tmp_path / "data/qa.csv").write_text('id,question,n,ok,tags\nc1,"Hello, world",3,true,"[""a""]"\n', encoding="utf-8")
    data = load_dataset(tmp_path, manifest)
    assert data.cases[0].record == {"id": "c1", "question": "Hello, world", "n": 3, "ok": True, "tags": ["a"]}


def test_csv_rows_of_the_wrong_width(tmp_path: Path) -> None:
    manifest = dataset(tmp_path, path="data/qa.csv", format="csv", schema=None)
    (tmp_path / "data/qa.csv").write_text("id,question\na,b,c\n", encoding="utf-8")
    assert messages(load_dataset(tmp_path, manifest)) == ["data/qa.csv:2 eval/dataset-parse row has 3 fields, the header 2"]


def test_sources_that_cannot_be_read(tmp_path: Path) -> None:
    found = messages(load_dataset(tmp_path, dataset(tmp_path, path="data/missing.jsonl")))
    assert "data/missing.jsonl: the file does not exist" in found[0]
    found = messages(load_dataset(tmp_path, dataset(tmp_path, path="../outside.jsonl")))
    assert "climbs out" in found[0]
    found = messages(load_dataset(tmp_path, dataset(tmp_path, format="parquet")))
    assert "evaluation reads jsonl or csv" in found[0]
    manifest = dataset(tmp_path)
    (tmp_path / "data/qa.jsonl").write_bytes(b'{"id": "x"}\n{"id": "\xff"}\n')
    found = messages(load_dataset(tmp_path, manifest))
    assert found == ["data/qa.jsonl:2 eval/dataset-parse the data is not UTF-8"]


def _dvc(root: Path, *args: str) -> None:
    subprocess.run(["dvc", *args], cwd=root, check=True, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("dvc") is None, reason="dvc is not installed")
def test_dvc_tracked_data_comes_through_a_local_remote(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    manifest = dataset(root, path=None, storage={"dvc": {"path": "data/qa.jsonl.dvc"}})
    _dvc(root, "init", "--no-scm", "-q")
    _dvc(root, "remote", "add", "-d", "local", str(tmp_path / "remote"))
    _dvc(root, "add", "-q", "data/qa.jsonl")
    _dvc(root, "push", "-q")
    # neither the workspace copy nor the DVC cache is left: the data must come from the remote
    (root / "data/qa.jsonl").unlink()
    shutil.rmtree(root / ".dvc" / "cache")
    data = load_dataset(root, manifest)
    assert not data.findings, messages(data)
    assert data.relpath == "data/qa.jsonl" and [c.id for c in data.cases] == ["q1", "q2", "q3", "q4"]
    # a workspace copy that differs from the pointer's md5 is refused
    (root / "data/qa.jsonl").write_text(json.dumps({"id": "z", "question": "changed", "expected": "x"}) + "\n")
    found = messages(load_dataset(root, manifest))
    assert found == ["data/qa.jsonl:0 eval/dataset-integrity data/qa.jsonl differs from the md5 recorded in "
                     "data/qa.jsonl.dvc"]
    (root / "data/qa.jsonl").unlink()
    shutil.rmtree(tmp_path / "remote")
    assert "DVC cannot open data/qa.jsonl" in messages(load_dataset(root, manifest))[0]


def test_dvc_pointer_problems(tmp_path: Path) -> None:
    manifest = dataset(tmp_path, path=None, storage={"dvc": {"path": "data/qa.jsonl.dvc"}})
    assert "the DVC pointer file does not exist" in messages(load_dataset(tmp_path, manifest))[0]
    (tmp_path / "data/qa.jsonl.dvc").write_text("outs: nothing\n")
    assert "is not a DVC pointer" in messages(load_dataset(tmp_path, manifest))[0]
    (tmp_path / "data/qa.jsonl.dvc").write_text("outs:\n- path: ../../etc/passwd\n")
    assert "outside the repository" in messages(load_dataset(tmp_path, manifest))[0] or \
        "climbs" in messages(load_dataset(tmp_path, manifest))[0]
