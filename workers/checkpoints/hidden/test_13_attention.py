"""Module 13 - Attention: hidden checks (graders only): no peeking, padding, gradients.

Gradients are compared with central finite differences of the NumPy attention of the public
suite, computed here in float64.
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs_more import LIST_CACHE
from harness.checkpoints.public.test_07_autograd import numeric_grad
from harness.checkpoints.public.test_13_attention import (IMPORT, attention, build_mha, literal,
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


@check("attention.causal_mask.no_peeking", "with a causal mask, changing token 3 changes no "
       "output before position 3", "hidden")
def test_causal_no_peeking(student):
    x = np.random.default_rng(3).normal(size=(2, 6, 8)).astype(np.float32)
    changed = x.copy()
    changed[:, 3] += 5.0
    build_mha(student, random_projections(4), 2)
    student.exec(f"mask = causal_mask(6)\ny1 = mha(Tensor({literal(x)}), mask=mask)\n"
                 f"y2 = mha(Tensor({literal(changed)}), mask=mask)")
    assert_no_peeking(student.array("y1"), student.array("y2"), 3)


@check("attention.padding_mask.ignores_pad", "padded positions get no attention: what they "
       "hold does not change the real positions' outputs", "hidden")
def test_padding_ignores_pad(student):
    x = np.random.default_rng(5).normal(size=(2, 5, 8)).astype(np.float32)
    noisy = x.copy()
    noisy[0, 3:] = 100.0
    weights = random_projections(6)
    build_mha(student, weights, 2)
    student.exec(f"mask = padding_mask([3, 5], 5)\ny1 = mha(Tensor({literal(x)}), mask=mask)\n"
                 f"y2 = mha(Tensor({literal(noisy)}), mask=mask)")
    keep = (np.arange(5)[None, :] < np.array([3, 5])[:, None])[:, None, None, :]
    expected = multi_head(x.astype(np.float64), weights, 2, keep)
    assert_array(student.array("y1"), expected, rtol=1e-4, atol=1e-5,
                 what="MultiHeadAttention with padding_mask([3, 5], 5)")
    assert_array(student.array("y2")[0, :3], student.array("y1")[0, :3], rtol=1e-5, atol=1e-6,
                 what="the real positions' outputs after changing the padding")


@check("attention.sdpa.heads_4d", "attention works on (batch, heads, T, d) inputs with a "
       "(T, T) mask broadcast over them", "hidden")
def test_sdpa_heads_4d(student):
    rng = np.random.default_rng(7)
    q, k, v = (rng.normal(size=(2, 3, 4, 5)) for _ in range(3))
    mask = np.tril(np.ones((4, 4), bool))
    student.exec(f"{IMPORT}\nout, w = scaled_dot_product_attention(Tensor({literal(q)}), "
                 f"Tensor({literal(k)}), Tensor({literal(v)}), mask={literal(mask)})")
    out, weights = attention(q, k, v, mask)
    assert_array(student.array("w"), weights, rtol=1e-4, atol=1e-6, what="the (2, 3, 4, 4) weights")
    assert_array(student.array("out"), out, rtol=1e-4, atol=1e-5, what="the (2, 3, 4, 5) output")


@check("attention.sdpa.gradients", "gradients of masked attention w.r.t. Q, K and V match "
       "finite differences", "hidden")
def test_sdpa_gradients(student):
    rng = np.random.default_rng(8)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 3))
    mask, upstream = np.tril(np.ones((3, 4), bool), k=1), rng.normal(size=(2, 3, 3))
    student.exec(f"{IMPORT}\nQ, K, V = (Tensor(a, dtype=np.float64, requires_grad=True) for a in "
                 f"({literal(q)}, {literal(k)}, {literal(v)}))\n"
                 f"out, _ = scaled_dot_product_attention(Q, K, V, mask={literal(mask)})\n"
                 f"(out * Tensor({literal(upstream)}, dtype=np.float64)).sum().backward()")

    assert_gradients(student, lambda Q, K, V: float((attention(Q, K, V, mask)[0] * upstream).sum()),
                     {"Q": q, "K": k, "V": v}, "sum(attention(Q, K, V, mask) * G)")


@check("attention.masked_fill.gradient", "masked_fill sets the masked entries and passes no "
       "gradient to them", "hidden")
def test_masked_fill_gradient(student):
    x = np.arange(6.0).reshape(2, 3)
    mask = np.array([[True, False, False], [False, False, True]])
    student.exec(f"{IMPORT}\nfrom tinytorch.core.attention import masked_fill\n"
                 f"x = Tensor({literal(x)}, requires_grad=True)\n"
                 f"y = masked_fill(x, {literal(mask)}, -7.0)\n(y * 3).sum().backward()")
    assert_array(student.array("y"), np.where(mask, -7.0, x), dtype=np.float32,
                 what="masked_fill(x, mask, -7) of a float32 x")
    assert_array(student.array("x.grad"), np.where(mask, 0.0, 3.0), what="x.grad of sum(3 * y)")


@check("attention.mha.gradients", "MultiHeadAttention's gradient w.r.t. a batch of inputs "
       "matches finite differences", "hidden")
def test_mha_gradients(student):
    weights = random_projections(9)
    rng = np.random.default_rng(10)
    x, upstream = rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 3, 8))   # batch > 1
    build_mha(student, weights, 2)
    student.exec(f"x = Tensor({literal(x)}, dtype=np.float64, requires_grad=True)\n"
                 f"(mha(x, mask=causal_mask(3)) * Tensor({literal(upstream)}, dtype=np.float64))"
                 ".sum().backward()")
    mask = np.tril(np.ones((3, 3), bool))
    assert_gradients(student, lambda x: float((multi_head(x, weights, 2, mask) * upstream).sum()),
                     {"x": x}, "sum(MultiHeadAttention(8, 2)(x, causal mask) * G)", rtol=1e-3,
                     atol=1e-5)


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
