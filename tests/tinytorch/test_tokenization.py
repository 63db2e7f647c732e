"""Module 11: both tokenizers round-trip exactly, handle unknown characters, and BPE compresses."""

import time
from pathlib import Path

import pytest
from hypothesis import given, settings

from tests.strategies import corpus_and_text
from tinytorch.core.tokenization import UNKNOWN, BPETokenizer, CharTokenizer

SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")


@given(corpus_and_text())
def test_char_tokenizer_round_trips_text_in_the_corpus_alphabet(pair):
    corpus, text = pair
    tok = CharTokenizer(corpus)
    assert tok.decode(tok.encode(text)) == text


@settings(max_examples=60, deadline=None)
@given(corpus_and_text())
def test_bpe_round_trips_text_in_the_corpus_alphabet(pair):
    corpus, text = pair
    tok = BPETokenizer(vocab_size=len(set(corpus)) + 20).train(corpus)
    assert tok.decode(tok.encode(text)) == text
    assert tok.vocab_size <= len(set(corpus)) + 20


def test_char_tokenizer_maps_unseen_characters_to_unknown():
    tok = CharTokenizer("abc")
    assert tok.vocab_size == 4
    ids = tok.encode("azb")
    assert ids[1] == tok.unk_id and ids[0] != tok.unk_id
    assert tok.decode(ids) == f"a{UNKNOWN}b"


def test_decode_rejects_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        CharTokenizer("ab").decode([1, 7])


def test_bpe_merges_frequent_pairs_into_single_tokens():
    corpus = "the cat the hat the bat " * 20
    tok = BPETokenizer(vocab_size=40).train(corpus)
    assert " the" in tok.token_to_id  # the most frequent word became one token
    ids = tok.encode(corpus)
    assert len(ids) < len(corpus) / 2
    assert tok.decode(ids) == corpus


def test_bpe_stops_at_vocab_size_and_rejects_a_too_small_one():
    tok = BPETokenizer(vocab_size=12).train("abababcdcdcd efefef")
    assert tok.vocab_size == 12
    with pytest.raises(ValueError, match="distinct characters"):
        BPETokenizer(vocab_size=3).train("abcdef")


def test_bpe_encodes_unknown_characters_as_unknown():
    tok = BPETokenizer(vocab_size=10).train("aaaa bbbb")
    ids = tok.encode("a€b")
    assert ids.count(tok.unk_id) == 1
    assert tok.decode(ids) == f"a{UNKNOWN}b"


def test_bpe_must_be_trained_before_encoding():
    with pytest.raises(RuntimeError, match="before train"):
        BPETokenizer(vocab_size=10).encode("abc")


def test_bpe_trains_on_a_megabyte_in_seconds():
    if not SHAKESPEARE.exists():
        pytest.skip(f"{SHAKESPEARE} is not on this machine")
    text = SHAKESPEARE.read_text()
    start = time.perf_counter()
    tok = BPETokenizer(vocab_size=512).train(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 30, f"BPE training on {len(text)} chars took {elapsed:.1f}s"
    sample = text[:20000]
    assert tok.decode(tok.encode(sample)) == sample
    assert len(tok.encode(sample)) < 0.6 * len(sample)
