"""Module 13: attention values, masks, gradients under masking, and multi-head attention."""

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tests.tinytorch.precision import to_float64
from tinytorch import Tensor
from tinytorch.core.attention import (MultiHeadAttention, causal_mask, masked_fill, merge_heads, padding_mask,
                                      scaled_dot_product_attention, split_heads)


def reference_attention(q, k, v, allowed):
    """Loop-per-query NumPy reference."""
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for idx in np.ndindex(q.shape[:-1]):
        *lead, i = idx
        scores = k[tuple(lead)] @ q[idx] / np.sqrt(q.shape[-1])
        ok = np.broadcast_to(allowed, q.shape[:-1] + (k.shape[-2],))[idx]
        if ok.any():
            w = np.exp(scores[ok] - scores[ok].max())
            out[idx] = (w / w.sum()) @ v[tuple(lead)][ok]
    return out


def test_masks_have_the_documented_shapes_and_values():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(causal_mask(1, 4), [[1, 1, 1, 1]])  # the newest query sees everything
    np.testing.assert_array_equal(causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])
    pad = padding_mask([2, 0, 3], 3)
    assert pad.shape == (3, 1, 3)
    np.testing.assert_array_equal(pad[:, 0], [[1, 1, 0], [0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match="lengths"):
        padding_mask([4], 3)
    with pytest.raises(ValueError, match="queries"):
        causal_mask(3, 2)


def test_attention_matches_a_loop_reference_under_causal_and_padding_masks():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 4, 3)) for _ in range(3))
    allowed = causal_mask(4) & padding_mask([4, 2], 4)
    out, weights = scaled_dot_product_attention(Tensor(q, dtype=np.float64), Tensor(k, dtype=np.float64),
                                                Tensor(v, dtype=np.float64), allowed)
    np.testing.assert_allclose(out.data, reference_attention(q, k, v, allowed), atol=1e-12)
    np.testing.assert_allclose(weights.data.sum(-1), 1)
    assert np.all(weights.data[~np.broadcast_to(allowed, weights.shape)] == 0)


def test_a_fully_masked_row_gives_zeros_not_nan_in_forward_and_backward():
    rng = np.random.default_rng(1)
    q, k, v = (random_tensor(rng, 1, 3, 2) for _ in range(3))
    allowed = np.array([[True, False, False], [False, False, False], [True, True, False]])
    out, weights = scaled_dot_product_attention(q, k, v, allowed)
    out.sum().backward()
    assert not np.isnan(out.data).any() and not np.isnan(q.grad).any() and not np.isnan(k.grad).any()
    np.testing.assert_array_equal(out.data[0, 1], 0)
    np.testing.assert_array_equal(weights.data[0, 1], 0)


def test_attention_gradients_with_masks_match_finite_differences():
    rng = np.random.default_rng(2)
    q, k, v = random_tensor(rng, 2, 3, 4), random_tensor(rng, 2, 5, 4), random_tensor(rng, 2, 5, 2)
    allowed = causal_mask(3, 5) & padding_mask([5, 3], 5)
    allowed[1, 0, :] = False  # one fully masked query row too
    assert_gradients_match(lambda q, k, v: scaled_dot_product_attention(q, k, v, allowed)[0], q, k, v)


def test_masked_fill_fills_and_blocks_the_gradient():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, dtype=np.float64)
    mask = np.array([True, False, True])  # broadcasts over rows
    out = masked_fill(x, mask, -1.0)
    np.testing.assert_array_equal(out.data, [[-1, 1, -1], [-1, 4, -1]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 1, 0]])


def test_split_and_merge_heads_are_inverse_and_differentiable():
    rng = np.random.default_rng(3)
    x = random_tensor(rng, 6, 4)  # batch 2, T 3, 2 heads of 2
    heads = split_heads(x, batch=2, num_heads=2)
    assert heads.shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(heads.data[1, 1, 2], x.data[5, 2:])
    np.testing.assert_array_equal(merge_heads(heads).data, x.data)
    w = Tensor(rng.normal(size=(2, 2, 3, 2)), dtype=np.float64)
    assert_gradients_match(lambda x: merge_heads(split_heads(x, 2, 2) * w), x)


def test_multi_head_attention_shapes_causality_and_gradients():
    rng = np.random.default_rng(4)
    mha = to_float64(MultiHeadAttention(embed_dim=6, num_heads=3))
    x = random_tensor(rng, 2, 4, 6)
    out = mha(x, mask=causal_mask(4))
    assert out.shape == (2, 4, 6) and mha.last_weights.shape == (2, 3, 4, 4)
    changed = x.data.copy()
    changed[:, 3] += 1.0  # the future must not leak into earlier positions
    np.testing.assert_allclose(mha(Tensor(changed, dtype=np.float64), mask=causal_mask(4)).data[:, :3],
                               out.data[:, :3], atol=1e-12)
    params = [p for p in mha.parameters()]
    assert len(params) == 8
    assert_gradients_match(lambda x, *ps: mha(x, mask=padding_mask([4, 2], 4)), x, *params[:2], params[-2])


def test_multi_head_attention_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(6, 4)
    with pytest.raises(ValueError, match="expects"):
        MultiHeadAttention(6, 3)(Tensor(np.zeros((2, 6))))
