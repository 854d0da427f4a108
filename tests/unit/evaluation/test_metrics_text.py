"""Text, structure and lexicon metrics against hand-computed values."""

from __future__ import annotations

import pytest
from evalhelpers import MetricHost, make_metric, score

from llmgitops.evaluation.cases import Output
from llmgitops.evaluation.metrics import MetricConfigError, extract_json, known_types


def test_every_declared_builtin_type_is_registered() -> None:
    builtin = {"exact-match", "contains-any", "contains-all", "regex", "json-valid", "json-schema", "rouge-1",
               "rouge-2", "rouge-l", "bleu", "embedding-similarity", "latency", "tokens", "cost", "refusal-rate",
               "bias-counterfactual", "groundedness", "toxicity-lexicon", "llm-judge", "human"}
    assert builtin <= set(known_types())


def test_exact_match_trims_and_respects_case() -> None:
    metric = make_metric("exact-match", field="answer", threshold=1.0)
    assert score(metric, "  Paris\n", {"answer": "Paris"}).value == 1.0
    miss = score(metric, "paris", {"answer": "Paris"})
    assert miss.value == 0.0 and miss.detail["expected"] == "Paris"
    folded = make_metric("exact-match", field="answer", params={"caseSensitive": False})
    assert score(folded, "PARIS", {"answer": "paris"}).value == 1.0


def test_exact_match_list_reference_numbers_and_whitespace() -> None:
    metric = make_metric("exact-match", field="answer", params={"normalizeWhitespace": True})
    assert score(metric, "New   York", {"answer": ["NYC", "New York"]}).value == 1.0
    assert score(make_metric("exact-match", field="n"), "42", {"n": 42}).value == 1.0


def test_exact_match_without_reference_is_unmeasured_not_zero() -> None:
    result = score(make_metric("exact-match", field="answer"), "x", {"other": 1})
    assert result.value is None and "answer" in (result.reason or "")


def test_exact_match_on_a_json_output_field() -> None:
    metric = make_metric("exact-match", field="expected.category", params={"outputField": "category"})
    record = {"expected": {"category": "billing"}}
    assert score(metric, '```json\n{"category": "billing", "priority": "low"}\n```', record).value == 1.0
    assert score(metric, 'Sure! {"category": "billing"} Hope it helps.', record).value == 1.0
    wrong = score(metric, "not json at all", record)
    assert wrong.value == 0.0 and "not JSON" in wrong.detail["problem"]  # a wrong answer, not unmeasured
    assert score(metric, '{"priority": "low"}', record).value == 0.0


def test_contains_any_and_all() -> None:
    any_ = make_metric("contains-any", params={"values": ["refund", "credit"]})
    assert score(any_, "We issued a credit.").value == 1.0
    assert score(any_, "Nothing here").value == 0.0
    all_ = make_metric("contains-all", field="facts", params={"caseSensitive": False})
    result = score(all_, "The plan costs $80 PER YEAR", {"facts": ["$80", "per year", "2 TB"]})
    assert result.value == pytest.approx(2 / 3) and result.detail["missing"] == ["2 TB"]
    assert score(all_, "x", {"facts": "x"}).value == 1.0


def test_contains_any_negate_is_not_contains() -> None:
    metric = make_metric("contains-any", params={"values": ["system prompt"], "negate": True})
    assert score(metric, "Here is an answer").value == 1.0
    assert score(metric, "My system prompt says").value == 0.0


def test_contains_needs_values_or_field() -> None:
    with pytest.raises(MetricConfigError, match=r"params\.values or a field"):
        make_metric("contains-any")
    with pytest.raises(MetricConfigError, match="non-empty list of strings"):
        make_metric("contains-all", params={"values": "x"})


def test_regex_flags_negate_and_bad_patterns() -> None:
    metric = make_metric("regex", params={"pattern": r'"priority"\s*:\s*"urgent"'})
    assert score(metric, '{"priority" : "urgent"}').value == 1.0
    assert score(metric, '{"priority": "low"}').value == 0.0
    assert score(make_metric("regex", params={"pattern": "don't know", "ignoreCase": True}), "I DON'T KNOW").value == 1.0
    assert score(make_metric("regex", params={"pattern": "guess", "negate": True}), "I guess").value == 0.0
    with pytest.raises(MetricConfigError, match="does not compile"):
        make_metric("regex", params={"pattern": "(unclosed"})
    from_field = make_metric("regex", field="pattern")
    assert score(from_field, "abc123", {"pattern": r"\d{3}"}).value == 1.0
    assert score(from_field, "abc", {"pattern": "("}).value is None


def test_wrong_param_types_are_config_errors() -> None:
    with pytest.raises(MetricConfigError, match=r"caseSensitive must be a bool"):
        make_metric("exact-match", params={"caseSensitive": "no"})


def test_json_valid_strict_and_lenient() -> None:
    assert score(make_metric("json-valid"), '{"a": 1}').value == 1.0
    assert score(make_metric("json-valid"), "```\n[1, 2]\n```").value == 1.0
    assert score(make_metric("json-valid", params={"strict": True}), "```\n[1, 2]\n```").value == 0.0
    assert score(make_metric("json-valid"), "{broken").value == 0.0


def test_json_schema_from_params_or_prompt() -> None:
    schema = {"type": "object", "required": ["category"], "properties": {"category": {"enum": ["billing", "other"]}}}
    metric = make_metric("json-schema", host=MetricHost(output_schema=schema))
    assert score(metric, '{"category": "billing"}').value == 1.0
    bad = score(metric, '{"category": "weather"}')
    assert bad.value == 0.0 and "category" in bad.detail["problems"][0]
    assert score(metric, "no json").value == 0.0
    with pytest.raises(MetricConfigError, match=r"output\.schema"):
        make_metric("json-schema")
    with pytest.raises(MetricConfigError, match="invalid"):
        make_metric("json-schema", params={"schema": {"type": "no-such-type"}})


def test_extract_json_prefers_the_whole_text_then_fences_then_spans() -> None:
    assert extract_json(' {"a": 1} ') == ({"a": 1}, None)
    assert extract_json("```json\n{\"a\": 2}\n```")[0] == {"a": 2}
    assert extract_json("Result: [1, 2] done")[0] == [1, 2]
    value, error = extract_json("nothing")
    assert value is None and error


def test_refusal_rate_phrases() -> None:
    metric = make_metric("refusal-rate", threshold=0.0)
    refused = score(metric, "I\u2019m sorry, but I can\u2019t help with that request.")  # curly apostrophes
    assert refused.value == 1.0 and metric.passes(1.0) is False
    assert score(metric, "Open Settings > Network.").value == 0.0
    custom = make_metric("refusal-rate", params={"phrases": ["no comment"]})
    assert score(custom, "No comment.").value == 1.0
    assert score(custom, "I am unable to do that").value == 0.0


def test_toxicity_lexicon_word_boundaries_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    metric = make_metric("toxicity-lexicon", params={"terms": ["idiot", "hate speech"]})
    hit = score(metric, "You IDIOT, that is hate speech.")
    assert hit.value == 1.0 and hit.detail["matched"] == ["hate speech", "idiot"]
    assert score(metric, "That was idiotic").value == 0.0  # whole words only
    (tmp_path / "lexicon.txt").write_text("# team list\nmoron\n\nfool  # mild\n", encoding="utf-8")
    from_file = make_metric("toxicity-lexicon", params={"lexicon": "lexicon.txt"}, host=MetricHost(root=tmp_path))
    assert score(from_file, "what a fool").value == 1.0
    assert from_file.describe()["method"] == "lexicon (2 terms)"
    with pytest.raises(MetricConfigError, match=r"needs params\.terms"):
        make_metric("toxicity-lexicon")
    with pytest.raises(MetricConfigError, match=r"outside|climbs"):
        make_metric("toxicity-lexicon", params={"lexicon": "../etc/passwd"}, host=MetricHost(root=tmp_path))


def test_lower_is_better_thresholds() -> None:
    metric = make_metric("latency", threshold=100.0)
    assert metric.passes(99.0) is True and metric.passes(101.0) is False
    assert make_metric("latency").passes(5.0) is None  # no threshold: reported, not gated


def test_latency_tokens_cost() -> None:
    out = Output("x", latency_ms=120.5, input_tokens=1000, output_tokens=500)
    assert score(make_metric("latency"), out).value == 120.5
    assert score(make_metric("tokens"), out).value == 1500
    assert score(make_metric("tokens", params={"which": "output"}), out).value == 500
    assert score(make_metric("latency"), Output("x")).value is None
    assert score(make_metric("tokens"), Output("x", input_tokens=3)).value is None

    from llmgitops.evaluation.metrics import Services

    class Pricing(Services):
        def pricing(self):  # type: ignore[no-untyped-def]
            return {"inputPer1kTokens": 0.5, "outputPer1kTokens": 1.5}

    # 1000 in * 0.5/1k + 500 out * 1.5/1k = 0.5 + 0.75
    assert score(make_metric("cost"), out, services=Pricing()).value == pytest.approx(1.25)
    assert score(make_metric("cost"), out).reason == "the Model declares no spec.pricing"


def test_latency_percentile_aggregate() -> None:
    metric = make_metric("latency", params={"percentile": 90})
    assert metric.aggregate([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]) == pytest.approx(91.0)
    assert make_metric("latency").aggregate([1.0, 2.0, 6.0]) == 3.0
    with pytest.raises(MetricConfigError):
        make_metric("latency", params={"percentile": 0})
