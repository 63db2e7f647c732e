"""Module 11 - Tokenization: turning text into the integer ids a model can embed.

Two tokenizers share one interface (``encode(text) -> list[int]``, ``decode(ids) -> str``,
``vocab_size``):

* ``CharTokenizer``: one id per character seen in a corpus, plus an unknown token. Tiny
  vocabulary, long sequences.
* ``BPETokenizer``: byte-pair encoding over characters. Training starts from the corpus's
  characters and repeatedly merges the most frequent adjacent pair into a new token, so common
  fragments ("the", " and") become single ids: a larger vocabulary, shorter sequences.

Both round-trip exactly: ``decode(encode(s)) == s`` for any text written in the corpus's
alphabet. A character never seen in training becomes the unknown id (and decodes to U+FFFD).

Systems cost:
    memory  - the vocabulary (a dict per direction) plus, for BPE training, one entry per
              distinct word and per distinct adjacent pair: a few MB for 1 MB of text.
    compute - encoding with characters is O(n). BPE training is the expensive part: recounting
              every pair after each merge costs O(corpus) per merge; here the pair counts are
              updated incrementally, touching only the words that contain the merged pair, and
              the best pair comes from a heap, so 1 MB of text trains in seconds. Encoding with
              BPE applies the merges word by word, with a cache for repeated words.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict

import numpy as np

__all__ = ["CharTokenizer", "BPETokenizer", "UNKNOWN"]

UNKNOWN = "\ufffd"  # what the unknown id decodes to
_WORDS = re.compile(r" ?\S+|\s+")  # covers every character, so splitting then joining is exact


def _as_id_list(ids) -> list[int]:
    """Accept a list, a NumPy array or a Tensor of ids."""
    data = getattr(ids, "data", ids)
    return [int(i) for i in np.asarray(data).reshape(-1)]


class _Vocabulary:
    """Shared decode side: id -> string, with the unknown token at id 0."""

    unk_id = 0

    def __init__(self):
        self.id_to_token: list[str] = [UNKNOWN]

    @property
    def vocab_size(self) -> int:
        return len(self.id_to_token)

    def __len__(self) -> int:
        return self.vocab_size

    def decode(self, ids) -> str:
        """Concatenate the strings of ``ids``; an id outside the vocabulary is an error."""
        id_list = _as_id_list(ids)
        bad = [i for i in id_list if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"decode: ids {bad[:5]} are outside the vocabulary [0, {self.vocab_size})")
        ### BEGIN SOLUTION
        return "".join(self.id_to_token[i] for i in id_list)
        ### END SOLUTION


class CharTokenizer(_Vocabulary):
    """One id per distinct character of ``corpus`` (sorted, so the ids are reproducible).

    >>> tok = CharTokenizer("hello")
    >>> tok.decode(tok.encode("hole"))
    'hole'
    """

    def __init__(self, corpus: str):
        super().__init__()
        if not isinstance(corpus, str):
            raise TypeError(f"CharTokenizer needs the corpus as a str, got {type(corpus).__name__}")
        ### BEGIN SOLUTION
        self.id_to_token += sorted(set(corpus) - {UNKNOWN})
        self.token_to_id = {ch: i for i, ch in enumerate(self.id_to_token)}
        ### END SOLUTION

    def encode(self, text: str) -> list[int]:
        """Map each character to its id; an unseen character maps to ``unk_id``."""
        ### BEGIN SOLUTION
        get = self.token_to_id.get
        return [get(ch, self.unk_id) for ch in text]
        ### END SOLUTION


class BPETokenizer(_Vocabulary):
    """Byte-pair encoding over characters with at most ``vocab_size`` tokens (unknown included).

    Words (a run of non-space characters with its leading space, or a run of whitespace) are
    never merged across, which keeps training and encoding local to a word.
    """

    def __init__(self, vocab_size: int):
        if vocab_size < 2:
            raise ValueError(f"BPETokenizer needs vocab_size >= 2 (unknown + one character), got {vocab_size}")
        self.target_size = vocab_size
        self._forget()

    def _forget(self) -> None:
        """Back to an untrained tokenizer (only the unknown token), so ``train`` can run again."""
        super().__init__()
        self.merges: dict[tuple[int, int], int] = {}  # (left id, right id) -> merged id; order = rank
        self._pair_of: dict[int, tuple[int, int]] = {}  # merged id -> the pair it replaces
        self.token_to_id: dict[str, int] = {UNKNOWN: self.unk_id}
        self._cache: dict[str, list[int]] = {}  # word -> ids, filled by encode

    def train(self, corpus: str) -> "BPETokenizer":
        """Learn the alphabet of ``corpus`` and up to ``vocab_size - 1 - |alphabet|`` merges."""
        alphabet = sorted(set(corpus) - {UNKNOWN})
        if 1 + len(alphabet) > self.target_size:
            raise ValueError(f"BPETokenizer: the corpus has {len(alphabet)} distinct characters, more than "
                             f"vocab_size={self.target_size} allows (the unknown token takes one id)")
        self._forget()
        for ch in alphabet:
            self._add_token(ch)
        ### BEGIN SOLUTION
        word_counts = Counter(_WORDS.findall(corpus))
        words = [[self.token_to_id[ch] for ch in w] for w in word_counts]
        freqs = list(word_counts.values())
        pair_counts: dict[tuple[int, int], int] = defaultdict(int)
        pair_words: dict[tuple[int, int], set[int]] = defaultdict(set)
        for w, (symbols, freq) in enumerate(zip(words, freqs)):
            for pair in zip(symbols, symbols[1:]):
                pair_counts[pair] += freq
                pair_words[pair].add(w)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)

        while self.vocab_size < self.target_size and heap:
            neg_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -neg_count:
                continue  # a stale heap entry: the count changed after it was pushed
            if -neg_count < 2:
                break  # merging a pair seen once compresses nothing
            new_id = self._add_token(self.id_to_token[pair[0]] + self.id_to_token[pair[1]])
            self.merges[pair] = new_id
            self._pair_of[new_id] = pair
            changed: set[tuple[int, int]] = set()
            for w in pair_words.pop(pair):
                symbols, freq = words[w], freqs[w]
                for p in zip(symbols, symbols[1:]):  # take the word's old pairs out ...
                    pair_counts[p] -= freq
                    changed.add(p)
                symbols = words[w] = _merge_pair(symbols, pair, new_id)
                for p in zip(symbols, symbols[1:]):  # ... and put its new pairs in
                    pair_counts[p] += freq
                    pair_words[p].add(w)
                    changed.add(p)
            pair_counts.pop(pair, None)
            for p in changed - {pair}:
                if pair_counts[p] > 0:
                    heapq.heappush(heap, (-pair_counts[p], p))
                else:
                    pair_counts.pop(p)
        ### END SOLUTION
        return self

    def _add_token(self, token: str) -> int:
        self.token_to_id[token] = len(self.id_to_token)
        self.id_to_token.append(token)
        return self.token_to_id[token]

    def encode(self, text: str) -> list[int]:
        """Split into words, then apply the learned merges to each word, lowest rank first."""
        if self.vocab_size == 1:
            raise RuntimeError("BPETokenizer.encode called before train()")
        ids: list[int] = []
        for word in _WORDS.findall(text):
            if word not in self._cache:
                self._cache[word] = self._encode_word(word)
            ids.extend(self._cache[word])
        return ids

    def _encode_word(self, word: str) -> list[int]:
        ### BEGIN SOLUTION
        symbols = [self.token_to_id.get(ch, self.unk_id) for ch in word]
        rank = self.merges  # dicts keep insertion order, and merged ids grow with rank
        while len(symbols) > 1:
            candidates = [rank[p] for p in zip(symbols, symbols[1:]) if p in rank]
            if not candidates:
                break
            best_id = min(candidates)
            symbols = _merge_pair(symbols, self._pair_of[best_id], best_id)
        return symbols
        ### END SOLUTION


def _merge_pair(symbols: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` (left to right) by ``new_id``."""
    out, i, n = [], 0, len(symbols)
    while i < n:
        if i + 1 < n and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out
