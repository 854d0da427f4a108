"""`llmgitops rag` on real repositories: compat, plan, reindex (FAISS), rollback, deep check, baseline eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import assert_no_traceback, commit_all, init_git, run_cli
from rag_fixtures import ragconfig_spec, write_repo


def write_ragconfig(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "llmgitops.dev/v1alpha1", "kind": "RagConfig",
                                    "metadata": {"name": "kb"}, "spec": spec}), encoding="utf-8")
    return path


def test_compat_says_what_a_change_forces(tmp_path):
    old = write_ragconfig(tmp_path / "old.yaml", ragconfig_spec())
    new = write_ragconfig(tmp_path / "new.yaml", ragconfig_spec(chunking={"unit": "recursive", "size": 300}))
    result = run_cli("rag", "compat", str(old), str(new), cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 0
    assert result.stdout.startswith("reembed (at least a major version bump)")
    assert "rag/chunking-changed" in result.stdout and "re-embed into a new collection" in result.stdout
    query = write_ragconfig(tmp_path / "q.yaml", ragconfig_spec(retrieval={"topK": 9}))
    data = json.loads(run_cli("rag", "compat", str(old), str(query), "--format", "json", cwd=tmp_path).stdout)
    assert data["action"] == "query-only" and data["reasons"][0]["rule"] == "rag/top-k-changed"


@pytest.mark.parametrize("content", ["kind: Prompt\nmetadata: {name: p}\n", "a: [unclosed\n",
                                     "!!python/object:os.system x\n"])
def test_compat_refuses_what_is_not_a_ragconfig(tmp_path, content):
    old = write_ragconfig(tmp_path / "old.yaml", ragconfig_spec())
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    result = run_cli("rag", "compat", str(old), str(bad), cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 2 and "bad.yaml" in result.stderr


def test_reindex_unknown_environment_or_config_is_one_line(tmp_path):
    root = write_repo(tmp_path / "repo")
    for args in (["rag", "reindex", "nope", "kb"], ["rag", "reindex", "dev", "nope"], ["rag", "plan", "dev", "nope"]):
        result = run_cli(*args, "--store", str(tmp_path / "s"), cwd=root)
        assert_no_traceback(result)
        assert result.returncode == 1 and "no " in result.stderr.lower(), result.stderr


def test_validate_reports_a_collection_without_its_major(tmp_path):
    root = write_repo(tmp_path / "repo", rag_spec=ragconfig_spec(version="2.0.0"))
    result = run_cli("validate", cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert "environments/dev/rag/kb.yaml:" in result.stdout and "rag/collection-version" in result.stdout


@pytest.mark.slow
def test_reindex_blue_green_on_faiss_then_rollback(tmp_path):
    root = write_repo(tmp_path / "repo")
    store = tmp_path / "store"
    plan = run_cli("rag", "plan", "dev", "kb", "--store", str(store), cwd=root)
    assert_no_traceback(plan)
    assert plan.returncode == 0 and "reembed" in plan.stdout and "switch-alias" in plan.stdout

    first = run_cli("rag", "reindex", "dev", "kb", "--store", str(store), "--format", "json", cwd=root)
    assert_no_traceback(first)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert (out["aliasTarget"], out["count"], out["cache"]["misses"]) == ("kb-v1", 4, 4)
    assert json.loads((store / "aliases" / "kb.json").read_text()) == {"collection": "kb-v1"}

    # an HNSW change rebuilds beside the old collection from cached vectors: nothing is embedded again
    write_repo(root, rag_spec=ragconfig_spec(version="1.1.0", index__kind="hnsw", index__hnsw={"m": 8}))
    second = run_cli("rag", "reindex", "dev", "kb", "--store", str(store), "--format", "json", cwd=root)
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    assert out["plan"]["action"] == "rebuild" and out["aliasTarget"] == "kb-v1--1-1-0"
    assert out["cache"] == {"hits": 4, "misses": 0}
    assert sorted(p.name for p in (store / "collections").iterdir()) == ["kb-v1", "kb-v1--1-1-0"]

    # a query-time change builds nothing
    write_repo(root, rag_spec=ragconfig_spec(version="1.1.1", index__kind="hnsw", index__hnsw={"m": 8},
                                             retrieval={"topK": 3}))
    third = run_cli("rag", "reindex", "dev", "kb", "--store", str(store), cwd=root)
    assert third.returncode == 0 and "query-only" in third.stdout and "keeps serving" in third.stdout

    back = run_cli("rag", "rollback", "kb", "kb-v1", "--store", str(store), cwd=root)
    assert back.returncode == 0 and "kb -> kb-v1 (was kb-v1--1-1-0)" in back.stdout
    gone = run_cli("rag", "rollback", "kb", "kb-v0", "--store", str(store), cwd=root)
    assert_no_traceback(gone)
    assert gone.returncode == 1 and "no longer exists" in gone.stderr


@pytest.mark.slow
def test_rag_check_loads_the_model(tmp_path):
    root = write_repo(tmp_path / "repo", rag_spec=ragconfig_spec(embedding__dimensions=512))
    result = run_cli("rag", "check", "--format", "json", cwd=root)
    assert_no_traceback(result)
    assert result.returncode == 1
    assert {f["rule"] for f in json.loads(result.stdout)["findings"]} == {"rag/dimension-mismatch"}
    unknown = run_cli("rag", "check", "nowhere", cwd=root)
    assert unknown.returncode == 2 and "no environment nowhere" in unknown.stderr


@pytest.mark.slow
def test_rag_eval_against_the_config_at_a_git_revision(tmp_path):
    root = init_git(tmp_path / "repo")
    write_repo(root)
    commit_all(root, "kb 1.0.0")
    # the candidate drops to one chunk per query: recall@2 and precision fall against the baseline
    write_repo(root, rag_spec=ragconfig_spec(version="1.0.1", retrieval={"topK": 1}))
    result = run_cli("rag", "eval", "kb-retrieval", "--env", "dev", "--baseline-ref", "HEAD", "--format", "json",
                     "--report", str(tmp_path / "out"), cwd=root)
    assert_no_traceback(result)
    out = json.loads(result.stdout)
    assert out["baseline"]["source"].startswith("HEAD (")
    metrics = {m["name"]: m for m in out["metrics"]}
    assert metrics["precision-at-2"]["baseline"] == 0.5 and metrics["precision-at-2"]["value"] == 0.5
    gates = {g["name"]: g for g in out["gates"]}
    assert gates["regression:recall-at-2"]["paired"] is True
    assert result.returncode == (0 if out["passed"] else 1)
    missing = run_cli("rag", "eval", "kb-retrieval", "--env", "dev", "--baseline-ref", "no-such-ref", cwd=root)
    assert_no_traceback(missing)
    assert missing.returncode == 2 and "no-such-ref" in missing.stderr
