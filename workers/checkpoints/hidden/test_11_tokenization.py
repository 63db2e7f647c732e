"""Module 11 - Tokenization: hidden checks (graders only): words never merged across, bad
input, retraining, Unicode, id arrays, and BPE training time against the reference."""

import re

import numpy as np

from workers.checkpoints import assert_equal, check, ratio_to_reference
from workers.checkpoints.perf import Workload
from workers.checkpoints.public.test_11_tokenization import (
    CORPUS, IMPORT, TEXT, UNKNOWN, roundtrip, vocabulary)

SPEED_BOUND = 15.0   # recounting the whole corpus after each merge lands at ~30x, words ~12x


def generated_corpus(words=1000, seed=11):
    """About 5 KB of made-up words, some much more frequent than others, as in real text."""
    rng = np.random.default_rng(seed)
    syllables = "ka to ri me su na lo pe chi ra de mi on en th an er in st qu".split()
    lexicon = ["".join(rng.choice(syllables, size=rng.integers(1, 4))) for _ in range(400)]
    weights = 1 / np.sqrt(np.arange(1, len(lexicon) + 1))
    text = " ".join(rng.choice(lexicon, size=words, p=weights / weights.sum()))
    return text.replace("qu", "qu.\n", 40)


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
def test_bpe_within_words(student):
    student.exec(f"{IMPORT}\nbpe = BPETokenizer(116).train({CORPUS!r})")
    crossing = [t for t in vocabulary(student, "bpe") if not re.fullmatch(r" ?\S+|\s+", t)]
    if crossing:
        raise AssertionError(f"these tokens span more than one word: {crossing[:8]}")


@check("tokenization.errors", "decode rejects ids outside the vocabulary, and BPE rejects a "
       "vocab_size too small for the corpus's characters (ValueError)", "hidden")
def test_errors(student):
    student.exec(f"{IMPORT}\ntok = CharTokenizer('abc')\nbpe = BPETokenizer(30).train({TEXT!r})")
    roundtrip(student, "tok", "cab")
    roundtrip(student, "bpe", TEXT)
    student.raises("tok.decode([1, 4])", "ValueError")
    student.raises("bpe.decode([-1])", "ValueError")
    student.raises(f"BPETokenizer(10).train({TEXT!r})", "ValueError")


@check("tokenization.bpe.retrain", "training a BPETokenizer again forgets the first corpus",
       "hidden")
def test_bpe_retrain(student):
    student.exec(f"{IMPORT}\nbpe = BPETokenizer(40).train({CORPUS!r})\nbpe.train('aaa bbb aaa')")
    tokens = vocabulary(student, "bpe")
    if set("".join(tokens)) - {UNKNOWN} != {"a", "b", " "}:
        raise AssertionError(f"after train('aaa bbb aaa') the vocabulary still holds tokens "
                             f"of the first corpus: {sorted(tokens)[:12]}")
    assert_equal(student.eval("bpe.decode(bpe.encode('cab'))"), f"{UNKNOWN}ab",
                 what="decode(encode('cab')) after retraining on 'aaa bbb aaa'")


@check("tokenization.decode.arrays", "decode also takes ids as a NumPy array or a Tensor", "hidden")
def test_decode_arrays(student):
    student.exec(f"{IMPORT}\nfrom tinytorch.core.tensor import Tensor\n"
                 f"bpe = BPETokenizer(60).train({CORPUS!r})\nids = bpe.encode({TEXT!r})")
    assert_equal(student.eval("bpe.decode(np.array(ids))"), TEXT, what="bpe.decode(np.array(ids))")
    assert_equal(student.eval("bpe.decode(Tensor(ids))"), TEXT, what="bpe.decode(Tensor(ids))")


UNICODE = "na\u00efve caf\u00e9 \u2014 \u65e5\u672c\u8a9e \U0001f600\U0001f600 caf\u00e9\r\n"


@check("tokenization.unicode.roundtrip", "both tokenizers round-trip text with accents, CJK, "
       "emoji and \\r\\n", "hidden")
def test_unicode_roundtrip(student):
    student.exec(f"{IMPORT}\ntok = CharTokenizer({UNICODE!r})\n"
                 f"bpe = BPETokenizer(40).train({UNICODE * 3!r})")
    for tokenizer in ("tok", "bpe"):
        roundtrip(student, tokenizer, UNICODE)


@check("tokenization.bpe.speed", "BPETokenizer(250).train on 5 KB of text is about as fast as "
       "the reference's, and the result round-trips", "hidden")
def test_bpe_speed(student, reference, rng):
    ratio = ratio_to_reference(student, reference, rng, SPEED_WORK)
    assert ratio <= SPEED_BOUND, (f"BPE training took {ratio:.1f}x the reference's time (at "
                                  f"most {SPEED_BOUND:.0f}x passes): update the pair counts "
                                  "of the words a merge touches instead of recounting them all")
