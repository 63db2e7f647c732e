"""Module 15 - Generation: public checks (shipped to students with the starter).

Sampling is judged by the frequencies of many seeded draws (compared here with the softmax
NumPy gives); generation runs on a GPT whose weights are sent from here.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import floats, literal
from harness.checkpoints.public.test_13_attention import assign
from harness.checkpoints.public.test_14_transformers import prefixed, random_gpt

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.autograd import no_grad\n"
          "from tinytorch.core.transformers import GPT\n"
          "from tinytorch.core.generation import KVCache, generate, sample_next")
LOGITS = np.array([1.0, 3.0, 2.0, 0.5, 2.5])
DRAWS = 4000
PER_JOB_DRAWS = 20000


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sampled_frequencies(student, logits=LOGITS, draws=DRAWS, seed=0, **options):
    """Frequencies of each token over ``draws`` rows of ``logits`` sampled in one call with a
    generator of ``seed``."""
    args = ", ".join(f"{name}={value!r}" for name, value in options.items())
    student.exec(f"{IMPORT}\nlogits = np.tile({literal(logits)}, ({draws}, 1))\n"
                 f"tokens = sample_next(logits, np.random.default_rng({seed}), {args})")
    tokens = student.array("np.asarray(tokens)")
    assert_equal(list(tokens.shape), [draws],
                 what=f"sample_next(logits of shape ({draws}, {logits.size})).shape")
    if tokens.dtype.kind not in "iu" or tokens.min() < 0 or tokens.max() >= logits.size:
        raise AssertionError(f"sample_next should give token ids in 0..{logits.size - 1}")
    return np.bincount(tokens, minlength=logits.size) / draws


def assert_distribution(frequencies, probabilities, what, draws=DRAWS):
    """Tokens of probability 0 never drawn; the others within 0.03 of their probability."""
    never = (probabilities == 0) & (frequencies > 0)
    if never.any():
        raise AssertionError(f"{what} drew token(s) {np.flatnonzero(never).tolist()}, which "
                             "should never be drawn")
    assert_array(frequencies, probabilities, rtol=0, atol=0.03,
                 what=f"the frequency of each token over {draws} draws of {what}")


def assert_drawn(student, rng, expected, what, **options):
    """sample_next(**options) on 3-8 logits drawn from ``rng``, in PER_JOB_DRAWS draws from a
    seed drawn too (0.03 is over 8 standard deviations of a frequency there), draws each token
    with the probability ``expected(logits)`` gives."""
    logits = rng.normal(0, 1.5, int(rng.integers(3, 9)))
    frequencies = sampled_frequencies(student, logits, PER_JOB_DRAWS, int(rng.integers(2**31)),
                                      **options)
    assert_distribution(frequencies, expected(logits),
                        f"{what} from logits {logits.round(2).tolist()}", PER_JOB_DRAWS)


@check("generation.sample.temperature", "sample_next draws from softmax(logits / temperature)",
       "public")
def test_sample_temperature(student, rng):
    assert_distribution(sampled_frequencies(student, temperature=0.5), softmax(LOGITS / 0.5),
                        "sample_next(temperature=0.5)")
    temperature = round(float(rng.uniform(0.3, 3.0)), 2)
    assert_drawn(student, rng, lambda logits: softmax(logits / temperature),
                 f"sample_next(temperature={temperature})", temperature=temperature)


def top_k_kept(logits, top_k):
    """softmax over the ``top_k`` largest logits, 0 elsewhere."""
    keep = np.argsort(-logits)[:top_k]
    expected = np.zeros(logits.size)
    expected[keep] = softmax(logits[keep])
    return expected


@check("generation.sample.top_k", "sample_next(top_k=2) only draws the 2 most likely tokens, "
       "in proportion", "public")
def test_sample_top_k(student, rng):
    assert_distribution(sampled_frequencies(student, temperature=1.0, top_k=2),
                        top_k_kept(LOGITS, 2), "sample_next(top_k=2)")
    top_k = int(rng.integers(1, 4))     # of 3-8 drawn tokens
    assert_drawn(student, rng, lambda logits: top_k_kept(logits, top_k),
                 f"sample_next(top_k={top_k})", temperature=1.0, top_k=top_k)


def top_p_kept(logits, top_p):
    """softmax(logits) over the smallest set of most likely tokens whose probability reaches
    ``top_p``, 0 elsewhere."""
    probs = softmax(logits)
    order = np.argsort(-probs)
    keep = order[:np.searchsorted(np.cumsum(probs[order]), top_p) + 1]
    expected = np.zeros(logits.size)
    expected[keep] = probs[keep] / probs[keep].sum()
    return expected


@check("generation.sample.top_p", "sample_next(top_p=0.7) draws from the smallest set of most "
       "likely tokens whose probability reaches 0.7", "public")
def test_sample_top_p(student, rng):
    assert_distribution(sampled_frequencies(student, temperature=1.0, top_p=0.7),
                        top_p_kept(LOGITS, 0.7), "sample_next(top_p=0.7)")
    top_p = round(float(rng.uniform(0.3, 0.95)), 2)
    assert_drawn(student, rng, lambda logits: top_p_kept(logits, top_p),
                 f"sample_next(top_p={top_p})", temperature=1.0, top_p=top_p)


def assert_cache_update(student, cache, layer, k1, v1, k2, v2, length):
    """``cache`` (code making a KVCache) given k1, v1 then k2, v2 at ``layer``: the second
    update returns all of them, and ``length`` (an expression) counts them."""
    student.exec(f"{IMPORT}\ncache = {cache}\nwith no_grad():\n"
                 f"    cache.layer({layer}).update(Tensor({literal(k1)}), Tensor({literal(v1)}))\n"
                 f"    k, v = cache.layer({layer}).update(Tensor({literal(k2)}), "
                 f"Tensor({literal(v2)}))")
    stored, new = k1.shape[2], k2.shape[2]
    assert_array(student.array("k"), np.concatenate([k1, k2], axis=2),
                 what=f"the keys returned by the second update ({stored} stored + {new} new)")
    assert_array(student.array("v"), np.concatenate([v1, v2], axis=2),
                 what="the values returned by the second update")
    assert_equal(student.eval(f"int({length})"), stored + new,
                 what=f"{length} after {stored + new} positions")


@check("generation.kv_cache.update", "a layer's KV cache appends new keys and values and "
       "returns all of them so far", "public")
def test_kv_cache_update(student, rng):
    fixed = np.random.default_rng(24)
    k1, v1, k2, v2 = (fixed.normal(size=(1, 2, t, 3)).astype(np.float32) for t in (2, 2, 1, 1))
    assert_cache_update(student, "KVCache(2, 1, 2, 3, 5)", 0, k1, v1, k2, v2, "cache.length")
    layers, batch, heads, head_dim, first, second = (int(n) for n in rng.integers(1, 4, 6))
    layer, room = int(rng.integers(layers)), int(rng.integers(3))
    k1, v1, k2, v2 = (floats(rng, (batch, heads, t, head_dim))
                      for t in (first, first, second, second))
    assert_cache_update(student, f"KVCache({layers}, {batch}, {heads}, {head_dim}, "
                        f"{first + second + room})", layer, k1, v1, k2, v2,
                        f"cache.layer({layer}).length")


def build_gpt(student, seed, max_len=8):
    """GPT(13, 8, 2, 2, max_len) with weights sent from here, in eval mode, as ``model``."""
    student.exec(f"{IMPORT}\nmodel = GPT(13, 8, 2, 2, {max_len})\nmodel.eval()")
    assign(student, prefixed("model", random_gpt(seed, vocab=13, dim=8, layers=2,
                                                 max_len=max_len)))


def drawn_prompt(rng, longest):
    """A GPT seed and a (batch, T) prompt of 1-3 rows and 1-``longest`` tokens, per job."""
    return int(rng.integers(2**31)), rng.integers(0, 13, (int(rng.integers(1, 4)),
                                                          int(rng.integers(1, longest + 1))))


@check("generation.greedy.argmax", "generate(temperature=0) appends the argmax of the model's "
       "last logits, step after step", "public")
def test_greedy_argmax(student, rng):
    for seed, ids, steps in ((25, np.array([[3, 1, 4], [1, 5, 9]]), 4),
                             (*drawn_prompt(rng, 4), int(rng.integers(1, 5)))):
        build_gpt(student, seed)
        generated = student.array(f"np.asarray(generate(model, {literal(ids)}, {steps}, "
                                  "temperature=0, use_cache=False))")
        expected = ids
        for _ in range(steps):
            logits = student.array(f"model({literal(expected)})")
            expected = np.concatenate([expected, logits[:, -1].argmax(axis=-1)[:, None]], axis=1)
        assert_array(generated, expected,
                     what=f"generate(model, prompt {ids.shape}, {steps}, temperature=0)")


@check("generation.kv_cache.identical", "greedy generation with the KV cache gives the same "
       "tokens as without it, also past max_seq_len", "public")
def test_kv_cache_identical(student, rng):
    for seed, ids, steps in ((26, np.array([[2, 7, 1], [8, 2, 8]]), 9),
                             (*drawn_prompt(rng, 5), int(rng.integers(4, 11)))):
        build_gpt(student, seed)
        prompt = literal(ids)
        cached = student.array(f"np.asarray(generate(model, {prompt}, {steps}, temperature=0))")
        uncached = student.array(f"np.asarray(generate(model, {prompt}, {steps}, temperature=0, "
                                 "use_cache=False))")
        assert_array(cached, uncached, what="generate(..., use_cache=True) compared with "
                     f"use_cache=False ({ids.shape[1] + steps} tokens, max_seq_len 8)")


@check("generation.generate.shapes", "generate keeps the prompt, adds max_new_tokens, and "
       "returns (T,) for a (T,) prompt", "public")
def test_generate_shapes(student, rng):
    seed, batch = drawn_prompt(rng, 4)
    drawn = (seed, batch[0], np.vstack([batch, batch[::-1]]), int(rng.integers(1, 5)),
             int(rng.integers(2**31)))
    for seed, single, batch, steps, sample_seed in (
            (27, np.array([4, 2]), np.array([[4, 2], [1, 1]]), 3, 0), drawn):
        build_gpt(student, seed)
        single_out, batch_out = (
            student.array(f"np.asarray(generate(model, np.array({prompt.tolist()}), {steps}, "
                          f"seed={sample_seed}))") for prompt in (single, batch))
        length = single.size + steps
        assert_equal(list(single_out.shape), [length],
                     what=f"generate(model, {single.shape} prompt, {steps}).shape")
        assert_equal(list(batch_out.shape), [len(batch), length],
                     what=f"generate(model, {batch.shape} prompt, {steps}).shape")
        assert_array(single_out[:single.size], single,
                     what=f"the first {single.size} tokens (the prompt)")
        assert_array(batch_out[:, :single.size], batch, what="the prompt part of a batch")
