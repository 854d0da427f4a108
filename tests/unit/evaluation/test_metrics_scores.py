"""ROUGE, BLEU, embedding similarity, groundedness, counterfactual bias and the LLM judge, against values
computed by hand in the comments."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

import pytest
from evalhelpers import FixedVectors, MetricHost, make_metric, score

from llmgitops.evaluation.cases import Case, Output
from llmgitops.evaluation.metrics import MetricConfigError, Services
from llmgitops.evaluation.metrics.bias import BiasCounterfactual
from llmgitops.evaluation.metrics.overlap import bleu, lcs_length, rouge_l, rouge_n, tokenize

CAND = "The cat sat on the mat."
REF = "the cat is on the mat"


def test_tokenize_folds_case_and_drops_punctuation() -> None:
    assert tokenize("Don't STOP, café!") == ["don", "t", "stop", "café"]


def test_rouge_1() -> None:
    # unigram overlap the(2) cat on mat = 5 of 6 on both sides: P = R = F = 5/6
    assert rouge_n(tokenize(CAND), tokenize(REF), 1) == pytest.approx((5 / 6, 5 / 6, 5 / 6))


def test_rouge_2() -> None:
    # bigrams in common: "the cat", "on the", "the mat" = 3 of 5 on both sides
    assert rouge_n(tokenize(CAND), tokenize(REF), 2) == pytest.approx((0.6, 0.6, 0.6))


def test_rouge_l() -> None:
    # LCS: the cat on the mat = 5 tokens
    assert rouge_l(tokenize(CAND), tokenize(REF)) == pytest.approx((5 / 6, 5 / 6, 5 / 6))
    # P = 2/2, R = 2/4, F = 2 * 1 * 0.5 / 1.5 = 2/3
    assert rouge_l(["a", "b"], ["a", "x", "b", "y"]) == pytest.approx((1.0, 0.5, 2 / 3))


def _lcs_table(a: Sequence[str], b: Sequence[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def test_bit_parallel_lcs_matches_the_textbook_table() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = [rng.choice("abcd") for _ in range(rng.randint(0, 30))]
        b = [rng.choice("abcd") for _ in range(rng.randint(0, 30))]
        assert lcs_length(a, b) == _lcs_table(a, b), (a, b)


def test_bleu_by_hand() -> None:
    # c = r = 6: no brevity penalty. p1 = 5/6; p2 = (3+1)/(5+1); p3 = (1+1)/(4+1) ("on the mat");
    # p4 = (0+1)/(3+1). Product = 5/6 * 2/3 * 2/5 * 1/4 = 1/18, BLEU = (1/18) ** (1/4)
    value, parts = bleu(tokenize(CAND), [tokenize(REF)])
    assert value == pytest.approx((1 / 18) ** 0.25)
    assert parts["brevity_penalty"] == 1.0
    assert bleu(tokenize(CAND), [tokenize(REF)], smoothing="none")[0] == 0.0  # no 4-gram in common


def test_bleu_brevity_penalty_and_multiple_references() -> None:
    # c = 2, r = 6: BP = exp(1 - 6/2) = e^-2; with max n = 2 both precisions are 1
    value, _ = bleu(["the", "cat"], [tokenize(REF)], max_n=2)
    assert value == pytest.approx(math.exp(-2))
    # "the the": clipped against the reference that has "the" twice -> p1 = 2/2
    value, parts = bleu(["the", "the"], [["the", "a"], ["the", "b", "the"]], max_n=1)
    assert parts["precisions"] == [1.0]
    # closest reference length to 2 is 2 (not 3): no penalty
    assert value == pytest.approx(1.0)
    assert bleu([], [["a"]])[0] == 0.0


def test_overlap_metrics_end_to_end() -> None:
    record = {"expected": REF}
    assert score(make_metric("rouge-1"), CAND, record).value == pytest.approx(5 / 6)
    assert score(make_metric("rouge-2"), CAND, record).value == pytest.approx(0.6)
    assert score(make_metric("rouge-l", params={"measure": "recall"}), "the cat", record).value == pytest.approx(2 / 6)
    assert score(make_metric("bleu"), CAND, record).value == pytest.approx((1 / 18) ** 0.25)
    best = score(make_metric("rouge-1"), "a b", {"expected": ["x y", "a b"]})
    assert best.value == 1.0
    assert score(make_metric("rouge-1"), "x", {"expected": "..."}).value is None  # a reference without words
    assert score(make_metric("bleu"), "x", {}).value is None
    with pytest.raises(MetricConfigError):
        make_metric("rouge-l", params={"measure": "f2"})
    with pytest.raises(MetricConfigError):
        make_metric("bleu", params={"maxN": 0})


def test_embedding_similarity_cosine() -> None:
    vectors = FixedVectors({"answer": [1.0, 0.0], "ref": [0.6, 0.8], "other": [1.0, 0.0]})
    metric = make_metric("embedding-similarity")
    assert score(metric, "answer", {"expected": "ref"}, services=vectors).value == pytest.approx(0.6)
    assert score(metric, "answer", {"expected": ["ref", "other"]}, services=vectors).value == pytest.approx(1.0)
    no_provider = score(metric, "answer", {"expected": "ref"}, services=Services())
    assert no_provider.value is None and "no embedding provider" in (no_provider.reason or "")


CONTEXT = "The Personal plan costs $80 per year. It protects one computer."


def test_groundedness_lexical() -> None:
    metric = make_metric("groundedness")
    answer = "The Personal plan costs $80 per year. It includes free pizza every Friday. Thanks!"
    result = score(metric, answer, {"context": CONTEXT})
    # two checkable sentences ("Thanks!" has one content word), the second unsupported
    assert result.value == 0.5
    assert result.detail["unsupported"] == ["It includes free pizza every Friday."]
    assert result.detail["method"] == "lexical"
    retrieved = Output(answer, context=[{"id": "plans", "text": CONTEXT}])
    assert score(metric, retrieved, {}).value == 0.5
    assert score(metric, "Yes.", {"context": CONTEXT}).applicable is False
    missing = score(metric, answer, {})
    assert missing.value is None and missing.applicable


def test_groundedness_with_embeddings_rescues_paraphrases() -> None:
    sentence = "Each year you pay eighty dollars."
    vectors = FixedVectors({sentence: [1.0, 0.0], "The Personal plan costs $80 per year.": [0.9, 0.1],
                            "It protects one computer.": [0.0, 1.0]})
    metric = make_metric("groundedness", params={"embeddings": True})
    result = score(metric, sentence, {"context": CONTEXT}, services=vectors)
    assert result.value == 1.0 and result.detail["method"] == "lexical+embedding"
    failing = score(metric, sentence, {"context": CONTEXT}, services=Services())
    assert failing.value is None  # embeddings were asked for and are not available: unmeasured


GROUPS = {"groups": {"male": ["he", "him", "his"], "female": ["she", "her", "her"]}}


def test_bias_variants_swap_terms_keeping_case() -> None:
    metric = make_metric("bias-counterfactual", params=GROUPS, name="bias")
    assert isinstance(metric, BiasCounterfactual)
    record = {"id": "r1", "question": "Should he get the loan? His income is high.", "n": 3}
    variants = metric.variants(Case(0, "r1", record, 1))
    assert variants == {"bias:female": {"id": "r1", "question": "Should she get the loan? Her income is high.", "n": 3}}
    assert metric.variants(Case(1, "r2", {"question": "What is the rate?"}, 2)) == {}


def test_bias_output_similarity_gap() -> None:
    metric = make_metric("bias-counterfactual", params=GROUPS, name="bias")
    record = {"question": "Should he get the loan? His income is high."}
    original = Output("ECHO: Should he get the loan? His income is high.")
    variant = Output("ECHO: Should she get the loan? Her income is high.")
    result = score(metric, original, record, variants={"bias:female": variant})
    # 10 tokens each, LCS 8 -> ROUGE-L F1 0.8: gap 0.2, value 0.8
    assert result.value == pytest.approx(0.8)
    assert result.detail["groups"] == {"female": 0.8, "male": 1.0} and result.detail["gap"] == pytest.approx(0.2)
    summary = BiasCounterfactual.summary({"params": GROUPS}, [0.8], [result.detail])
    assert summary["groups"]["female"] == {"mean": 0.8, "gap": 0.2, "records": 1}
    failed = score(metric, original, record, variants={"bias:female": Output(None, error="HTTP 500")})
    assert failed.value is None and "HTTP 500" in (failed.reason or "")
    assert score(metric, "x", {"question": "no terms"}).applicable is False


def test_bias_compares_another_metric() -> None:
    bias = make_metric("bias-counterfactual", params={**GROUPS, "compare": "approve"}, name="bias")
    approve = make_metric("contains-any", params={"values": ["approved"]}, name="approve")
    bias.bind({"bias": bias, "approve": approve})
    record = {"question": "Should he get the loan?"}
    result = score(bias, "approved", record, variants={"bias:female": Output("denied")})
    assert result.value == 0.0 and result.detail["groups"] == {"female": 0.0, "male": 1.0}
    with pytest.raises(MetricConfigError, match="another metric"):
        bias.bind({"bias": bias})


def test_bias_declaration_errors() -> None:
    with pytest.raises(MetricConfigError, match="at least two"):
        make_metric("bias-counterfactual", params={"groups": {"only": ["x"]}})
    with pytest.raises(MetricConfigError, match="same number"):
        make_metric("bias-counterfactual", params={"groups": {"a": ["x", "y"], "b": ["z"]}})


class Judge(Services):
    """Answers judge calls with a fixed text: the metric's parsing and scaling under test (the HTTP path of
    judge calls is covered in test_runner with the loopback server)."""

    def __init__(self, text: str | None, error: str | None = None) -> None:
        self.text, self.error, self.calls = text, error, []  # type: ignore[var-annotated]

    async def complete(self, messages: Sequence[dict[str, str]], params: dict[str, Any], model: str,
                       provider: str | None = None) -> Output:
        self.calls.append((messages, model))
        return Output(self.text, self.error)


class FakeEnv:
    """The environment lookup the judge metric does (find a Model by name)."""

    name = "dev"

    def __init__(self, version: str) -> None:
        self.version = version

    def find(self, kind: str, name: str) -> Any:
        return type("M", (), {"version": self.version, "name": name})() if name == "judge" else None


def judge_metric(**params: Any) -> Any:
    base = {"rubric": "Is it polite?", "judge": {"name": "judge", "version": "1.2.0"}}
    return make_metric("llm-judge", params={**base, **params}, host=MetricHost(env=FakeEnv("1.2.0")))


def test_llm_judge_scales_scores_and_never_turns_failures_into_zero() -> None:
    metric = judge_metric()
    service = Judge('{"score": 4, "reason": "polite"}')
    result = score(metric, "Thank you!", {"q": "hi"}, services=service)
    assert result.value == pytest.approx(0.75) and result.detail == {"reason": "polite"}  # (4-1)/(5-1)
    messages, model = service.calls[0]
    assert model == "judge" and "Thank you!" in messages[1]["content"]
    assert score(metric, "x", services=Judge("Score: 5")).value == 1.0
    garbage = score(metric, "x", services=Judge("I think it is fine"))
    assert garbage.value is None and "no score" in (garbage.reason or "")
    assert score(metric, "x", services=Judge('{"score": 9}')).value is None  # out of range
    assert score(metric, "x", services=Judge(None, "HTTP 503")).value is None


def test_llm_judge_must_be_pinned_and_present() -> None:
    with pytest.raises(MetricConfigError, match="exact"):
        judge_metric(judge={"name": "judge", "version": "^1.2.0"})
    with pytest.raises(MetricConfigError, match="not in environment"):
        make_metric("llm-judge", params={"rubric": "r", "judge": {"name": "judge", "version": "1.2.0"}},
                    host=MetricHost(env=FakeEnv("1.3.0")))
    with pytest.raises(MetricConfigError, match="rubric"):
        judge_metric(rubric=" ")
