"""The bundled example's retrieval: its golden set is consistent with its corpus, and its retrieval suite
runs end to end on the embedded model, beside the RagConfig that serves in prod."""

from __future__ import annotations

import json

import pytest

from conftest import REPO_ROOT, assert_no_traceback, run_cli
from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree


def example_environments():
    repo = Repository(WorkingTree(REPO_ROOT))
    return [(name, repo.environment(name)) for name in repo.environment_names()]


def records(relpath: str) -> list[dict]:
    lines = (REPO_ROOT / relpath).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize(("env", "state"), example_environments(), ids=lambda v: v if isinstance(v, str) else "")
def test_golden_relevant_ids_exist_in_the_corpus(env, state):
    for suite in state.of_kind("EvalSuite"):
        targets = suite.spec.get("targets") or []
        if not any(t.get("kind") == "RagConfig" for t in targets) or any(t.get("kind") == "Prompt" for t in targets):
            continue
        rag = state.find("RagConfig", next(t["name"] for t in targets if t["kind"] == "RagConfig"))
        golden = state.find("Dataset", suite.spec["dataset"]["name"])
        assert rag is not None and golden is not None
        corpus_ids: set[str] = set()
        for source in rag.spec["sources"]:
            corpus = state.find("Dataset", source["name"])
            id_field = rag.spec.get("parsing", {}).get("idField", "id")
            corpus_ids |= {str(r[id_field]) for r in records(corpus.spec["path"])}
        queries = records(golden.spec["path"])
        assert len({q["id"] for q in queries}) == len(queries)
        for query in queries:
            assert query["query"].strip()
            missing = [i for i in query["relevant_ids"] if i not in corpus_ids]
            assert not missing, f"{env}: {query['id']} names articles the corpus lacks: {missing}"


@pytest.mark.slow
def test_example_retrieval_suite_against_prod(example_repo, tmp_path):
    result = run_cli("rag", "eval", "docs-retrieval", "--env", "dev", "--baseline-env", "prod", "--format", "json",
                     "--report", str(tmp_path / "out"), cwd=example_repo)
    assert_no_traceback(result)
    out = json.loads(result.stdout)
    metrics = {m["name"]: m for m in out["metrics"]}
    assert metrics["recall-at-4"]["value"] >= 0.85
    assert metrics["recall-at-4"]["baseline"] is not None and "lexicalBaseline" in metrics["mrr"]["extras"]
    assert {g["name"] for g in out["gates"]} >= {"pass-rate", "coverage", "regression:recall-at-4"}
    assert result.returncode == (0 if out["passed"] else 1)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["baselineRun"]["source"] == "environment prod"
    assert len(report["cases"]) == 64 and all(c["extra"]["ranking"] is not None for c in report["cases"])
