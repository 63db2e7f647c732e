"""Module 13 - Attention: public checks (shipped to students with the starter).

Inputs and weights are sent to the runner as literal arrays (never drawn from the student's
random generator); the expected attention is computed here with NumPy.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.attention import scaled_dot_product_attention, causal_mask, "
          "padding_mask, MultiHeadAttention")
RNG = np.random.default_rng(13)
Q, K, V = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4)), RNG.normal(size=(2, 5, 6))


def literal(array):
    """Code that rebuilds ``array`` exactly in the runner."""
    return f"np.array({array.tolist()!r}, dtype={array.dtype.str!r})"


def attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v with masked scores at -inf; a fully masked row gives 0."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total == 0, 1, total)
    return weights @ v, weights


def _with_qkv(student, mask=None):
    student.exec(f"{IMPORT}\nQ, K, V = Tensor({literal(Q)}), Tensor({literal(K)}), "
                 f"Tensor({literal(V)})\nout, w = scaled_dot_product_attention(Q, K, V"
                 + (f", mask={literal(mask)})" if mask is not None else ")"))


@check("attention.sdpa.values", "scaled_dot_product_attention gives softmax(Q K^T / sqrt(d)) V "
       "and its weights", "public")
def test_sdpa_values(student):
    _with_qkv(student)
    out, weights = attention(Q, K, V)
    assert_array(student.array("w"), weights, dtype=np.float32, rtol=1e-4, atol=1e-6,
                 what="the weights of attention(Q (2,3,4), K (2,5,4), V (2,5,6)), float32")
    assert_array(student.array("out"), out, dtype=np.float32, rtol=1e-4, atol=1e-5,
                 what="the output of attention(Q (2,3,4), K (2,5,4), V (2,5,6)), float32")


@check("attention.causal_mask.values", "causal_mask(4) lets query i see keys 0..i; "
       "causal_mask(2, 5) treats the queries as the last two positions", "public")
def test_causal_mask_values(student):
    student.exec(IMPORT)
    assert_array(student.array("np.asarray(causal_mask(4))"), np.tril(np.ones((4, 4), bool)),
                 dtype=bool, what="causal_mask(4) (a bool array, so masks combine with &)")
    assert_array(student.array("np.asarray(causal_mask(2, 5))"),
                 np.tril(np.ones((2, 5), bool), k=3), dtype=bool, what="causal_mask(2, 5)")


@check("attention.padding_mask.values", "padding_mask([2, 4, 0], 4) is (3, 1, 4), True on the "
       "real positions only, and combines with a causal mask by &", "public")
def test_padding_mask_values(student):
    student.exec(IMPORT)
    expected = (np.arange(4)[None, :] < np.array([2, 4, 0])[:, None])[:, None, :]
    assert_array(student.array("np.asarray(padding_mask([2, 4, 0], 4))"), expected, dtype=bool,
                 what="padding_mask([2, 4, 0], 4)")
    assert_array(student.array("np.asarray(causal_mask(4) & padding_mask([2, 4, 0], 4))"),
                 np.tril(np.ones((4, 4), bool)) & expected, dtype=bool,
                 what="causal_mask(4) & padding_mask([2, 4, 0], 4)")


@check("attention.sdpa.causal_mask", "with a causal mask the weights above the diagonal are "
       "exactly 0 and the output matches", "public")
def test_sdpa_causal_mask(student):
    mask = np.tril(np.ones((3, 5), bool), k=2)
    _with_qkv(student, mask)
    out, weights = attention(Q, K, V, mask)
    got = student.array("w")
    assert_array(got, weights, dtype=np.float32, rtol=1e-4, atol=1e-6,
                 what="the causally masked weights of float32 inputs")
    if np.any(got[:, ~mask] != 0):
        raise AssertionError("a query gives non-zero weight to a key the mask hides")
    assert_array(student.array("out"), out, dtype=np.float32, rtol=1e-4, atol=1e-5,
                 what="the masked output of float32 inputs")


@check("attention.mask.fully_masked_row", "a query whose keys are all masked gets zero weights "
       "and a zero output, not NaN", "public")
def test_fully_masked_row(student):
    mask = np.ones((3, 5), bool)
    mask[1] = False
    _with_qkv(student, mask)
    out, weights = attention(Q, K, V, mask)
    assert_array(student.array("w"), weights, rtol=1e-4, atol=1e-6,
                 what="the weights when query 1 may see no key")
    assert_array(student.array("out"), out, rtol=1e-4, atol=1e-5,
                 what="the output when query 1 may see no key")


def random_projections(seed, embed_dim=8):
    """Seeded float32 ``{"q_proj": (W, b), ...}`` for the four projections of attention."""
    rng = np.random.default_rng(seed)
    return {name: (rng.normal(0, 0.3, (embed_dim, embed_dim)).astype(np.float32),
                   rng.normal(0, 0.1, embed_dim).astype(np.float32))
            for name in ("q_proj", "k_proj", "v_proj", "out_proj")}


def head_projections(x, weights, heads):
    """The (B, heads, T, D / heads) queries, keys and values of x (B, T, D)."""
    batch, steps, dim = x.shape

    def split(name):
        w, b = weights[name]
        return (x @ w + b).reshape(batch, steps, heads, dim // heads).transpose(0, 2, 1, 3)

    return split("q_proj"), split("k_proj"), split("v_proj")


def multi_head(x, weights, heads, mask=None):
    """NumPy multi-head attention with the given (W, b) per projection; x is (B, T, D)."""
    batch, steps, dim = x.shape
    out, _ = attention(*head_projections(x, weights, heads), mask)
    w, b = weights["out_proj"]
    return out.transpose(0, 2, 1, 3).reshape(batch, steps, dim) @ w + b


def assign(student, arrays):
    """Overwrite parameters in the runner in place: ``{"mha.q_proj.weight": array, ...}``."""
    student.exec("\n".join(f"{path}.data[...] = {literal(a)}" for path, a in arrays.items()))


def projections(prefix, weights):
    """``{prefix.q_proj.weight: W, prefix.q_proj.bias: b, ...}`` for :func:`assign`."""
    return {f"{prefix}.{name}.{part}": value for name, pair in weights.items()
            for part, value in zip(("weight", "bias"), pair)}


def build_mha(student, weights, heads):
    """MultiHeadAttention(8, heads) in the runner as ``mha``, with the given weights."""
    student.exec(f"{IMPORT}\nmha = MultiHeadAttention(8, {heads})")
    assign(student, projections("mha", weights))


@check("attention.mha.values", "MultiHeadAttention(8, 2) matches NumPy multi-head attention "
       "with the same weights, and keeps each head's attention weights", "public")
def test_mha_values(student):
    weights = random_projections(1)
    x = np.random.default_rng(2).normal(size=(2, 5, 8)).astype(np.float32)
    build_mha(student, weights, 2)
    student.exec(f"x = Tensor({literal(x)})\ny = mha(x)")
    assert_array(student.array("y"), multi_head(x.astype(np.float64), weights, 2), rtol=1e-4,
                 atol=1e-5, what="MultiHeadAttention(8, 2)(x) for x of shape (2, 5, 8)")
    _, expected = attention(*head_projections(x.astype(np.float64), weights, 2))
    assert_array(student.array("mha.last_weights"), expected, rtol=1e-4, atol=1e-6,
                 what="mha.last_weights, (batch, heads, queries, keys)")


@check("attention.mha.bad_heads", "MultiHeadAttention(8, 4) works on (1, 3, 8) and "
       "MultiHeadAttention(10, 3) raises ValueError", "public")
def test_mha_bad_heads(student):
    student.exec(f"{IMPORT}\nmha = MultiHeadAttention(8, 4)\n"
                 "y = mha(Tensor(np.ones((1, 3, 8))))")
    assert_equal(student.eval("list(y.shape)"), [1, 3, 8], what="MultiHeadAttention(8, 4)(x).shape")
    student.raises("MultiHeadAttention(10, 3)", "ValueError")
