"""The run memo: an unchanged re-run is read back whole, and gives exactly what re-scoring from the
response cache gives; anything a result depends on changes the key; runs it cannot replay exactly are
never remembered. A real loopback server and real files throughout."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import evalrepo
from llmgitops.evaluation import memo, metrics, run_suite
from llmgitops.evaluation.metrics import Metric, Sample, Score
from llmgitops.evaluation.report.json import dumps
from llmgitops.evaluation.runner import RunOptions
from openai_loopback import LoopbackOpenAI

ENV = "environments/dev/environment.yaml"
PROMPT = "environments/dev/prompts/echo.yaml"
SUITE = "environments/dev/evals/qa-suite.yaml"
CACHE = ".llmgitops/cache/responses.sqlite"


def make_repo(tmp_path: Path, server: LoopbackOpenAI, change: Any = None, extra: dict[str, str] | None = None) -> Path:
    docs = evalrepo.manifests(server.url)
    docs[ENV]["spec"]["providers"]["loopback"].update(maxRetries=0, concurrency=1)
    if change is not None:
        change(docs)
    return evalrepo.write(tmp_path / "repo", docs, extra=extra)


def memo_of(result: Any) -> Any:
    return result.document["run"]["cache"]["memo"]


def forget_memo(root: Path) -> None:
    with sqlite3.connect(root / CACHE) as db:
        db.execute("DELETE FROM runs")


def test_a_memo_hit_equals_rescoring_from_the_response_cache(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = make_repo(tmp_path, loopback)
    first = run_suite(root, None, "qa-suite")
    assert memo_of(first) == "stored" and len(loopback.requests) == 4
    hit = run_suite(root, None, "qa-suite")
    assert hit.document["run"]["cache"] == {"hits": 4, "misses": 0, "memo": "hit"}
    forget_memo(root)
    rescored = run_suite(root, None, "qa-suite")
    assert rescored.document["run"]["cache"] == {"hits": 4, "misses": 0, "memo": "stored"}
    assert len(loopback.requests) == 4
    assert dumps(first.document, timing=False) == dumps(hit.document, timing=False)
    assert dumps(rescored.document, timing=False) == dumps(hit.document, timing=False)


def test_every_input_of_a_result_is_in_the_key(
    tmp_path: Path, loopback: LoopbackOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_lexicon(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"].append(
            {"name": "toxic", "type": "toxicity-lexicon", "params": {"lexicon": "data/lexicon.txt"}}
        )

    root = make_repo(tmp_path, loopback, with_lexicon, extra={"data/lexicon.txt": "stupid\n"})
    assert memo_of(run_suite(root, None, "qa-suite")) == "stored"
    assert memo_of(run_suite(root, None, "qa-suite")) == "hit"

    def rerun() -> Any:
        result = run_suite(root, None, "qa-suite")
        assert memo_of(result) == "stored", "a changed input must not be answered by the memo"
        assert memo_of(run_suite(root, None, "qa-suite")) == "hit"
        return result

    (root / "data/lexicon.txt").write_text("sky\n")  # a file a metric reads
    assert rerun().metrics["toxic"] == 0.25
    data = root / "data/qa.jsonl"
    data.write_text(data.read_text().replace("Which planet is red?", "Which planet is Mars?"))
    assert rerun().metrics["mentions"] == 1.0
    prompt = root / PROMPT  # a manifest of the environment
    prompt.write_text(prompt.read_text().replace("Answer briefly.", "Answer in one word."))
    assert rerun().document["cases"][0]["output"].startswith("ECHO:")
    model = root / "environments/dev/models/echo-model.yaml"  # pricing decides cost
    model.write_text(model.read_text().replace("outputPer1kTokens: 1.5", "outputPer1kTokens: 3.0"))
    assert rerun().document["cases"][0]["cost"] == pytest.approx(5 / 1000 * 0.5 + 6 / 1000 * 3.0)
    shard = run_suite(root, None, "qa-suite", shard=(1, 2))
    assert memo_of(shard) == "stored" and len(shard.document["cases"]) == 2
    assert memo_of(run_suite(root, None, "qa-suite")) == "hit"  # shards keep their own entries
    monkeypatch.setattr(memo, "code_fingerprint", lambda: "an edited checkout")
    assert memo_of(run_suite(root, None, "qa-suite")) == "stored"


def test_runs_that_cannot_be_replayed_exactly_are_not_remembered(tmp_path: Path, loopback: LoopbackOpenAI) -> None:
    root = make_repo(tmp_path, loopback)
    loopback.fail_next(1, 500)
    failed = run_suite(root, None, "qa-suite")
    assert failed.document["summary"]["errors"] == 1
    assert memo_of(failed) == "not stored: a record was not answered or not measured"
    retried = run_suite(root, None, "qa-suite")
    assert len(loopback.requests) == 5 and retried.document["summary"]["errors"] == 0  # the failure is retried
    assert memo_of(retried) == "stored"
    recording = run_suite(root, None, "qa-suite", options=RunOptions(record=tmp_path / "rec.jsonl"))
    assert memo_of(recording) == "recording" and (tmp_path / "rec.jsonl").read_text().count("\n") == 4
    uncached = run_suite(root, None, "qa-suite", options=RunOptions(use_cache=False))
    assert uncached.document["run"]["cache"] is None and len(loopback.requests) == 9


def test_plugins_and_replayed_answers_keep_the_memo_off(
    tmp_path: Path, loopback: LoopbackOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    class ReadsAnything(Metric):
        async def score(self, sample: Sample) -> Score:
            return Score.boolean(True)

    monkeypatch.setitem(metrics._METRICS, "reads-anything", ReadsAnything)
    ReadsAnything.type = "reads-anything"

    def with_plugin(docs: dict[str, Any]) -> None:
        docs[SUITE]["spec"]["metrics"].append({"name": "outside", "type": "reads-anything"})

    root = make_repo(tmp_path, loopback, with_plugin)
    for _ in range(2):
        assert memo_of(run_suite(root, None, "qa-suite")) == "metric outside is a plug-in"
    record = tmp_path / "recordings.jsonl"
    plain = make_repo(tmp_path / "b", loopback)
    run_suite(plain, None, "qa-suite", options=RunOptions(record=record))
    replayed = run_suite(plain, None, "qa-suite", provider=f"replay:{record}")
    assert replayed.document["run"]["cache"]["memo"] == "answers are replayed from recordings"
