"""Module 12 - Embeddings: hidden checks (graders only): gradients that accumulate, ids as
Tensors, position gradients and limits, and odd embedding sizes."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes, floats, literal
from harness.checkpoints.public.test_07_autograd import grads
from harness.checkpoints.public.test_12_embeddings import (
    IMPORT, POSITIONS, RNG, TABLE, X, assert_initial_table, assert_sinusoidal, seeded_table,
    with_table)


def assert_accumulated(student, table, first, second, scale, what):
    """The weight's gradient after ``emb(first).sum()`` and ``(emb(second) * scale).sum()``
    each ran backward(): 1 per use of an id in ``first`` plus ``scale`` per use in ``second``."""
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', table)}weight = emb.weight\n"
                 f"emb({first}).sum().backward()\n(emb({second}) * {scale}).sum().backward()")
    expected = np.zeros(table.shape)
    np.add.at(expected, first, 1.0)
    np.add.at(expected, second, scale)
    (grad,) = grads(student, "weight")
    assert_array(grad, expected, what=what)


@check("embeddings.embedding.grad_accumulates", "two lookups and two backward() calls add "
       "their gradients into the same rows", "hidden")
def test_embedding_grad_accumulates(student, rng):
    assert_accumulated(student, TABLE, [2, 2, 4], [4, 0], 3.0, "weight.grad after "
                       "emb([2, 2, 4]).sum().backward() and (emb([4, 0]) * 3).sum().backward()")
    vocab, dim = _sizes(rng, 2)
    first, second = (rng.integers(0, vocab, vocab).tolist() for _ in range(2))
    scale = float(rng.integers(2, 9))
    assert_accumulated(student, floats(rng, (vocab, dim)), first, second, scale,
                       f"weight.grad after emb({first}).sum().backward() and "
                       f"(emb({second}) * {scale:g}).sum().backward()")


@check("embeddings.embedding.tensor_ids", "ids may come as a Tensor or a NumPy integer array "
       "(as a DataLoader or tokenizer gives them)", "hidden")
def test_embedding_tensor_ids(student, rng):
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', TABLE)}")
    for ids in (np.array([[5, 0], [3, 3]]), rng.integers(0, 6, tuple(_sizes(rng, 2, low=1)))):
        assert_array(student.array(f"emb(Tensor({literal(ids)}))"), TABLE[ids], rtol=0, atol=0,
                     what=f"emb(Tensor({ids.tolist()}))")
        assert_array(student.array(f"emb({literal(ids.astype(np.int32))})"), TABLE[ids], rtol=0,
                     atol=0, what=f"emb(np.array({ids.tolist()}, dtype=np.int32))")


def assert_positional_gradient(student, table, x, offset, upstream):
    """x's gradient is ``upstream``; the weight's is ``upstream`` summed over the batch into
    rows ``offset ..``."""
    student.exec(f"{IMPORT}\n{with_table('pe', 'PositionalEncoding', table)}"
                 f"x = Tensor({literal(x)}, requires_grad=True)\nweight = pe.weight\n"
                 f"(pe(x, offset={offset}) * Tensor({literal(upstream)})).sum().backward()")
    expected = np.zeros(table.shape)
    expected[offset:offset + x.shape[1]] = upstream.sum(axis=0)
    x_grad, weight_grad = grads(student, "x", "weight")
    assert_array(x_grad, upstream, rtol=1e-5, atol=1e-6, what="x.grad")
    assert_array(weight_grad, expected, rtol=1e-5, atol=1e-6,
                 what=f"pe.weight.grad (offset {offset})")


@check("embeddings.positional.gradient", "PositionalEncoding passes the gradient through to x "
       "and sums it over the batch into the rows of the positions used", "hidden")
def test_positional_gradient(student, rng):
    assert_positional_gradient(student, POSITIONS, X, 2, RNG.normal(size=X.shape))
    length, dim = int(rng.integers(4, 12)), int(rng.integers(1, 6))
    x = floats(rng, (int(rng.integers(2, 4)), int(rng.integers(1, length)), dim))
    assert_positional_gradient(student, floats(rng, (length, dim)), x,
                               int(rng.integers(1, length - x.shape[1] + 1)),
                               rng.normal(size=x.shape))


@check("embeddings.positional.too_long", "PositionalEncoding raises ValueError when the "
       "positions run past max_seq_len", "hidden")
def test_positional_too_long(student, rng):
    student.exec(f"{IMPORT}\n{with_table('pe', 'PositionalEncoding', POSITIONS)}"
                 f"x = Tensor({literal(X)})\n_ = pe(x, offset=5)")
    student.raises("pe(x, offset=6)", "ValueError")
    student.raises("pe(Tensor(np.zeros((1, 9, 4))))", "ValueError")
    length, dim = seeded_table(student, rng, "pe", "PositionalEncoding",
                               int(rng.integers(2, 12))).shape
    steps = int(rng.integers(1, length + 1))
    student.exec(f"x = Tensor(np.zeros((2, {steps}, {dim})))\n_ = pe(x, offset={length - steps})")
    student.raises(f"pe(x, offset={length - steps + int(rng.integers(1, 4))})", "ValueError")
    student.raises(f"pe(Tensor(np.zeros((1, {length + int(rng.integers(1, 4))}, {dim}))))",
                   "ValueError")


@check("embeddings.sinusoidal.odd_dim", "sinusoidal_encoding(7, 5) works for an odd size: the "
       "last column is a sine", "hidden")
def test_sinusoidal_odd_dim(student, rng):
    assert_sinusoidal(student, 7, 5)
    assert_sinusoidal(student, int(rng.integers(2, 40)), 2 * int(rng.integers(1, 9)) + 1)


@check("embeddings.init.seeded", "Embedding and PositionalEncoding built with the same rng seed "
       "have the same weights; another seed gives others", "hidden")
def test_init_seeded(student, rng):
    seeds = [int(s) for s in rng.choice(10**6, size=2, replace=False)]
    student.exec(f"{IMPORT}\ndef tables(cls, seed):\n"
                 "    return cls(50, 6, rng=np.random.default_rng(seed)).weight")
    for cls in ("Embedding", "PositionalEncoding"):
        first, again, other = (student.array(f"tables({cls}, {seed})")
                               for seed in (seeds[0], seeds[0], seeds[1]))
        assert_array(again, first, rtol=0, atol=0,
                     what=f"the weight of a second {cls}(50, 6, rng=default_rng({seeds[0]}))")
        if np.array_equal(first, other):
            raise AssertionError(f"{cls}(50, 6) gave the same weight for the rng seeds "
                                 f"{seeds[0]} and {seeds[1]}: draw it from the rng passed in")


@check("embeddings.positional.shapes", "PositionalEncoding adds positions to unbatched (T, dim) "
       "inputs, batches of one and sequences filling max_seq_len", "hidden")
def test_positional_shapes(student, rng):
    table = seeded_table(student, rng, "pe", "PositionalEncoding", int(rng.integers(2, 9)))
    length, dim = table.shape
    # an unbatched input whose length is not min(dim, length), so taking the number of
    # steps from the wrong axis shows whatever sizes the seed drew
    other = 1 if min(dim, length) != 1 else 2
    for shape, offset in (((length, dim), 0), ((other, dim), 0), ((1, 1, dim), length - 1),
                          ((3, length - 1, dim), 1), ((1, length, dim), 0)):
        x = rng.normal(size=shape).astype(np.float32)
        steps = shape[-2]
        assert_array(student.array(f"pe(Tensor({literal(x)}), offset={offset})"),
                     x + table[offset:offset + steps], rtol=1e-6, atol=1e-6,
                     what=f"PositionalEncoding({length}, {dim})(x of shape {shape}, "
                     f"offset={offset})")


@check("embeddings.sinusoidal.sizes", "sinusoidal_encoding is exact for one position or "
       "column, 2 columns, odd sizes and positions past 1000", "hidden")
def test_sinusoidal_sizes(student, rng):
    for length, dim in ((1, 1), (3, 2), (int(rng.integers(1, 40)), int(rng.integers(1, 12)) * 2 + 1)):
        assert_sinusoidal(student, length, dim)
    assert_sinusoidal(student, 1200, int(rng.integers(2, 9)), atol=2e-4)


@check("embeddings.positional.init", "a new PositionalEncoding(1000, 8) has a float32 (1000, 8) "
       "weight drawn from N(0, 0.02^2) that is its parameter and learns from backward()",
       "hidden")
def test_positional_init(student, rng):
    upstream = rng.normal(size=(2, 3, 8))
    student.exec(f"{IMPORT}\npe = PositionalEncoding(1000, 8)\nweight = pe.weight\n"
                 f"(pe(Tensor(np.zeros((2, 3, 8))), offset=4) * Tensor({literal(upstream)}))"
                 ".sum().backward()")
    assert_initial_table(student.array("weight"), "PositionalEncoding", std=0.02)
    assert_equal(student.eval("[p is pe.weight for p in pe.parameters()]"), [True],
                 what="[p is pe.weight for p in pe.parameters()]")
    expected = np.zeros((1000, 8))
    expected[4:7] = upstream.sum(axis=0)
    (grad,) = grads(student, "weight")
    assert_array(grad, expected, rtol=1e-5, atol=1e-6,
                 what="the weight's gradient in a new PositionalEncoding(1000, 8) (offset 4)")
