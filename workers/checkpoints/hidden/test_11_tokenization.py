"""Module 11 - Tokenization: hidden checks (graders only): words never merged across, bad
input, retraining, Unicode, id arrays, and BPE training time against the reference."""

import re
from collections import Counter

import numpy as np

from harness.checkpoints import assert_equal, check, ratio_to_reference
from harness.checkpoints.perf import Workload
from harness.checkpoints.public.test_11_tokenization import (
    CORPUS, IMPORT, TEXT, UNKNOWN, generated_corpus, job_corpus, roundtrip, vocabulary)

SPEED_BOUND = 15.0   # recounting the whole corpus after each merge lands at ~30x, words ~12x


def trained_tokens(student_value, reference_value, inputs):
    """The timed reply is ``[vocabulary, ids of the corpus]``: the ids, decoded here with that
    vocabulary, must give the corpus back, and about as few as the reference's."""
    corpus, (_, reference_ids) = inputs["corpus"], reference_value
    if (type(student_value) is not list or len(student_value) != 2
            or type(student_value[0]) is not list or type(student_value[1]) is not list
            or not all(type(t) is str for t in student_value[0])
            or not all(type(i) is int and 0 <= i < len(student_value[0])
                       for i in student_value[1])):
        raise AssertionError("after training on a fresh corpus, the vocabulary and the corpus's "
                             "ids did not come back as a list of strings and a list of their ids")
    vocab, ids = student_value
    assert_equal("".join(vocab[i] for i in ids) == corpus, True,
                 what="the fresh corpus encoded, then decoded with the trained vocabulary")
    if len(ids) > 1.02 * len(reference_ids):
        raise AssertionError(f"250 tokens trained on a fresh corpus encode it in {len(ids)} ids, "
                             f"the reference's in {len(reference_ids)}: merge the most frequent "
                             "pair each time")


SPEED_WORK = Workload(
    IMPORT, lambda rng: {"corpus": generated_corpus(seed=int(rng.integers(2**31)))},
    "(lambda bpe: [[bpe.decode([i]) for i in range(bpe.vocab_size)], bpe.encode(corpus)])"
    "(BPETokenizer(250).train(corpus))", verify=trained_tokens)


@check("tokenization.bpe.within_words", "no BPE token spans two words: a token is a word piece "
       "(with at most its leading space) or a run of whitespace", "hidden")
def test_bpe_within_words(student, rng):
    for corpus, size in ((CORPUS, 116), (job_corpus(rng)[0], int(rng.integers(80, 160)))):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({corpus!r})")
        crossing = [t for t in vocabulary(student, "bpe") if not re.fullmatch(r" ?\S+|\s+", t)]
        if crossing:
            raise AssertionError(f"these tokens of BPETokenizer({size}) span more than one "
                                 f"word: {crossing[:8]}")


@check("tokenization.errors", "decode rejects ids outside the vocabulary, and BPE rejects a "
       "vocab_size too small for the corpus's characters (ValueError)", "hidden")
def test_errors(student, rng):
    letters = rng.permutation(list("abcdefghijklmnopqrstuvwxyz"))[:int(rng.integers(3, 9))]
    text = job_corpus(rng)[1]
    distinct = len(set(text)) + 1   # its characters and the unknown token
    for letters, word, text, size, small, beyond, below in (
            ("abc", "cab", TEXT, 30, 10, 4, -1),
            ("".join(letters), "".join(rng.permutation(letters)), text,
             distinct + int(rng.integers(0, 20)), int(rng.integers(2, distinct)),
             len(letters) + 1 + int(rng.integers(0, 50)), -int(rng.integers(1, 50)))):
        student.exec(f"{IMPORT}\ntok = CharTokenizer({letters!r})\n"
                     f"bpe = BPETokenizer({size}).train({text!r})")
        roundtrip(student, "tok", word)
        roundtrip(student, "bpe", text)
        student.raises(f"tok.decode([1, {beyond}])", "ValueError")
        student.raises(f"bpe.decode([{below}])", "ValueError")
        student.raises(f"BPETokenizer({small}).train({text!r})", "ValueError")


@check("tokenization.bpe.retrain", "training a BPETokenizer again forgets the first corpus",
       "hidden")
def test_bpe_retrain(student, rng):
    a, b, c = rng.permutation(list("abcdefghijklmnopqrstuvwxyz"))[:3]
    second = f"{a * int(rng.integers(2, 5))} {b * int(rng.integers(2, 5))} {a * 3}"
    for first, (a, b, c), second in ((CORPUS, "abc", "aaa bbb aaa"),
                                     (job_corpus(rng)[0], (a, b, c), second)):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer(40).train({first!r})\n"
                     f"bpe.train({second!r})")
        tokens = vocabulary(student, "bpe")
        if set("".join(tokens)) - {UNKNOWN} != {a, b, " "}:
            raise AssertionError(f"after train({second!r}) the vocabulary still holds tokens "
                                 f"of the first corpus: {sorted(tokens)[:12]}")
        assert_equal(student.eval(f"bpe.decode(bpe.encode({c + a + b!r}))"), f"{UNKNOWN}{a}{b}",
                     what=f"decode(encode({c + a + b!r})) after retraining on {second!r}")


@check("tokenization.decode.arrays", "decode also takes ids as a NumPy array or a Tensor", "hidden")
def test_decode_arrays(student, rng):
    for corpus, text in ((CORPUS, TEXT), job_corpus(rng)):
        student.exec(f"{IMPORT}\nfrom tinytorch.core.tensor import Tensor\n"
                     f"bpe = BPETokenizer(60).train({corpus!r})\nids = bpe.encode({text!r})")
        assert_equal(student.eval("bpe.decode(np.array(ids))"), text,
                     what="bpe.decode(np.array(ids))")
        assert_equal(student.eval("bpe.decode(Tensor(ids))"), text, what="bpe.decode(Tensor(ids))")


UNICODE = "na\u00efve caf\u00e9 \u2014 \u65e5\u672c\u8a9e \U0001f600\U0001f600 caf\u00e9\r\n"


@check("tokenization.unicode.roundtrip", "both tokenizers round-trip text with accents, CJK, "
       "emoji and \\r\\n; U+FFFD in a corpus is the unknown token, not a new one", "hidden")
def test_unicode_roundtrip(student, rng):
    words = UNICODE.split(" ")
    shuffled = " ".join(words[i] for i in rng.choice(len(words), size=len(words) + 3))
    for text in (UNICODE, shuffled + "\r\n"):
        student.exec(f"{IMPORT}\ntok = CharTokenizer({text!r})\n"
                     f"bpe = BPETokenizer(40).train({text * 3!r})")
        for tokenizer in ("tok", "bpe"):
            roundtrip(student, tokenizer, text)
        student.exec(f"with_unknown = CharTokenizer({UNKNOWN + text!r})")
        assert_equal(student.eval("with_unknown.vocab_size"), len(set(text)) + 1,
                     what=f"vocab_size for a corpus of {len(set(text))} distinct characters and "
                     "U+FFFD (the unknown token's own character)")
        assert_equal(student.eval(f"with_unknown.encode({UNKNOWN!r})"),
                     [student.eval("tok.unk_id")], what="the ids of U+FFFD")


@check("tokenization.bpe.speed", "BPETokenizer(250).train on 5 KB of text is about as fast as "
       "the reference's, and the result round-trips", "hidden")
def test_bpe_speed(student, reference, rng):
    ratio = ratio_to_reference(student, reference, rng, SPEED_WORK)
    assert ratio <= SPEED_BOUND, (f"BPE training took {ratio:.1f}x the reference's time (at "
                                  f"most {SPEED_BOUND:.0f}x passes): update the pair counts "
                                  "of the words a merge touches instead of recounting them all")


WORDS = re.compile(r" ?\S+|\s+")   # a word with its leading space, or a run of whitespace


def merge_pieces(pieces, pair):
    """``pieces`` with every non-overlapping ``pair`` (left to right) joined into one."""
    out, i = [], 0
    while i < len(pieces):
        if i + 1 < len(pieces) and (pieces[i], pieces[i + 1]) == pair:
            out.append(pieces[i] + pieces[i + 1])
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return out


def replay_training(corpus, learned, room_left):
    """The pairs behind ``learned`` (the tokens beyond the characters, in id order), each
    checked to be a most frequent pair of the corpus's words at its step (ties either way);
    with ``room_left`` no pair may still occur twice at the end."""
    counts = Counter(WORDS.findall(corpus))
    words = {word: list(word) for word in counts}
    merges = []
    for step, token in enumerate(learned + ([None] if room_left else [])):
        pairs = Counter()
        for word, pieces in words.items():
            for pair in zip(pieces, pieces[1:]):
                pairs[pair] += counts[word]
        best = max(pairs.values(), default=0)
        if token is None:
            if best >= 2:
                raise AssertionError(f"training stopped after {step} merges below vocab_size "
                                     f"although {pairs.most_common(1)[0][0]} still occurs {best} "
                                     "times")
            break
        frequent = [pair for pair, count in pairs.items() if count == best]
        matching = [pair for pair in frequent if "".join(pair) == token]
        if best < 2 or not matching:
            raise AssertionError(f"merge {step + 1} learned {token!r}, but the most frequent pair "
                                 f"then ({best} times) is one of {frequent[:5]}: each merge must "
                                 "join the most frequent adjacent pair within words")
        merges.append(matching[0])
        words = {word: merge_pieces(pieces, matching[0]) for word, pieces in words.items()}
    return merges


def encode_pieces(text, merges, alphabet):
    """The token strings BPE gives ``text``: per word, the earliest-learned merge first."""
    rank = {pair: r for r, pair in enumerate(merges)}
    pieces_of_text = []
    for word in WORDS.findall(text):
        pieces = [ch if ch in alphabet else UNKNOWN for ch in word]
        while True:
            ranked = [rank[pair] for pair in zip(pieces, pieces[1:]) if pair in rank]
            if not ranked:
                break
            pieces = merge_pieces(pieces, merges[min(ranked)])
        pieces_of_text += pieces
    return pieces_of_text


@check("tokenization.bpe.greedy_merges", "every BPE merge joins a most frequent pair at its "
       "step (whitespace at the corpus's ends counted too), training stops only when no pair "
       "repeats, and encode applies merges in the order learned", "hidden")
def test_bpe_greedy_merges(student, rng):
    for words, extra in ((500, 60), (40, 400)):
        # whitespace at both ends: the tab pair occurs twice, once in each, and must be merged
        corpus = "\t\t" + generated_corpus(words, seed=int(rng.integers(10**6))) + " \t\t"
        text = generated_corpus(60, seed=int(rng.integers(10**6))) + " zq"
        alphabet = set(corpus)
        size = len(alphabet) + 1 + extra
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({corpus!r})")
        tokens = vocabulary(student, "bpe")
        learned = tokens[len(alphabet) + 1:]   # the characters come first, after the unknown
        merges = replay_training(corpus, learned, room_left=len(tokens) < size)
        got = student.eval(f"[bpe.decode([i]) for i in bpe.encode({text!r})]")
        expected = encode_pieces(text, merges, alphabet)
        if got != expected:
            first = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
                         min(len(got), len(expected)))
            raise AssertionError(f"BPETokenizer({size}).encode split a text into "
                                 f"{got[max(first - 3, 0):first + 5]} from token {first} on; "
                                 f"applying the merges in the order learned gives "
                                 f"{expected[max(first - 3, 0):first + 5]}")
