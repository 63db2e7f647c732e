"""Module 15 - Generation: hidden checks (graders only): KV-cache speed, seeds, batches."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check, ratio_to_reference
from harness.checkpoints.inputs import literal
from harness.checkpoints.inputs_more import extreme_rows
from harness.checkpoints.public.test_15_generation import IMPORT, assert_distribution, build_gpt
from harness.checkpoints.public.test_16_kernels import softmax
from harness.checkpoints.perf import Workload
from harness.checkpoints.public.test_14_transformers import gpt, random_gpt

# Long enough that recomputing the sequence dominates (at 40 tokens of width 64, Python
# overhead did and the reference's speedup fell to 1.5x); the reference gets about 3x here.
SPEED_MODEL = dict(vocab=32, dim=96, layers=2, max_len=160)
CACHED = "generate(model, prompt, 120, temperature=0)"


def load_weights(session, params):
    """Send the weights (as arrays, not code) and copy them into ``model``'s parameters."""
    for index, (path, value) in enumerate(params.items()):
        session.put(f"_w{index}", value)
    session.exec("\n".join(f"model.{path}.data[...] = _w{index}"
                           for index, path in enumerate(params)))


@check("generation.kv_cache.speed", "generating 120 tokens with the KV cache is faster than "
       "without it and close to the reference's speed", "hidden")
def test_kv_cache_speed(student, reference, rng):
    # the same weights in both runners, a fresh prompt per repetition: greedy ids must agree
    setup = f"{IMPORT}\nmodel = GPT(32, 96, 2, 2, 160)\nmodel.eval()"
    weights = random_gpt(int(rng.integers(2**31)), **SPEED_MODEL)
    for session in (student, reference):
        session.exec(setup)
        load_weights(session, weights)
    work = Workload("", lambda rng: {"prompt": rng.integers(1, 32, size=8)},
                    f"np.asarray({CACHED})", what="120 greedy tokens with the cache")
    ratio = ratio_to_reference(student, reference, rng, work, repeat=3)
    # the cache's worth, against the reference without one (never the student's own times)
    reference.put("prompt", rng.integers(1, 32, size=8))
    uncached = min(reference.timed_eval(CACHED.replace(")", ", use_cache=False)"))[1]
                   for _ in range(2))
    speedup = uncached / (ratio * student.figures["reference_s"])
    student.figure("cache_speedup", round(speedup, 2))
    assert speedup >= 1.5, (f"with the cache, generation was only {speedup:.2f}x faster than "
                            "the reference without one (1.5x or more passes; the reference "
                            "with its cache gets about 3x)")
    assert ratio <= 5.0, f"cached generation took {ratio:.1f}x the reference's time (5x passes)"


@check("generation.sample.seeded", "generate with the same seed gives the same tokens; another "
       "seed gives others", "hidden")
def test_sample_seeded(student, rng):
    drawn = (int(rng.integers(2**31)), int(rng.integers(13)),
             [int(s) for s in rng.choice(10**6, size=2, replace=False)])
    for model_seed, token, (seed, other) in ((28, 1, (3, 4)), drawn):
        build_gpt(student, model_seed, max_len=32)
        runs = [student.array(f"np.asarray(generate(model, np.array([{token}]), 25, "
                              f"temperature=2.0, seed={s}))") for s in (seed, seed, other)]
        assert_array(runs[1], runs[0], what=f"a second run with seed={seed}")
        if np.array_equal(runs[2], runs[0]):
            raise AssertionError(f"seed={other} gave exactly the tokens of seed={seed} "
                                 "(25 tokens, temperature 2)")


def favouring(rows, vocab, favourites):
    """``rows`` logits over ``vocab`` tokens, each 9 on its favourite token and 0 elsewhere."""
    logits = np.zeros((rows, vocab))
    logits[np.arange(rows), favourites] = 9.0
    return logits


@check("generation.sample.rows", "sample_next samples each row of a batch from that row's own "
       "logits", "hidden")
def test_sample_rows(student, rng):
    """At temperature 0.5 a token other than a row's favourite has a chance below 1e-7."""
    vocab, rows = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    drawn = favouring(rows, vocab, rng.integers(0, vocab, rows)), int(rng.integers(2**31))
    for logits, seed in ((favouring(3, 4, [0, 3, 1]), 1), drawn):
        logits = np.tile(logits, (50, 1))
        student.exec(f"{IMPORT}\ntokens = sample_next({literal(logits)}, "
                     f"np.random.default_rng({seed}), temperature=0.5)")
        assert_array(student.array("np.asarray(tokens)"), logits.argmax(axis=1),
                     what="tokens sampled at temperature 0.5 from rows that strongly favour "
                     "one token")


@check("generation.kv_cache.batch", "cached greedy generation of a batch equals generating "
       "each sequence on its own", "hidden")
def test_kv_cache_batch(student, rng):
    drawn = (int(rng.integers(2**31)),
             rng.integers(0, 13, (int(rng.integers(2, 5)), int(rng.integers(1, 5)))),
             int(rng.integers(1, 6)))
    for seed, prompts, steps in ((29, np.array([[5, 6, 7], [12, 0, 3], [9, 9, 9]]), 4), drawn):
        build_gpt(student, seed)
        together = student.array(f"np.asarray(generate(model, {literal(prompts)}, {steps}, "
                                 "temperature=0))")
        alone = [student.array(f"np.asarray(generate(model, {literal(p)}, {steps}, "
                               "temperature=0))") for p in prompts]
        assert_array(together, np.stack(alone),
                     what=f"a batch of {len(prompts)} prompts, cached, greedy")


def row_frequencies(tokens, rows, vocab):
    """Token frequencies of each of ``rows`` logit rows repeated down a batch (row i at i, i +
    rows, ...)."""
    tokens = np.asarray(tokens).reshape(-1, rows)
    return np.stack([np.bincount(tokens[:, r], minlength=vocab) / len(tokens)
                     for r in range(rows)])


def kept(logits, top_k=None, top_p=None):
    """The sampling distribution of each row after top_k / top_p, computed here."""
    probs = softmax(np.asarray(logits, dtype=np.float64))
    if top_k is not None and top_k < logits.shape[-1]:   # a larger top_k keeps every token
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        probs = np.where(logits < kth, 0.0, probs)
    if top_p is not None:
        order = np.argsort(-probs, axis=-1, kind="stable")
        ranked = np.take_along_axis(probs / probs.sum(-1, keepdims=True), order, axis=-1)
        drop = np.zeros(probs.shape, bool)
        np.put_along_axis(drop, order, np.cumsum(ranked, axis=-1) - ranked >= top_p, axis=-1)
        probs = np.where(drop, 0.0, probs)
    return probs / probs.sum(-1, keepdims=True)


def assert_rows_sampled(student, logits, what, copies=10000, **options):
    """sample_next over ``copies`` copies of each row of ``logits``: each row's frequencies
    must follow its own distribution (after the options)."""
    args = "".join(f", {name}={value!r}" for name, value in options.items())
    tokens = student.array(f"np.asarray(sample_next(np.tile({literal(logits)}, ({copies}, 1)), "
                           f"np.random.default_rng(7){args}))")
    expected = kept(np.asarray(logits) / options.get("temperature", 1.0),
                    options.get("top_k"), options.get("top_p"))
    for r, (got, want) in enumerate(zip(row_frequencies(tokens, len(logits), logits.shape[1]),
                                        expected)):
        assert_distribution(got, want, f"{what}, row {r} ({logits[r].round(1).tolist()})",
                            copies)


@check("generation.sample.row_thresholds", "sample_next applies top_k and top_p to each row "
       "of a batch with that row's own threshold", "hidden")
def test_sample_row_thresholds(student, rng):
    logits = np.stack([rng.permutation([4.0, 3.0, 2.5, 0.0, -1.0]) + rng.normal(0, 0.2, 5)
                       for _ in range(3)])
    logits[1] -= 6.0    # a row far below the others: one threshold for all would empty it
    student.exec(IMPORT)
    assert_rows_sampled(student, logits, "sample_next(top_k=2)", temperature=1.0, top_k=2)
    assert_rows_sampled(student, logits, "sample_next(top_p=0.8)", temperature=1.5, top_p=0.8)


@check("generation.sample.extreme_logits", "sample_next stays exact for logits up to +-1000 "
       "and low temperatures (no overflow, no NaN)", "hidden")
def test_sample_extreme_logits(student, rng):
    logits = extreme_rows(rng, 4, 5)
    student.exec(IMPORT)
    for temperature in (1.0, 0.25):
        assert_rows_sampled(student, logits, f"sample_next(temperature={temperature})",
                            temperature=temperature)


STAND_IN = """class StandIn:
    '''The mode switches generate uses on a model, for the stand-ins below.'''
    training = True
    def eval(self):
        self.training = False
        return self
    def train(self, mode=True):
        self.training = mode
        return self
"""
FIXED_MODEL = STAND_IN + """class FixedLogits(StandIn):
    '''A stand-in model whose next-token logits are always the same row.'''
    max_seq_len = 64
    def __init__(self, logits):
        self.logits = np.asarray(logits)
    def __call__(self, ids, cache=None):
        ids = np.asarray(getattr(ids, 'data', ids))
        return Tensor(np.broadcast_to(self.logits, ids.shape + self.logits.shape).copy())
"""


@check("generation.generate.sampling_options", "generate passes temperature, top_k and top_p "
       "on to sampling and draws every step afresh from its seeded generator", "hidden")
def test_generate_sampling_options(student, rng):
    logits = rng.permutation([2.0, 1.2, 0.9, 0.0, -0.5, -2.0]) + rng.normal(0, 0.1, 6)
    student.exec(f"{IMPORT}\n{FIXED_MODEL}model = FixedLogits({literal(logits)})\n"
                 "prompt = np.zeros((4000, 1), dtype=np.int64)")
    for options in ({"temperature": 1.5, "top_k": 3}, {"temperature": 0.7, "top_p": 0.75}):
        args = "".join(f", {name}={value!r}" for name, value in options.items())
        call = f"generate(model, prompt, 3{args}, seed={int(rng.integers(1000))}, use_cache=False)"
        new = student.array(f"np.asarray({call})")[:, 1:]
        expected = kept(logits[None] / options["temperature"], options.get("top_k"),
                        options.get("top_p"))[0]
        assert_distribution(np.bincount(new.ravel(), minlength=6) / new.size, expected,
                            f"generate(...{args})", new.size)
        repeats = np.mean(np.all(new == new[:, :1], axis=1))
        if repeats > (expected ** 3).sum() + 0.15:
            raise AssertionError(f"{repeats:.0%} of the rows of {call} repeat one token 3 "
                                 f"times (about {(expected ** 3).sum():.0%} expected): each step "
                                 "should draw new random numbers from the one seeded generator")
    assert_equal(student.eval("model.training"), True, what="model.training after generate")


@check("generation.generate.single_prompt_options", "generate with one (T,) prompt applies "
       "top_k and top_p to its single row as well", "hidden")
def test_generate_single_prompt_options(student, rng):
    logits = rng.permutation([2.0, 1.4, 1.0, 0.2, -0.5, -1.5]) + rng.normal(0, 0.1, 6)
    student.exec(f"{IMPORT}\n{FIXED_MODEL}model = FixedLogits({literal(logits)})")
    for options in ({"temperature": 1.0, "top_k": 2}, {"temperature": 1.2, "top_p": 0.6}):
        args = "".join(f", {name}={value!r}" for name, value in options.items())
        call = (f"generate(model, np.array([0]), 6000{args}, seed={int(rng.integers(1000))}, "
                "use_cache=False)")
        new = student.array(f"np.asarray({call})")[1:]
        expected = kept(logits[None] / options["temperature"], options.get("top_k"),
                        options.get("top_p"))[0]
        assert_distribution(np.bincount(new, minlength=6) / new.size, expected,
                            f"generate(model, (1,) prompt, 6000{args})", new.size)


WINDOW_MODEL = STAND_IN + """class WindowSum(StandIn):
    '''A stand-in model: after each position it favours the sum of the ids so far, modulo
    its vocabulary, and it refuses inputs longer than max_seq_len.'''
    def __init__(self, vocab, max_seq_len):
        self.vocab, self.max_seq_len = vocab, max_seq_len
    def __call__(self, ids, cache=None):
        ids = np.asarray(getattr(ids, 'data', ids))
        if ids.shape[1] > self.max_seq_len:
            raise ValueError(f'{ids.shape[1]} positions, max_seq_len is {self.max_seq_len}')
        out = np.zeros(ids.shape + (self.vocab,), dtype=np.float32)
        rows, cols = np.indices(ids.shape)
        out[rows, cols, np.cumsum(ids, axis=1) % self.vocab] = 1.0
        return Tensor(out)
"""


@check("generation.generate.window", "without the cache, each step of generate sees exactly "
       "the last max_seq_len tokens once the sequence is longer", "hidden")
def test_generate_window(student, rng):
    vocab, window = 11, 5
    prompt = rng.integers(0, vocab, size=(2, 3))
    student.exec(f"{IMPORT}\n{WINDOW_MODEL}model = WindowSum({vocab}, {window})")
    generated = student.array(f"np.asarray(generate(model, {literal(prompt)}, 10, "
                              "temperature=0, use_cache=False))")
    expected = prompt
    for _ in range(10):
        nxt = expected[:, -window:].sum(axis=1) % vocab
        expected = np.concatenate([expected, nxt[:, None]], axis=1)
    assert_array(generated, expected, what=f"generate(prompt (2, 3), 10, temperature=0, "
                 f"use_cache=False) with a model of max_seq_len {window} whose next token is "
                 f"the sum of the ids it sees, modulo {vocab}")


@check("generation.kv_cache.long_prompt", "with the KV cache, a prompt longer than max_seq_len "
       "is cut to its last max_seq_len tokens before the first step", "hidden")
def test_kv_cache_long_prompt(student, rng):
    seed, window = int(rng.integers(2**31)), 8
    build_gpt(student, seed, max_len=window)
    params = random_gpt(seed, vocab=13, dim=8, layers=2, max_len=window)
    prompt = rng.integers(0, 13, size=(32, 11))
    ids = student.array(f"np.asarray(generate(model, {literal(prompt)}, 3, temperature=0))")
    assert_array(ids[:, :11], prompt, what="the prompt part of generate's result")
    for step in range(11, 14):   # each greedy token is the argmax of the NumPy GPT's logits
        logits = gpt(ids[:, :step][:, -window:], params, 2)[:, -1]
        chosen = np.take_along_axis(logits, ids[:, step:step + 1], axis=1)[:, 0]
        if np.any(chosen < logits.max(axis=1) - 1e-4):
            raise AssertionError(f"token {step} of generate(prompt of 11 tokens, 3, "
                                 f"temperature=0) with the cache is {ids[:, step].tolist()}, not "
                                 f"the argmax given the last {window} tokens "
                                 f"({logits.argmax(axis=1).tolist()})")


@check("generation.sample.argument_edges", "sample_next with top_k above the vocabulary or "
       "top_p=1 samples from the whole softmax, and never changes the caller's logits",
       "hidden")
def test_sample_argument_edges(student, rng):
    logits = rng.normal(0, 1.5, (2, 5))
    student.exec(IMPORT)
    assert_rows_sampled(student, logits, "sample_next(top_k=8) over 5 tokens", temperature=0.8,
                        top_k=8)
    assert_rows_sampled(student, logits, "sample_next(top_p=1.0)", temperature=1.3, top_p=1.0)
    student.exec(f"logits = {literal(logits)}\n"
                 "_ = sample_next(logits, np.random.default_rng(2), temperature=0.5, top_k=3, "
                 "top_p=0.9)")
    assert_array(student.array("logits"), logits, dtype=np.float64, rtol=0, atol=0,
                 what="a float64 logits array after sample_next(logits, rng, temperature=0.5, "
                 "top_k=3, top_p=0.9) (it must not be changed in place)")
