"""docs/versioning.md carries the rule tables generated from the catalog, unchanged."""

from __future__ import annotations

from llmgitops.versioning import docs
from llmgitops.versioning.catalog import CATALOG, POLICY_RULES


def test_docs_rule_tables_match_the_catalog() -> None:
    text = docs.DOC.read_text(encoding="utf-8")
    assert docs.splice(text, docs.render()) == text, \
        "docs/versioning.md drifted from the catalog: run `python -m llmgitops.versioning.docs --write`"


def test_every_rule_is_documented() -> None:
    text = docs.DOC.read_text(encoding="utf-8")
    for rule_id in [*CATALOG, *(r.id for r in POLICY_RULES)]:
        assert f"| `{rule_id}` |" in text, rule_id


def test_splice_refuses_a_document_without_markers() -> None:
    import pytest

    with pytest.raises(ValueError):
        docs.splice("# no markers\n", docs.render())
