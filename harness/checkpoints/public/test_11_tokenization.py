"""Module 11 - Tokenization: public checks (shipped to students with the starter).

The corpus and the texts are sent from here; ids and decoded strings come back as plain data
and are judged here: exact round trips, the unknown token, vocabulary sizes, and that BPE's
merges are the frequent pairs and shorten the encoding.
"""

import numpy as np

from harness.checkpoints import assert_equal, check

IMPORT = "from tinytorch.core.tokenization import CharTokenizer, BPETokenizer"
CORPUS = (
    "The cat sat on the mat. The dog sat on the log. Then the cat and the dog sat together "
    "on the mat, and the mat was warm.\nA tokenizer turns text into numbers: the numbers "
    "that the model sees are the ids of the tokens, and the text that the model writes is "
    "the tokens of the ids it picks. Characters make a small vocabulary and long "
    "sequences; byte-pair encoding merges the most frequent pairs, so that the common "
    "pieces of words (the, and, ing, tion) become single tokens.\nThe more merges, the "
    "shorter the sequences and the larger the table of embeddings.  Tabs\tand  double "
    "spaces stay as they are.\n")
UNKNOWN = "\ufffd"   # what the unknown id decodes to
TEXT = "the mat and the log sat together; the dog writes tokens.\n"


def generated_corpus(words=1000, seed=11):
    """About 5 bytes a word of made-up words, some much more frequent than others, as in real
    text."""
    rng = np.random.default_rng(seed)
    syllables = "ka to ri me su na lo pe chi ra de mi on en th an er in st qu".split()
    lexicon = ["".join(rng.choice(syllables, size=rng.integers(1, 4))) for _ in range(400)]
    weights = 1 / np.sqrt(np.arange(1, len(lexicon) + 1))
    text = " ".join(rng.choice(lexicon, size=words, p=weights / weights.sum()))
    return text.replace("qu", "qu.\n", 40)


def job_corpus(rng, words=140):
    """A job's own corpus (made-up words, about 700 characters like CORPUS) and a text of its
    characters: a piece of the corpus, then a random run of its characters and whitespace."""
    corpus = generated_corpus(words, seed=int(rng.integers(2**31)))
    start = int(rng.integers(len(corpus) - 80))
    alphabet = sorted(set(corpus))
    return corpus, corpus[start:start + 60] + "".join(rng.choice(alphabet, size=20))


def roundtrip(student, tokenizer, text):
    """``tokenizer.decode(tokenizer.encode(text))`` must give back ``text`` exactly."""
    student.exec(f"ids = {tokenizer}.encode({text!r})")
    ids = student.eval("ids")
    if type(ids) is not list or not all(type(i) is int for i in ids):
        raise AssertionError(f"{tokenizer}.encode(text) should give a list of ints, got "
                             f"{type(ids).__name__}")
    assert_equal(student.eval(f"{tokenizer}.decode(ids)"), text,
                 what=f"{tokenizer}.decode({tokenizer}.encode(text))")
    return ids


def vocabulary(student, tokenizer):
    """Every token of ``tokenizer`` as its decoded string, by id."""
    return student.eval(f"[{tokenizer}.decode([i]) for i in range({tokenizer}.vocab_size)]")


@check("tokenization.char.roundtrip", "CharTokenizer(corpus): decode(encode(text)) gives the "
       "text back, one id per character", "public")
def test_char_roundtrip(student, rng):
    corpus, text = job_corpus(rng)
    for corpus, texts in ((CORPUS, (CORPUS, TEXT, "")), (corpus, (corpus, text))):
        student.exec(f"{IMPORT}\ntok = CharTokenizer({corpus!r})")
        for text in texts:
            ids = roundtrip(student, "tok", text)
            assert_equal(len(ids), len(text), what=f"len(tok.encode(text)) for a text of "
                         f"{len(text)} characters")


@check("tokenization.char.vocabulary", "CharTokenizer has one id per distinct character plus "
       "the unknown token, the same ids for the same set of characters", "public")
def test_char_vocabulary(student, rng):
    corpus, text = job_corpus(rng)
    for corpus, text in ((CORPUS, TEXT), (corpus, text)):
        shuffled = "".join(sorted(corpus, key=lambda ch: (corpus.count(ch), ch)))  # noqa: B023
        student.exec(f"{IMPORT}\ntok = CharTokenizer({corpus!r})\n"
                     f"again = CharTokenizer({shuffled!r})")
        alphabet = set(corpus)
        assert_equal(student.eval("tok.vocab_size"), len(alphabet) + 1,
                     what=f"vocab_size for a corpus of {len(alphabet)} distinct characters")
        tokens = vocabulary(student, "tok")
        assert_equal(sorted(t for t in tokens if t in alphabet), sorted(alphabet),
                     what="the characters of the vocabulary")
        assert_equal(student.eval(f"again.encode({text!r}) == tok.encode({text!r})"), True,
                     what="the ids from a tokenizer built on the same characters in another order")


@check("tokenization.char.unknown", "a character not in the corpus encodes to unk_id and "
       "decodes to U+FFFD", "public")
def test_char_unknown(student, rng):
    letters = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), size=6, replace=False))
    unseen = str(rng.choice(list("\u00e9\u00fc\u00df\u03bb\u4e2d!?#") + list(letters[3:])))
    for alphabet, text, at in (("abc ", "a\u00e9 c", 1),
                               (letters[:3] + " ", letters[1] + unseen + " " + letters[0], 1)):
        student.exec(f"{IMPORT}\ntok = CharTokenizer({alphabet!r})\nids = tok.encode({text!r})")
        unk = student.eval("tok.unk_id")
        assert_equal(student.eval("ids")[at], unk, what="the id of an unseen character")
        assert_equal(student.eval("tok.decode(ids)"), text.replace(text[at], UNKNOWN),
                     what=f"tok.decode(tok.encode({text!r})) for CharTokenizer({alphabet!r})")


@check("tokenization.bpe.roundtrip", "BPETokenizer(120).train(corpus): decode(encode(text)) "
       "gives back the corpus and new text, spaces, tabs and newlines included", "public")
def test_bpe_roundtrip(student, rng):
    corpus, text = job_corpus(rng)
    for corpus, texts in ((CORPUS, (CORPUS, TEXT, "  the\t\tcat\n\n sat  ", "x")),
                          (corpus, (corpus, text, f"  {text[:9]}   {text[-9:]}  "))):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer(120).train({corpus!r})")
        for text in texts:
            roundtrip(student, "bpe", text)


@check("tokenization.bpe.compresses", "BPE encodes the corpus in far fewer tokens than "
       "characters, and more merges never make it longer", "public")
def test_bpe_compresses(student, rng):
    for corpus in (CORPUS, job_corpus(rng)[0]):
        lengths = []
        for size in (60, 120, 240):
            student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({corpus!r})")
            lengths.append(len(spelled_here(student, "bpe", corpus, f"BPETokenizer({size})")))
        if not lengths[0] >= lengths[1] >= lengths[2] or lengths[1] > 0.6 * len(corpus):
            raise AssertionError(f"BPE with vocab_size 60, 120, 240 encoded the {len(corpus)}-"
                                 f"character corpus in {lengths} tokens: expected fewer tokens "
                                 "for more merges, and at most 60% of the characters with 120")


def spelled_here(student, tokenizer, text, what):
    """``tokenizer.encode(text)``, accepted only if its ids, read here with the tokenizer's
    vocabulary, spell ``text``: a count of tokens means nothing until they are the text."""
    tokens, ids = vocabulary(student, tokenizer), student.eval(f"{tokenizer}.encode({text!r})")
    if type(tokens) is not list or not all(type(t) is str for t in tokens):
        raise AssertionError(f"the vocabulary of {what} should be strings, one per id")
    if type(ids) is not list or not all(type(i) is int and 0 <= i < len(tokens) for i in ids):
        raise AssertionError(f"{what}.encode(text) should give ids of its vocabulary")
    if "".join(tokens[i] for i in ids) != text:
        raise AssertionError(f"the ids of {what}.encode(text), read token by token, do not "
                             "spell the text")
    return ids


@check("tokenization.bpe.vocab_size", "BPETokenizer(n) learns exactly n distinct tokens (the "
       "unknown included) when the corpus allows, and encode uses only those ids", "public")
def test_bpe_vocab_size(student, rng):
    corpus = job_corpus(rng)[0]
    for corpus, size in ((CORPUS, 50), (CORPUS, 100), (corpus, int(rng.integers(40, 71)))):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({corpus!r})")
        assert_equal(student.eval("bpe.vocab_size"), size, what=f"BPETokenizer({size}).vocab_size")
        tokens = vocabulary(student, "bpe")
        assert_equal(len(set(tokens)), size, what=f"the number of distinct tokens of "
                     f"BPETokenizer({size})")
        ids = student.eval(f"bpe.encode({corpus!r})")
        if not all(type(i) is int and 0 <= i < size for i in ids):
            raise AssertionError(f"BPETokenizer({size}).encode gave ids outside [0, {size})")


def merge_corpus(letters):
    """'axyzq bxyzr cxyzs dxyzt exyzu fxy' spelled with ``letters`` (14 distinct, x y z
    first): (x, y) 6 times, then (xy, z) 5 times."""
    x, y, z, *rest = letters
    words = [f"{p}{x}{y}{z}{q}" for p, q in zip(rest[:5], rest[6:11])]
    return " ".join(words + [f"{rest[5]}{x}{y}"])


MERGE_CORPUS = merge_corpus("xyzabcdefqrstu")


@check("tokenization.bpe.merges", "BPE's first merge is the most frequent pair, and the next "
       "merge can build on it (xy, then xyz)", "public")
def test_bpe_merges(student, rng):
    letters = "".join(rng.permutation(list("abcdefghijklmnopqrstuvwxyz"))[:14])
    for corpus in (MERGE_CORPUS, merge_corpus(letters)):
        x, y, z = corpus[1:4]
        alphabet = set(corpus) | {UNKNOWN}
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({len(alphabet) + 2}).train({corpus!r})")
        learned = sorted(t for t in vocabulary(student, "bpe") if t not in alphabet)
        assert_equal(learned, [x + y, x + y + z], what=f"the tokens learned from {corpus!r} "
                     "beyond the characters")
        word = corpus.split()[0]
        assert_equal(len(student.eval(f"bpe.encode({word!r})")), 3,
                     what=f"len(bpe.encode({word!r}))")


@check("tokenization.bpe.unknown", "BPE encodes a character it never saw as unk_id and the "
       "rest of the text still round-trips", "public")
def test_bpe_unknown(student, rng):
    corpus, text = job_corpus(rng)
    unseen = str(rng.choice(list("\u00e9\u00fc\u00df\u03bb\u4e2d#$%")))
    at = int(rng.integers(1, len(text) - 1))
    for corpus, text in ((CORPUS, "the \u00e9cat"), (corpus, text[:at] + unseen + text[at:])):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer(80).train({corpus!r})\n"
                     f"ids = bpe.encode({text!r})")
        assert_equal(student.eval("bpe.unk_id in ids"), True, what="whether unk_id is in the ids")
        unknown = [ch for ch in text if ch not in corpus]
        assert_equal(student.eval("bpe.decode(ids)"), text.replace(unknown[0], UNKNOWN),
                     what=f"the decoded text of {text!r}")
