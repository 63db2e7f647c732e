"""Module 12 - Embeddings: public checks (shipped to students with the starter).

Tables, ids and upstream gradients are made here and sent as literal arrays; lookups,
gradients and position tables come back as arrays and are compared here with NumPy.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes, floats, literal
from harness.checkpoints.public.test_07_autograd import grads

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.embeddings import Embedding, PositionalEncoding, "
          "sinusoidal_encoding")
RNG = np.random.default_rng(12)
TABLE = RNG.normal(size=(6, 4)).astype(np.float32)
IDS = np.array([[1, 3, 1], [0, 1, 5]])


def with_table(name, cls, table):
    """Runner code for ``name = cls(rows, cols)`` whose weight is ``table`` (requires grad)."""
    return (f"{name} = {cls}({table.shape[0]}, {table.shape[1]})\n"
            f"{name}.weight = Tensor({literal(table)}, requires_grad=True)\n")


def assert_sinusoidal(student, length, dim, atol=1e-6):
    """sinusoidal_encoding(length, dim) must hold sin(p w_i) in column 2i and cos(p w_i) in
    column 2i + 1, w_i = 10000^(-2i / dim), as float32 (``atol``: angles past ~1000 computed
    in float32 are only that exact)."""
    angles = np.arange(length)[:, None] * 10000.0 ** (-np.arange(0, dim, 2) / dim)
    table = np.zeros((length, dim))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, :dim // 2])
    student.exec(IMPORT)
    assert_array(student.array(f"sinusoidal_encoding({length}, {dim})"), table, dtype=np.float32,
                 rtol=1e-5, atol=atol, what=f"sinusoidal_encoding({length}, {dim})")


@check("embeddings.embedding.lookup", "Embedding(6, 4)(ids) picks row i of the weight for each "
       "id i; ids of shape (2, 3) give (2, 3, 4)", "public")
def test_embedding_lookup(student, rng):
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', TABLE)}")
    assert_array(student.array(f"emb({literal(IDS)})"), TABLE[IDS], dtype=np.float32, rtol=0,
                 atol=0, what="Embedding(6, 4)(ids) for ids [[1, 3, 1], [0, 1, 5]]")
    assert_array(student.array("emb([4, 2])"), TABLE[[4, 2]], rtol=0, atol=0,
                 what="Embedding(6, 4)([4, 2])")
    table = seeded_table(student, rng, "emb", "Embedding", int(rng.integers(2, 9)))
    ids = rng.integers(0, len(table), tuple(_sizes(rng, 2, low=1, high=4)))
    assert_array(student.array(f"emb({literal(ids)})"), table[ids], dtype=np.float32, rtol=0,
                 atol=0, what=f"Embedding{table.shape}(ids) for ids {ids.tolist()}")


def assert_initial_table(weight, cls, std, shape=(1000, 8)):
    """``weight`` of a new ``cls(*shape)``: float32 of ``shape`` drawn from N(0, std^2) (5000
    or more draws put its mean and spread far inside these bounds)."""
    made = f"{cls}({shape[0]}, {shape[1]})"
    assert_equal(list(weight.shape), list(shape), what=f"{made}.weight.shape")
    assert_equal(str(weight.dtype), "float32", what=f"the dtype of {made}.weight")
    if abs(weight.mean()) > std / 10 or not 0.9 * std < weight.std() < 1.1 * std:
        raise AssertionError(f"{cls}'s initial weights should be N(0, {std:g}^2): their mean is "
                             f"{weight.mean():.4f} and their std {weight.std():.4f}")


@check("embeddings.embedding.init", "a new Embedding(1000, 8) has a float32 (1000, 8) weight "
       "drawn from N(0, 1) that requires grad and is its parameter", "public")
def test_embedding_init(student, rng):
    for vocab, dim in ((1000, 8), (int(rng.integers(900, 1300)), int(rng.integers(6, 11)))):
        student.exec(f"{IMPORT}\nemb = Embedding({vocab}, {dim})")
        assert_initial_table(student.array("emb.weight"), "Embedding", 1.0, (vocab, dim))
        assert_equal(student.eval("emb.weight.requires_grad"), True,
                     what=f"Embedding({vocab}, {dim}).weight.requires_grad")
        assert_equal(student.eval("[p is emb.weight for p in emb.parameters()]"), [True],
                     what="[p is emb.weight for p in emb.parameters()]")


def assert_scattered(student, table, ids, upstream, what):
    """The weight's gradient after ``sum(emb(ids) * upstream).backward()``: ``upstream``
    scatter-added into the rows of ``ids``."""
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', table)}weight = emb.weight\n"
                 f"(emb({literal(ids)}) * Tensor({literal(upstream)})).sum().backward()")
    expected = np.zeros_like(table, dtype=np.float64)
    np.add.at(expected, ids, upstream)
    (grad,) = grads(student, "weight")
    assert_array(grad, expected, rtol=1e-5, atol=1e-6, what=what)


@check("embeddings.embedding.gradient", "after backward() each row of the weight's gradient is "
       "the sum over every place its id was used (repeats add up); unused rows stay 0", "public")
def test_embedding_gradient(student, rng):
    assert_scattered(student, TABLE, IDS, RNG.normal(size=IDS.shape + (4,)),
                     "weight.grad for ids [[1, 3, 1], [0, 1, 5]] (id 1 used three times)")
    vocab, dim = _sizes(rng, 2)
    ids = rng.integers(0, vocab, (2, vocab))     # 2 * vocab ids: some repeat
    assert_scattered(student, floats(rng, (vocab + 2, dim)), ids,
                     rng.normal(size=ids.shape + (dim,)),
                     f"weight.grad of Embedding({vocab + 2}, {dim}) for ids {ids.tolist()}")


@check("embeddings.embedding.bad_ids", "an id outside [0, vocab_size) raises IndexError", "public")
def test_embedding_bad_ids(student, rng):
    student.exec(f"{IMPORT}\n{with_table('emb', 'Embedding', TABLE)}_ = emb([0, 5])")
    student.raises("emb([2, 6])", "IndexError")
    student.raises("emb([-1])", "IndexError")
    vocab = len(seeded_table(student, rng, "emb", "Embedding", int(rng.integers(2, 40))))
    student.exec(f"_ = emb([0, {vocab - 1}])")
    student.raises(f"emb([{int(rng.integers(vocab))}, {vocab + int(rng.integers(3))}])",
                   "IndexError")
    student.raises(f"emb([{-int(rng.integers(1, vocab + 1))}])", "IndexError")


@check("embeddings.sinusoidal.values", "sinusoidal_encoding(10, 6) has sin(p w_i) in even "
       "columns and cos(p w_i) in odd ones, w_i = 10000^(-2i/6), as float32", "public")
def test_sinusoidal_values(student, rng):
    assert_sinusoidal(student, 10, 6)
    assert_sinusoidal(student, int(rng.integers(2, 40)), 2 * int(rng.integers(1, 9)))


POSITIONS = RNG.normal(size=(8, 4)).astype(np.float32)
X = RNG.normal(size=(2, 3, 4)).astype(np.float32)


@check("embeddings.positional.learned", "PositionalEncoding adds the vectors of positions "
       "offset .. offset + T - 1 to a (batch, T, dim) input", "public")
def test_positional_learned(student, rng):
    student.exec(f"{IMPORT}\n{with_table('pe', 'PositionalEncoding', POSITIONS)}"
                 f"x = Tensor({literal(X)})")
    assert_array(student.array("pe(x)"), X + POSITIONS[:3], rtol=1e-6, atol=1e-6,
                 what="PositionalEncoding(8, 4)(x) for x of shape (2, 3, 4)")
    assert_array(student.array("pe(x, offset=5)"), X + POSITIONS[5:8], rtol=1e-6, atol=1e-6,
                 what="PositionalEncoding(8, 4)(x, offset=5)")
    table = seeded_table(student, rng, "pe", "PositionalEncoding", int(rng.integers(4, 12)))
    length, dim = table.shape
    x = floats(rng, (int(rng.integers(1, 4)), int(rng.integers(2, length)), dim))
    offset = int(rng.integers(1, length - x.shape[1] + 1))
    student.exec(f"x = Tensor({literal(x)})")
    for start in (0, offset):
        assert_array(student.array(f"pe(x, offset={start})"),
                     x + table[start:start + x.shape[1]], rtol=1e-6, atol=1e-6,
                     what=f"PositionalEncoding({length}, {dim})(x of shape {x.shape}, "
                     f"offset={start})")


def seeded_table(student, rng, name, cls, rows):
    """``name = cls(rows, dim)`` in the runner with a random float32 weight (dim 1-4), which
    is returned."""
    table = rng.normal(size=(rows, int(rng.integers(1, 5)))).astype(np.float32)
    student.exec(f"{IMPORT}\n{with_table(name, cls, table)}")
    return table


def id_arrays(rng, vocab):
    """Token ids of shape (), (1,), (1, 1), (3, 1), (1, 4) and (2, 3, 2), repeats included."""
    return [rng.integers(0, vocab, shape) for shape in ((), (1,), (1, 1), (3, 1), (1, 4),
                                                         (2, 3, 2))]


@check("embeddings.embedding.id_shapes", "Embedding looks up ids of any shape (a scalar, size-1 "
       "dims, 3-D) and scatters their gradients, repeats adding up", "public")
def test_embedding_id_shapes(student, rng):
    table = seeded_table(student, rng, "emb", "Embedding", int(rng.integers(1, 6)))
    vocab, dim = table.shape
    student.exec("weight = emb.weight")
    expected_grad = np.zeros((vocab, dim))
    for ids in id_arrays(rng, vocab):
        upstream = rng.normal(size=ids.shape + (dim,))
        student.exec(f"(emb({literal(ids)}) * Tensor({literal(upstream)})).sum().backward()")
        np.add.at(expected_grad, ids, upstream)
        assert_array(student.array(f"emb({literal(ids)})"), table[ids], rtol=0, atol=0,
                     what=f"Embedding({vocab}, {dim})(ids of shape {ids.shape})")
        (grad,) = grads(student, "weight")
        assert_array(grad, expected_grad, rtol=1e-5, atol=1e-6,
                     what=f"weight.grad accumulated up to ids of shape {ids.shape}")
