"""Module 13 - Attention: hidden checks (graders only): no peeking, padding, gradients.

Gradients are compared with central finite differences of the NumPy attention of the public
suite, computed here in float64.
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import literal
from harness.checkpoints.inputs_more import LIST_CACHE
from harness.checkpoints.public.test_07_autograd import numeric_grad
from harness.checkpoints.public.test_13_attention import (IMPORT, attention, build_mha,
                                                           multi_head, random_projections)


def assert_gradients(student, loss, inputs, what, rtol=1e-4, atol=1e-6):
    """Each ``<name>.grad`` in the runner against central differences of ``loss(**inputs)``."""
    for name, value in inputs.items():
        expected = numeric_grad(lambda changed: loss(**{**inputs, name: changed}), value)
        assert_array(student.array(f"{name}.grad"), expected, rtol=rtol, atol=atol,
                     what=f"{name}.grad of {what}")


def assert_no_peeking(before, after, position):
    """Outputs (batch, T, ...) before and after changing the input at ``position``: the
    earlier positions must be identical, the later ones must have changed."""
    assert_array(after[:, :position], before[:, :position], rtol=0, atol=0,
                 what=f"the outputs at positions 0-{position - 1} after changing the input at "
                 f"position {position}")
    if np.allclose(after[:, position:], before[:, position:]):
        raise AssertionError(f"the outputs from position {position} on did not change when "
                             f"the input at position {position} did")


def drawn_weights(rng):
    """Projections of a MultiHeadAttention(8, 2) drawn per job."""
    return random_projections(int(rng.integers(2**31)))


@check("attention.causal_mask.no_peeking", "with a causal mask, changing token 3 changes no "
       "output before position 3", "hidden")
def test_causal_no_peeking(student, rng):
    steps = int(rng.integers(3, 9))
    drawn = (rng.normal(size=(2, steps, 8)), drawn_weights(rng), int(rng.integers(1, steps)))
    for x, weights, position in ((np.random.default_rng(3).normal(size=(2, 6, 8)),
                                  random_projections(4), 3), drawn):
        x = x.astype(np.float32)
        changed = x.copy()
        changed[:, position] += 5.0
        build_mha(student, weights, 2)
        student.exec(f"mask = causal_mask({x.shape[1]})\n"
                     f"y1 = mha(Tensor({literal(x)}), mask=mask)\n"
                     f"y2 = mha(Tensor({literal(changed)}), mask=mask)")
        assert_no_peeking(student.array("y1"), student.array("y2"), position)


@check("attention.padding_mask.ignores_pad", "padded positions get no attention: what they "
       "hold does not change the real positions' outputs", "hidden")
def test_padding_ignores_pad(student, rng):
    steps = int(rng.integers(2, 8))
    others = rng.integers(1, steps + 1, int(rng.integers(3))).tolist()
    lengths = [int(rng.integers(1, steps)), *others]      # the first row has padding
    drawn = rng.normal(size=(len(lengths), steps, 8)), drawn_weights(rng), lengths
    for x, weights, lengths in ((np.random.default_rng(5).normal(size=(2, 5, 8)),
                                 random_projections(6), [3, 5]), drawn):
        x, real = x.astype(np.float32), lengths[0]
        noisy = x.copy()
        noisy[0, real:] = 100.0
        build_mha(student, weights, 2)
        student.exec(f"mask = padding_mask({lengths}, {x.shape[1]})\n"
                     f"y1 = mha(Tensor({literal(x)}), mask=mask)\n"
                     f"y2 = mha(Tensor({literal(noisy)}), mask=mask)")
        keep = (np.arange(x.shape[1])[None, :] < np.array(lengths)[:, None])[:, None, None, :]
        expected = multi_head(x.astype(np.float64), weights, 2, keep)
        assert_array(student.array("y1"), expected, rtol=1e-4, atol=1e-5,
                     what=f"MultiHeadAttention with padding_mask({lengths}, {x.shape[1]})")
        assert_array(student.array("y2")[0, :real], student.array("y1")[0, :real], rtol=1e-5,
                     atol=1e-6, what="the real positions' outputs after changing the padding")


@check("attention.sdpa.heads_4d", "attention works on (batch, heads, T, d) inputs with a "
       "(T, T) mask broadcast over them", "hidden")
def test_sdpa_heads_4d(student, rng):
    for generator, sizes in ((np.random.default_rng(7), (2, 3, 4, 5)),
                             (rng, tuple(int(n) for n in rng.integers(1, 6, 4)))):
        q, k, v = (generator.normal(size=sizes) for _ in range(3))
        mask = np.tril(np.ones((sizes[2], sizes[2]), bool))
        student.exec(f"{IMPORT}\nout, w = scaled_dot_product_attention(Tensor({literal(q)}), "
                     f"Tensor({literal(k)}), Tensor({literal(v)}), mask={literal(mask)})")
        out, weights = attention(q, k, v, mask)
        assert_array(student.array("w"), weights, rtol=1e-4, atol=1e-6,
                     what=f"the {sizes[:3] + sizes[2:3]} weights")
        assert_array(student.array("out"), out, rtol=1e-4, atol=1e-5,
                     what=f"the {sizes} output")


@check("attention.sdpa.gradients", "gradients of masked attention w.r.t. Q, K and V match "
       "finite differences", "hidden")
def test_sdpa_gradients(student, rng):
    fixed = np.random.default_rng(8)
    batch, queries, d, dv = (int(n) for n in rng.integers(1, 5, 4))
    keys = queries + int(rng.integers(0, 3))
    for generator, (batch, queries, keys, d, dv) in ((fixed, (2, 3, 4, 4, 3)),
                                                     (rng, (batch, queries, keys, d, dv))):
        q, k, v = (generator.normal(size=(batch, t, width))
                   for t, width in ((queries, d), (keys, d), (keys, dv)))
        mask = np.tril(np.ones((queries, keys), bool), k=keys - queries)
        upstream = generator.normal(size=(batch, queries, dv))
        student.exec(f"{IMPORT}\nQ, K, V = (Tensor(a, dtype=np.float64, requires_grad=True) "
                     f"for a in ({literal(q)}, {literal(k)}, {literal(v)}))\n"
                     f"out, _ = scaled_dot_product_attention(Q, K, V, mask={literal(mask)})\n"
                     f"(out * Tensor({literal(upstream)}, dtype=np.float64)).sum().backward()")
        assert_gradients(student,
                         lambda Q, K, V: float((attention(Q, K, V, mask)[0] * upstream).sum()),
                         {"Q": q, "K": k, "V": v},
                         f"sum(attention(Q, K, V, mask) * G) for Q {q.shape}, V {v.shape}")


@check("attention.masked_fill.gradient", "masked_fill sets the masked entries and passes no "
       "gradient to them", "hidden")
def test_masked_fill_gradient(student, rng):
    shape = tuple(int(n) for n in rng.integers(1, 5, 2))
    drawn = (rng.normal(size=shape), rng.random(shape) < 0.5, round(float(rng.normal(0, 5)), 2),
             int(rng.integers(2, 9)))
    for x, mask, value, scale in ((np.arange(6.0).reshape(2, 3),
                                   np.array([[True, False, False], [False, False, True]]), -7.0,
                                   3), drawn):
        student.exec(f"{IMPORT}\nfrom tinytorch.core.attention import masked_fill\n"
                     f"x = Tensor({literal(x)}, requires_grad=True)\n"
                     f"y = masked_fill(x, {literal(mask)}, {value!r})\n"
                     f"(y * {scale}).sum().backward()")
        assert_array(student.array("y"), np.where(mask, value, x), dtype=np.float32,
                     what=f"masked_fill(x, mask, {value:g}) of a float32 x")
        assert_array(student.array("x.grad"), np.where(mask, 0.0, float(scale)),
                     what=f"x.grad of sum({scale} * y)")


@check("attention.mha.gradients", "MultiHeadAttention's gradient w.r.t. a batch of inputs "
       "matches finite differences", "hidden")
def test_mha_gradients(student, rng):
    fixed = np.random.default_rng(10)
    for weights, generator, steps in ((random_projections(9), fixed, 3),
                                      (drawn_weights(rng), rng, int(rng.integers(2, 5)))):
        x, upstream = (generator.normal(size=(2, steps, 8)) for _ in range(2))   # batch > 1
        build_mha(student, weights, 2)
        student.exec(f"x = Tensor({literal(x)}, dtype=np.float64, requires_grad=True)\n"
                     f"(mha(x, mask=causal_mask({steps})) * "
                     f"Tensor({literal(upstream)}, dtype=np.float64)).sum().backward()")
        mask = np.tril(np.ones((steps, steps), bool))
        assert_gradients(student,
                         lambda x: float((multi_head(x, weights, 2, mask) * upstream).sum()),
                         {"x": x}, "sum(MultiHeadAttention(8, 2)(x, causal mask) * G)",
                         rtol=1e-3, atol=1e-5)


def sdpa_cases(rng):
    """(q, k, v, mask): one query or one key, d != dv, leading dims of size 1 or broadcast
    between Q and K/V, masks broadcast on leading and query axes, and scores up to ~1e3."""
    def normal(*shape, scale=1.0):
        return rng.normal(0, scale, shape)

    keep = rng.random((3, 1, 5)) < 0.7
    keep[:, :, 0] = True
    return [(normal(1, 4), normal(6, 4), normal(6, 2), None),
            (normal(2, 5, 3), normal(2, 1, 3), normal(2, 1, 7), None),
            (normal(3, 4, 2), normal(1, 5, 2), normal(1, 5, 3), keep),
            (normal(2, 1, 3, 4), normal(2, 3, 3, 4), normal(2, 3, 3, 1),
             np.tril(np.ones((3, 3), bool))),
            (normal(2, 3, 6, scale=40.0), normal(2, 4, 6, scale=40.0), normal(2, 4, 5),
             np.tril(np.ones((3, 4), bool), k=1))]


@check("attention.sdpa.shapes", "attention is exact for one query or key, d != dv, leading "
       "dims broadcast between Q and K/V, broadcast masks and scores up to ~1000", "hidden")
def test_sdpa_shapes(student, rng):
    student.exec(IMPORT)
    for q, k, v, mask in sdpa_cases(rng):
        student.exec(f"out, w = scaled_dot_product_attention(Tensor({literal(q)}, dtype=np.float64),"
                     f" Tensor({literal(k)}, dtype=np.float64), Tensor({literal(v)}, "
                     "dtype=np.float64)" + (f", mask={literal(mask)})" if mask is not None else ")"))
        out, weights = attention(q, k, v, mask)
        what = (f"attention(Q {q.shape}, K {k.shape}, V {v.shape}"
                + (f", mask {mask.shape})" if mask is not None else ")")
                + f" with scores up to {np.abs(q @ np.swapaxes(k, -1, -2)).max() / np.sqrt(q.shape[-1]):.0f}")
        assert_array(student.array("w"), weights, rtol=1e-5, atol=1e-7, what=f"the weights of {what}")
        assert_array(student.array("out"), out, rtol=1e-5, atol=1e-7, what=f"the output of {what}")


@check("attention.mha.cached_steps", "MultiHeadAttention fed in chunks through a key/value cache "
       "(with causal_mask(new, total)) gives the outputs of one causal pass", "hidden")
def test_mha_cached_steps(student, rng):
    weights = random_projections(int(rng.integers(1000)))
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    build_mha(student, weights, 2)
    student.exec(f"{LIST_CACHE}x = Tensor({literal(x)})\ncache = ListCache(1).layer(0)\n"
                 "chunks = [mha(x[:, 0:3], mask=causal_mask(3), cache=cache),\n"
                 "          mha(x[:, 3:5], mask=causal_mask(2, 5), cache=cache),\n"
                 "          mha(x[:, 5:6], cache=cache)]")
    expected = multi_head(x.astype(np.float64), weights, 2, np.tril(np.ones((6, 6), bool)))
    for number, (a, b) in enumerate(((0, 3), (3, 5), (5, 6))):
        assert_array(student.array(f"chunks[{number}]"), expected[:, a:b], rtol=1e-4, atol=1e-5,
                     what=f"the outputs of positions {a}-{b - 1} fed after {a} cached positions")
