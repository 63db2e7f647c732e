"""Module 12: embedding lookups, their sparse accumulated gradient, and positional encodings."""

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match
from tests.tinytorch.precision import to_float64
from tinytorch import Tensor
from tinytorch.core.embeddings import Embedding, PositionalEncoding, sinusoidal_encoding


def test_embedding_looks_up_rows_in_the_shape_of_the_ids():
    emb = Embedding(10, 4)
    ids = np.array([[1, 2, 3], [3, 3, 9]])
    out = emb(ids)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.data[1, 2], emb.weight.data[9])


def test_embedding_gradient_accumulates_repeated_ids():
    emb = to_float64(Embedding(6, 3, rng=np.random.default_rng(0)))
    ids = np.array([[0, 2, 2], [2, 5, 0]])
    upstream = np.random.default_rng(1).normal(size=(2, 3, 3))
    (emb(ids) * Tensor(upstream, dtype=np.float64)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad[2], upstream[0, 1] + upstream[0, 2] + upstream[1, 0])
    np.testing.assert_allclose(emb.weight.grad[0], upstream[0, 0] + upstream[1, 2])
    np.testing.assert_array_equal(emb.weight.grad[[1, 3, 4]], 0)  # rows never looked up


def test_embedding_gradient_matches_finite_differences():
    emb = to_float64(Embedding(5, 3, rng=np.random.default_rng(0)))
    ids = Tensor([[4, 1, 4, 4]])  # float ids holding integers are accepted
    weights = Tensor(np.random.default_rng(2).normal(size=(1, 4, 3)), dtype=np.float64)
    assert_gradients_match(lambda w: emb(ids) * weights, emb.weight)


def test_embedding_rejects_out_of_range_ids():
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        Embedding(5, 2)(np.array([0, 5]))


def test_learned_positional_encoding_adds_positions_from_an_offset():
    pe = to_float64(PositionalEncoding(8, 3, rng=np.random.default_rng(0)))
    x = Tensor(np.zeros((2, 3, 3)), requires_grad=True, dtype=np.float64)
    out = pe(x, offset=4)
    np.testing.assert_array_equal(out.data[1], pe.weight.data[4:7])
    assert_gradients_match(lambda x, w: pe(x, offset=2) * pe(x, offset=2), x, pe.weight)
    with pytest.raises(ValueError, match="max_seq_len=8"):
        pe(x, offset=6)


def test_sinusoidal_encoding_values_and_relative_rotation():
    table = sinusoidal_encoding(50, 16)
    assert table.shape == (50, 16) and table.dtype == np.float32
    np.testing.assert_allclose(table[0, 0::2], 0, atol=1e-7)
    np.testing.assert_allclose(table[0, 1::2], 1, atol=1e-7)
    np.testing.assert_allclose(table[3, 2], np.sin(3 / 10000 ** (2 / 16)), rtol=1e-5)
    # every (sin, cos) pair has norm 1, and the dot product depends only on the distance
    np.testing.assert_allclose(table[:, 0::2] ** 2 + table[:, 1::2] ** 2, 1, rtol=1e-5)
    np.testing.assert_allclose(table[5] @ table[9], table[20] @ table[24], rtol=1e-4)
    assert sinusoidal_encoding(4, 5).shape == (4, 5)  # odd widths work too
