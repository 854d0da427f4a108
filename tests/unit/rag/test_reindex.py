"""Re-index plans and their execution on the real FAISS and Qdrant adapters (vectors made here)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from llmgitops.rag.reindex import ReindexError, execute, plan_reindex, rollback
from llmgitops.rag.spec import RagSpec
from llmgitops.rag.stores.base import CollectionSpec, Record, open_store

pytest.importorskip("faiss")
pytest.importorskip("qdrant_client")

SPEC = {
    "version": "1.0.0",
    "sources": [{"name": "docs", "version": "^1.0.0"}],
    "chunking": {"unit": "characters", "size": 200},
    "embedding": {"model": {"id": "m/x"}, "dimensions": 8},
    "index": {"store": "faiss", "collection": "kb-v1", "kind": "hnsw", "hnsw": {"m": 16}},
    "retrieval": {"topK": 3},
}


def rag(**changes: object) -> RagSpec:
    spec = copy.deepcopy(SPEC)
    for dotted, value in changes.items():
        node = spec
        *head, last = dotted.split("__")
        for key in head:
            node = node[key]
        node[last] = value
    return RagSpec.from_spec("kb", spec)


def inputs(n: int = 40, seed: int = 0, identical: bool = False):
    calls = []

    def make():
        calls.append(1)
        rng = np.random.default_rng(seed)
        vectors = np.ones((n, 8), np.float32) if identical else rng.normal(size=(n, 8)).astype(np.float32)
        return [Record(f"d{i}#0", f"d{i}", f"text {i}") for i in range(n)], vectors

    make.calls = calls  # type: ignore[attr-defined]
    return make


def test_first_build_plans_every_step():
    plan = plan_reindex(None, rag())
    assert (plan.action, plan.serving, plan.target, plan.alias) == ("reembed", None, "kb-v1", "kb")
    assert [s.name for s in plan.steps] == ["build", "verify-count", "verify-queries", "switch-alias"]
    assert plan.reasons[0].rule == "rag/initial-build"


def test_reembed_into_the_next_major_keeps_the_old_one():
    old = rag()
    new = rag(version="2.0.0", embedding__dimensions=16, index__collection="kb-v2")
    plan = plan_reindex(old.raw, new, serving="kb-v1", existing=["kb-v1"])
    assert (plan.action, plan.target) == ("reembed", "kb-v2")
    assert [s.name for s in plan.steps][-2:] == ["switch-alias", "retain"]
    assert "keep kb-v1" in plan.steps[-1].detail
    assert "rag/embedding-dimensions-changed" in {r.rule for r in plan.reasons}


def test_rebuild_within_a_major_gets_a_versioned_name():
    plan = plan_reindex(rag().raw, rag(version="1.1.0", index__hnsw={"m": 8}), serving="kb-v1", existing=["kb-v1"])
    assert (plan.action, plan.target) == ("rebuild", "kb-v1--1-1-0")
    assert "reuse stored vectors" in plan.steps[0].detail


def test_leftover_of_a_failed_run_is_cleared_first():
    plan = plan_reindex(rag().raw, rag(version="1.1.0", index__hnsw={"m": 8}), serving="kb-v1",
                        existing=["kb-v1", "kb-v1--1-1-0"])
    assert plan.steps[0].name == "clear" and plan.target == "kb-v1--1-1-0"


@pytest.mark.parametrize(("change", "action"), [({"retrieval__topK": 9}, "query-only"),
                                                 ({"description": "x"}, "none")])
def test_query_time_changes_build_nothing(change, action):
    plan = plan_reindex(rag().raw, rag(version="1.0.1", **change), serving="kb-v1", existing=["kb-v1"])
    assert (plan.action, plan.target, plan.builds) == (action, None, False)
    assert [s.name for s in plan.steps] == ["keep"]


def test_serving_collection_of_unknown_origin_is_rebuilt_and_retained():
    plan = plan_reindex(None, rag(), serving="legacy", existing=["legacy"])
    assert plan.action == "reembed" and plan.target == "kb-v1" and plan.steps[-1].name == "retain"


@pytest.fixture(params=["faiss", "qdrant"])
def store(request, tmp_path):
    opened = open_store(request.param, str(tmp_path / request.param))
    yield opened
    opened.close()


def spec_for(plan, new: RagSpec) -> CollectionSpec:
    return CollectionSpec.from_index(new.index, new.embedding.dimensions)


def test_execute_builds_verifies_switches_and_rolls_back(store):
    first = rag()
    plan = plan_reindex(None, first)
    result = execute(plan, store, inputs(), {"ragconfig": {"spec": first.raw}}, 8, spec_for(plan, first))
    assert result.ok and result.alias_target == "kb-v1" and result.count == 40
    assert result.checks["selfRecall"] == 1.0 and result.checks["count"] == 40
    assert store.describe("kb-v1").kind == "hnsw"

    second = rag(version="1.1.0", index__hnsw={"m": 8})
    plan2 = plan_reindex(first.raw, second, serving="kb-v1", existing=store.collections())
    make = inputs(seed=1)
    result2 = execute(plan2, store, make, {}, 8, spec_for(plan2, second))
    assert result2.ok and store.alias("kb") == "kb-v1--1-1-0" and len(make.calls) == 1
    assert sorted(store.collections()) == ["kb-v1", "kb-v1--1-1-0"]  # the old one is kept

    rollback(store, "kb", "kb-v1")
    assert store.alias("kb") == "kb-v1"
    with pytest.raises(ReindexError, match="no longer exists"):
        rollback(store, "kb", "kb-v0")


def test_nothing_to_build_never_calls_inputs(store):
    make = inputs()
    plan = plan_reindex(rag().raw, rag(version="1.0.1", retrieval__topK=5), serving="kb-v1", existing=[])
    result = execute(plan, store, make)
    assert result.ok and make.calls == [] and "keeps serving" in result.message


def test_failed_verification_deletes_the_new_collection_and_keeps_the_alias(store):
    first = rag()
    plan = plan_reindex(None, first)
    assert execute(plan, store, inputs(), {}, 8, spec_for(plan, first)).ok
    bad = rag(version="2.0.0", index__collection="kb-v2")
    plan2 = plan_reindex(first.raw, bad, serving="kb-v1", existing=store.collections())
    # identical vectors: no sample can find itself among the top 10 of 40 equal neighbours
    result = execute(plan2, store, inputs(identical=True), {}, 8, spec_for(plan2, bad))
    assert not result.ok and "verification failed" in result.message
    assert store.alias("kb") == "kb-v1" and store.collections() == ["kb-v1"]


def test_refuses_to_replace_the_serving_collection(store):
    first = rag()
    plan = plan_reindex(None, first)
    execute(plan, store, inputs(), {}, 8, spec_for(plan, first))
    with pytest.raises(ReindexError, match="refusing"):
        execute(plan, store, inputs(), {}, 8, spec_for(plan, first))
