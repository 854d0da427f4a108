"""Reading a RagConfig's corpus: record datasets, single-file text and HTML, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from llmgitops.manifests.repository import Repository
from llmgitops.manifests.source import WorkingTree
from llmgitops.rag.corpus import CorpusError, html_text, load_corpus
from llmgitops.rag.spec import RagSpec
from rag_fixtures import ragconfig_spec, write_repo


def corpus(root: Path, spec: dict | None = None):
    state = Repository(WorkingTree(root)).environment("dev")
    return load_corpus(root, state, RagSpec.from_spec("kb", spec or ragconfig_spec()))


def add_dataset(root: Path, name: str, spec: dict) -> None:
    path = root / "environments" / "dev" / "datasets" / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "llmgitops.dev/v1alpha1", "kind": "Dataset",
                                    "metadata": {"name": name},
                                    "spec": {"version": "1.0.0", "purpose": "rag-corpus", "license": "CC0-1.0",
                                             "pii": {"contains": False}, **spec}}), encoding="utf-8")


def test_records_become_documents_with_titles(tmp_path):
    docs = corpus(write_repo(tmp_path))
    assert [d.id for d in docs] == ["billing", "restore", "install", "security"]
    assert docs[0].title == "Billing" and docs[0].text.startswith("Invoices")


def test_html_is_reduced_to_text():
    markup = "<html><head><title>x</title><style>p{}</style></head><body><h1>Title</h1><p>One &amp; two" \
             "</p><script>alert(1)</script><ul><li>a</li><li>b</li></ul></body></html>"
    assert html_text(markup) == "Title\nOne & two\na\nb"


def test_a_markdown_file_is_one_document(tmp_path):
    root = write_repo(tmp_path)
    (root / "data" / "guide.md").write_text("# Guide\n\nRestore files.\n", encoding="utf-8")
    add_dataset(root, "guide", {"path": "data/guide.md", "format": "markdown"})
    spec = ragconfig_spec(sources=[{"name": "kb-corpus", "version": "^1.0.0"}, {"name": "guide", "version": "1.0.0"}])
    docs = corpus(root, spec)
    assert docs[-1].id == "data/guide.md" and "Restore files." in docs[-1].text


@pytest.mark.parametrize(("path", "message"), [("../outside.md", "climbs out"), ("/etc/passwd", "absolute"),
                                                ("data/missing.md", "does not exist")])
def test_paths_outside_the_repository_or_missing_are_refused(tmp_path, path, message):
    root = write_repo(tmp_path / "repo")
    (tmp_path / "outside.md").write_text("secret", encoding="utf-8")
    add_dataset(root, "guide", {"path": path, "format": "text"})
    with pytest.raises(CorpusError, match=message):
        corpus(root, ragconfig_spec(sources=[{"name": "guide", "version": "1.0.0"}]))


def test_a_symlink_out_of_the_repository_is_refused(tmp_path):
    root = write_repo(tmp_path / "repo")
    (tmp_path / "outside.md").write_text("secret", encoding="utf-8")
    (root / "data" / "link.md").symlink_to(tmp_path / "outside.md")
    add_dataset(root, "guide", {"path": "data/link.md", "format": "text"})
    with pytest.raises(CorpusError, match="outside the repository"):
        corpus(root, ragconfig_spec(sources=[{"name": "guide", "version": "1.0.0"}]))


def test_missing_source_unsatisfied_range_and_duplicate_ids(tmp_path):
    root = write_repo(tmp_path)
    with pytest.raises(CorpusError, match="nowhere"):
        corpus(root, ragconfig_spec(sources=[{"name": "nowhere", "version": "1.0.0"}]))
    with pytest.raises(CorpusError, match=r"kb-corpus \^2.0.0"):
        corpus(root, ragconfig_spec(sources=[{"name": "kb-corpus", "version": "^2.0.0"}]))
    add_dataset(root, "copy", {"path": "data/kb.jsonl", "format": "jsonl"})
    with pytest.raises(CorpusError, match="occurs twice"):
        corpus(root, ragconfig_spec(sources=[{"name": "kb-corpus", "version": "1.0.0"},
                                             {"name": "copy", "version": "1.0.0"}]))


def test_records_without_the_configured_fields(tmp_path):
    root = write_repo(tmp_path)
    with pytest.raises(CorpusError, match=r"no id field 'slug' \(spec.parsing.idField\)"):
        corpus(root, ragconfig_spec(parsing={"format": "jsonl", "idField": "slug", "textField": "text"}))
    (root / "data" / "kb.jsonl").write_text('{"id": 1, "text": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="cannot be read"):
        corpus(root)


def test_an_unsupported_dataset_format(tmp_path):
    root = write_repo(tmp_path)
    add_dataset(root, "table", {"path": "data/kb.jsonl", "format": "parquet"})
    with pytest.raises(CorpusError, match="parquet"):
        corpus(root, ragconfig_spec(sources=[{"name": "table", "version": "1.0.0"}]))
