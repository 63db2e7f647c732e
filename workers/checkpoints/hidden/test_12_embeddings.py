"""Module 12 - Embeddings: hidden checks (graders only): gradients that accumulate, ids as
Tensors, position gradients and limits, and odd embedding sizes."""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.public.test_07_autograd import grads
from harness.checkpoints.public.test_12_embeddings import (
    IMPORT, POSITIONS, RNG, TABLE, X, assert_sinusoidal, with_table)
from harness.checkpoints.public.test_13_attention import literal


@check("embeddings.embedding.grad_accumulates", "two lookups and two backward() calls add "
       "their gradients into the same rows", "hidden")
def test_embedding_grad_accumulates(student):
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', TABLE)}weight = emb.weight\n"
                 "emb([2, 2, 4]).sum().backward()\n(emb([4, 0]) * 3.0).sum().backward()")
    expected = np.zeros((6, 4))
    expected[[2, 4, 0]] = [[2.0] * 4, [4.0] * 4, [3.0] * 4]
    (grad,) = grads(student, "weight")
    assert_array(grad, expected, what="weight.grad after emb([2, 2, 4]).sum().backward() and "
                 "(emb([4, 0]) * 3).sum().backward()")


@check("embeddings.embedding.tensor_ids", "ids may come as a Tensor or a NumPy integer array "
       "(as a DataLoader or tokenizer gives them)", "hidden")
def test_embedding_tensor_ids(student):
    ids = np.array([[5, 0], [3, 3]])
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', TABLE)}")
    assert_array(student.array(f"emb(Tensor({literal(ids)}))"), TABLE[ids], rtol=0, atol=0,
                 what="emb(Tensor([[5, 0], [3, 3]]))")
    assert_array(student.array(f"emb({literal(ids.astype(np.int32))})"), TABLE[ids], rtol=0,
                 atol=0, what="emb(np.array([[5, 0], [3, 3]], dtype=np.int32))")


@check("embeddings.positional.gradient", "PositionalEncoding passes the gradient through to x "
       "and sums it over the batch into the rows of the positions used", "hidden")
def test_positional_gradient(student):
    upstream = RNG.normal(size=X.shape)
    student.exec(f"{IMPORT}\n{with_table('pe', 'PositionalEncoding', POSITIONS)}"
                 f"x = Tensor({literal(X)}, requires_grad=True)\nweight = pe.weight\n"
                 f"(pe(x, offset=2) * Tensor({literal(upstream)})).sum().backward()")
    expected = np.zeros((8, 4))
    expected[2:5] = upstream.sum(axis=0)
    x_grad, weight_grad = grads(student, "x", "weight")
    assert_array(x_grad, upstream, rtol=1e-5, atol=1e-6, what="x.grad")
    assert_array(weight_grad, expected, rtol=1e-5, atol=1e-6, what="pe.weight.grad (offset 2)")


@check("embeddings.positional.too_long", "PositionalEncoding raises ValueError when the "
       "positions run past max_seq_len", "hidden")
def test_positional_too_long(student):
    student.exec(f"{IMPORT}\n{with_table('pe', 'PositionalEncoding', POSITIONS)}"
                 f"x = Tensor({literal(X)})\n_ = pe(x, offset=5)")
    student.raises("pe(x, offset=6)", "ValueError")
    student.raises("pe(Tensor(np.zeros((1, 9, 4))))", "ValueError")


@check("embeddings.sinusoidal.odd_dim", "sinusoidal_encoding(7, 5) works for an odd size: the "
       "last column is a sine", "hidden")
def test_sinusoidal_odd_dim(student):
    assert_sinusoidal(student, 7, 5)
