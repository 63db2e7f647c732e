"""Module 11 - Tokenization: public checks (shipped to students with the starter).

The corpus and the texts are sent from here; ids and decoded strings come back as plain data
and are judged here: exact round trips, the unknown token, vocabulary sizes, and that BPE's
merges are the frequent pairs and shorten the encoding.
"""

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
def test_char_roundtrip(student):
    student.exec(f"{IMPORT}\ntok = CharTokenizer({CORPUS!r})")
    for text in (CORPUS, TEXT, ""):
        ids = roundtrip(student, "tok", text)
        assert_equal(len(ids), len(text), what=f"len(tok.encode(text)) for a text of {len(text)} "
                     "characters")


@check("tokenization.char.vocabulary", "CharTokenizer has one id per distinct character plus "
       "the unknown token, the same ids for the same set of characters", "public")
def test_char_vocabulary(student):
    shuffled = "".join(sorted(CORPUS, key=lambda ch: (CORPUS.count(ch), ch)))
    student.exec(f"{IMPORT}\ntok = CharTokenizer({CORPUS!r})\nagain = CharTokenizer({shuffled!r})")
    alphabet = set(CORPUS)
    assert_equal(student.eval("tok.vocab_size"), len(alphabet) + 1,
                 what=f"vocab_size for a corpus of {len(alphabet)} distinct characters")
    tokens = vocabulary(student, "tok")
    assert_equal(sorted(t for t in tokens if t in alphabet), sorted(alphabet),
                 what="the characters of the vocabulary")
    assert_equal(student.eval(f"again.encode({TEXT!r}) == tok.encode({TEXT!r})"), True,
                 what="the ids from a tokenizer built on the same characters in another order")


@check("tokenization.char.unknown", "a character not in the corpus encodes to unk_id and "
       "decodes to U+FFFD", "public")
def test_char_unknown(student):
    student.exec(f"{IMPORT}\ntok = CharTokenizer('abc ')\nids = tok.encode('a\u00e9 c')")
    unk = student.eval("tok.unk_id")
    assert_equal(student.eval("ids")[1], unk, what="the id of an unseen character")
    assert_equal(student.eval("tok.decode(ids)"), f"a{UNKNOWN} c",
                 what="tok.decode(tok.encode('a\u00e9 c'))")


@check("tokenization.bpe.roundtrip", "BPETokenizer(120).train(corpus): decode(encode(text)) "
       "gives back the corpus and new text, spaces, tabs and newlines included", "public")
def test_bpe_roundtrip(student):
    student.exec(f"{IMPORT}\nbpe = BPETokenizer(120).train({CORPUS!r})")
    for text in (CORPUS, TEXT, "  the\t\tcat\n\n sat  ", "x"):
        roundtrip(student, "bpe", text)


@check("tokenization.bpe.compresses", "BPE encodes the corpus in far fewer tokens than "
       "characters, and more merges never make it longer", "public")
def test_bpe_compresses(student):
    lengths = []
    for size in (60, 120, 240):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({CORPUS!r})")
        lengths.append(len(spelled_here(student, "bpe", CORPUS, f"BPETokenizer({size})")))
    if not lengths[0] >= lengths[1] >= lengths[2] or lengths[1] > 0.6 * len(CORPUS):
        raise AssertionError(f"BPE with vocab_size 60, 120, 240 encoded the {len(CORPUS)}-"
                             f"character corpus in {lengths} tokens: expected fewer tokens for "
                             "more merges, and at most 60% of the characters with 120")


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
def test_bpe_vocab_size(student):
    for size in (50, 100):
        student.exec(f"{IMPORT}\nbpe = BPETokenizer({size}).train({CORPUS!r})")
        assert_equal(student.eval("bpe.vocab_size"), size, what=f"BPETokenizer({size}).vocab_size")
        tokens = vocabulary(student, "bpe")
        assert_equal(len(set(tokens)), size, what=f"the number of distinct tokens of "
                     f"BPETokenizer({size})")
        ids = student.eval(f"bpe.encode({CORPUS!r})")
        if not all(type(i) is int and 0 <= i < size for i in ids):
            raise AssertionError(f"BPETokenizer({size}).encode gave ids outside [0, {size})")


MERGE_CORPUS = "axyzq bxyzr cxyzs dxyzt exyzu fxy"   # (x, y) 6 times, then (xy, z) 5 times


@check("tokenization.bpe.merges", "BPE's first merge is the most frequent pair, and the next "
       "merge can build on it (xy, then xyz)", "public")
def test_bpe_merges(student):
    alphabet = set(MERGE_CORPUS) | {UNKNOWN}
    student.exec(f"{IMPORT}\nbpe = BPETokenizer({len(alphabet) + 2}).train({MERGE_CORPUS!r})")
    learned = sorted(t for t in vocabulary(student, "bpe") if t not in alphabet)
    assert_equal(learned, ["xy", "xyz"], what="the tokens learned beyond the characters")
    assert_equal(len(student.eval("bpe.encode('axyzq')")), 3, what="len(bpe.encode('axyzq'))")


@check("tokenization.bpe.unknown", "BPE encodes a character it never saw as unk_id and the "
       "rest of the text still round-trips", "public")
def test_bpe_unknown(student):
    student.exec(f"{IMPORT}\nbpe = BPETokenizer(80).train({CORPUS!r})\n"
                 "ids = bpe.encode('the \u00e9cat')")
    assert_equal(student.eval("bpe.unk_id in ids"), True, what="whether unk_id is in the ids")
    assert_equal(student.eval("bpe.decode(ids)"), f"the {UNKNOWN}cat", what="the decoded text")
