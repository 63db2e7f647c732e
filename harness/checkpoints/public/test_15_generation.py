"""Module 15 - Generation: public checks (shipped to students with the starter).

Sampling is judged by the frequencies of many seeded draws (compared here with the softmax
NumPy gives); generation runs on a GPT whose weights are sent from here.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.public.test_13_attention import assign, literal
from harness.checkpoints.public.test_14_transformers import prefixed, random_gpt

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.autograd import no_grad\n"
          "from tinytorch.core.transformers import GPT\n"
          "from tinytorch.core.generation import KVCache, generate, sample_next")
LOGITS = np.array([1.0, 3.0, 2.0, 0.5, 2.5])
DRAWS = 4000


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sampled_frequencies(student, **options):
    """Frequencies of each token over DRAWS rows of LOGITS sampled in one seeded call."""
    args = ", ".join(f"{name}={value!r}" for name, value in options.items())
    student.exec(f"{IMPORT}\nlogits = np.tile({literal(LOGITS)}, ({DRAWS}, 1))\n"
                 f"tokens = sample_next(logits, np.random.default_rng(0), {args})")
    tokens = student.array("np.asarray(tokens)")
    assert_equal(list(tokens.shape), [DRAWS],
                 what=f"sample_next(logits of shape ({DRAWS}, 5)).shape")
    if tokens.dtype.kind not in "iu" or tokens.min() < 0 or tokens.max() >= LOGITS.size:
        raise AssertionError(f"sample_next should give token ids in 0..{LOGITS.size - 1}")
    return np.bincount(tokens, minlength=LOGITS.size) / DRAWS


def assert_distribution(frequencies, probabilities, what, draws=DRAWS):
    """Tokens of probability 0 never drawn; the others within 0.03 of their probability."""
    never = (probabilities == 0) & (frequencies > 0)
    if never.any():
        raise AssertionError(f"{what} drew token(s) {np.flatnonzero(never).tolist()}, which "
                             "should never be drawn")
    assert_array(frequencies, probabilities, rtol=0, atol=0.03,
                 what=f"the frequency of each token over {draws} draws of {what}")


@check("generation.sample.temperature", "sample_next draws from softmax(logits / temperature)",
       "public")
def test_sample_temperature(student):
    assert_distribution(sampled_frequencies(student, temperature=0.5), softmax(LOGITS / 0.5),
                        "sample_next(temperature=0.5)")


@check("generation.sample.top_k", "sample_next(top_k=2) only draws the 2 most likely tokens, "
       "in proportion", "public")
def test_sample_top_k(student):
    expected = np.zeros(5)
    expected[[1, 4]] = softmax(LOGITS[[1, 4]])
    assert_distribution(sampled_frequencies(student, temperature=1.0, top_k=2), expected,
                        "sample_next(top_k=2)")


@check("generation.sample.top_p", "sample_next(top_p=0.7) draws from the smallest set of most "
       "likely tokens whose probability reaches 0.7", "public")
def test_sample_top_p(student):
    probs = softmax(LOGITS)
    order = np.argsort(-probs)
    keep = order[:np.searchsorted(np.cumsum(probs[order]), 0.7) + 1]
    expected = np.zeros(5)
    expected[keep] = probs[keep] / probs[keep].sum()
    assert_distribution(sampled_frequencies(student, temperature=1.0, top_p=0.7), expected,
                        "sample_next(top_p=0.7)")


@check("generation.kv_cache.update", "a layer's KV cache appends new keys and values and "
       "returns all of them so far", "public")
def test_kv_cache_update(student):
    rng = np.random.default_rng(24)
    k1, v1, k2, v2 = (rng.normal(size=(1, 2, t, 3)).astype(np.float32) for t in (2, 2, 1, 1))
    student.exec(f"{IMPORT}\ncache = KVCache(2, 1, 2, 3, 5)\nwith no_grad():\n"
                 f"    cache.layer(0).update(Tensor({literal(k1)}), Tensor({literal(v1)}))\n"
                 f"    k, v = cache.layer(0).update(Tensor({literal(k2)}), Tensor({literal(v2)}))")
    assert_array(student.array("k"), np.concatenate([k1, k2], axis=2),
                 what="the keys returned by the second update (2 stored + 1 new)")
    assert_array(student.array("v"), np.concatenate([v1, v2], axis=2),
                 what="the values returned by the second update")
    assert_equal(student.eval("int(cache.length)"), 3, what="cache.length after 3 positions")


def build_gpt(student, seed, max_len=8):
    """GPT(13, 8, 2, 2, max_len) with weights sent from here, in eval mode, as ``model``."""
    student.exec(f"{IMPORT}\nmodel = GPT(13, 8, 2, 2, {max_len})\nmodel.eval()")
    assign(student, prefixed("model", random_gpt(seed, vocab=13, dim=8, layers=2,
                                                 max_len=max_len)))


@check("generation.greedy.argmax", "generate(temperature=0) appends the argmax of the model's "
       "last logits, step after step", "public")
def test_greedy_argmax(student):
    build_gpt(student, 25)
    ids = np.array([[3, 1, 4], [1, 5, 9]])
    generated = student.array(f"np.asarray(generate(model, {literal(ids)}, 4, temperature=0, "
                              "use_cache=False))")
    expected = ids
    for _ in range(4):
        logits = student.array(f"model({literal(expected)})")
        expected = np.concatenate([expected, logits[:, -1].argmax(axis=-1)[:, None]], axis=1)
    assert_array(generated, expected, what="generate(model, prompt (2, 3), 4, temperature=0)")


@check("generation.kv_cache.identical", "greedy generation with the KV cache gives the same "
       "tokens as without it, also past max_seq_len", "public")
def test_kv_cache_identical(student):
    build_gpt(student, 26)
    prompt = literal(np.array([[2, 7, 1], [8, 2, 8]]))
    cached = student.array(f"np.asarray(generate(model, {prompt}, 9, temperature=0))")
    uncached = student.array(f"np.asarray(generate(model, {prompt}, 9, temperature=0, "
                             "use_cache=False))")
    assert_array(cached, uncached, what="generate(..., use_cache=True) compared with "
                 "use_cache=False (12 tokens, max_seq_len 8)")


@check("generation.generate.shapes", "generate keeps the prompt, adds max_new_tokens, and "
       "returns (T,) for a (T,) prompt", "public")
def test_generate_shapes(student):
    build_gpt(student, 27)
    single = student.array("np.asarray(generate(model, np.array([4, 2]), 3, seed=0))")
    batch = student.array("np.asarray(generate(model, np.array([[4, 2], [1, 1]]), 3, seed=0))")
    assert_equal(list(single.shape), [5], what="generate(model, (2,) prompt, 3).shape")
    assert_equal(list(batch.shape), [2, 5], what="generate(model, (2, 2) prompt, 3).shape")
    assert_array(single[:2], [4, 2], what="the first two tokens (the prompt)")
    assert_array(batch[:, :2], [[4, 2], [1, 1]], what="the prompt part of a batch")
