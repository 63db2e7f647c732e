"""Module 13 - Attention: public checks (shipped to students with the starter).

Inputs and weights are sent to the runner as literal arrays (never drawn from the student's
random generator); the expected attention is computed here with NumPy.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import literal

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.attention import scaled_dot_product_attention, causal_mask, "
          "padding_mask, MultiHeadAttention")
RNG = np.random.default_rng(13)
Q, K, V = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4)), RNG.normal(size=(2, 5, 6))


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


def _with_qkv(student, q, k, v, mask=None):
    student.exec(f"{IMPORT}\nQ, K, V = Tensor({literal(q)}), Tensor({literal(k)}), "
                 f"Tensor({literal(v)})\nout, w = scaled_dot_product_attention(Q, K, V"
                 + (f", mask={literal(mask)})" if mask is not None else ")"))


def qkv(rng):
    """Q (b, queries, d), K (b, keys, d), V (b, keys, dv) of sizes drawn per job, with at
    least as many keys as queries (so a causal mask with an offset fits)."""
    batch, queries, d, dv = (int(n) for n in rng.integers(1, 6, 4))
    keys = queries + int(rng.integers(0, 3))
    return (rng.normal(size=(batch, queries, d)), rng.normal(size=(batch, keys, d)),
            rng.normal(size=(batch, keys, dv)))


def shapes(q, k, v):
    """``Q (2,3,4), K (2,5,4), V (2,5,6)``, as the messages name the inputs."""
    return ", ".join(f"{name} ({','.join(map(str, a.shape))})" for name, a in zip("QKV", (q, k, v)))


def offset_causal(queries, keys):
    """The causal mask of the last ``queries`` of ``keys`` positions, made here."""
    return np.tril(np.ones((queries, keys), bool), k=keys - queries)


@check("attention.sdpa.values", "scaled_dot_product_attention gives softmax(Q K^T / sqrt(d)) V "
       "and its weights", "public")
def test_sdpa_values(student, rng):
    for q, k, v in ((Q, K, V), qkv(rng)):
        _with_qkv(student, q, k, v)
        out, weights = attention(q, k, v)
        assert_array(student.array("w"), weights, dtype=np.float32, rtol=1e-4, atol=1e-6,
                     what=f"the weights of attention({shapes(q, k, v)}), float32")
        assert_array(student.array("out"), out, dtype=np.float32, rtol=1e-4, atol=1e-5,
                     what=f"the output of attention({shapes(q, k, v)}), float32")


@check("attention.causal_mask.values", "causal_mask(4) lets query i see keys 0..i; "
       "causal_mask(2, 5) treats the queries as the last two positions", "public")
def test_causal_mask_values(student, rng):
    student.exec(IMPORT)
    size, queries = int(rng.integers(2, 10)), int(rng.integers(1, 6))
    keys = queries + int(rng.integers(1, 5))
    for call, expected in (("causal_mask(4)", offset_causal(4, 4)),
                           ("causal_mask(2, 5)", offset_causal(2, 5)),
                           (f"causal_mask({size})", offset_causal(size, size)),
                           (f"causal_mask({queries}, {keys})", offset_causal(queries, keys))):
        assert_array(student.array(f"np.asarray({call})"), expected, dtype=bool,
                     what=f"{call} (a bool array, so masks combine with &)")


@check("attention.padding_mask.values", "padding_mask([2, 4, 0], 4) is (3, 1, 4), True on the "
       "real positions only, and combines with a causal mask by &", "public")
def test_padding_mask_values(student, rng):
    student.exec(IMPORT)
    size = int(rng.integers(2, 9))
    for lengths, max_len in (([2, 4, 0], 4),
                             (rng.integers(0, size + 1, int(rng.integers(1, 6))).tolist(), size)):
        expected = (np.arange(max_len)[None, :] < np.array(lengths)[:, None])[:, None, :]
        call = f"padding_mask({lengths}, {max_len})"
        assert_array(student.array(f"np.asarray({call})"), expected, dtype=bool, what=call)
        assert_array(student.array(f"np.asarray(causal_mask({max_len}) & {call})"),
                     offset_causal(max_len, max_len) & expected, dtype=bool,
                     what=f"causal_mask({max_len}) & {call}")


@check("attention.sdpa.causal_mask", "with a causal mask the weights above the diagonal are "
       "exactly 0 and the output matches", "public")
def test_sdpa_causal_mask(student, rng):
    for q, k, v in ((Q, K, V), qkv(rng)):
        mask = offset_causal(q.shape[1], k.shape[1])
        _with_qkv(student, q, k, v, mask)
        out, weights = attention(q, k, v, mask)
        got = student.array("w")
        assert_array(got, weights, dtype=np.float32, rtol=1e-4, atol=1e-6,
                     what=f"the causally masked weights of float32 inputs {shapes(q, k, v)}")
        if np.any(got[:, ~mask] != 0):
            raise AssertionError("a query gives non-zero weight to a key the mask hides")
        assert_array(student.array("out"), out, dtype=np.float32, rtol=1e-4, atol=1e-5,
                     what=f"the masked output of float32 inputs {shapes(q, k, v)}")


@check("attention.mask.fully_masked_row", "a query whose keys are all masked gets zero weights "
       "and a zero output, not NaN", "public")
def test_fully_masked_row(student, rng):
    mask = np.ones((3, 5), bool)
    mask[1] = False
    drawn = qkv(rng)
    drawn_mask = rng.random((drawn[0].shape[1], drawn[1].shape[1])) < 0.6
    row = int(rng.integers(len(drawn_mask)))
    drawn_mask[row] = False
    for (q, k, v), mask, row in (((Q, K, V), mask, 1), (drawn, drawn_mask, row)):
        _with_qkv(student, q, k, v, mask)
        out, weights = attention(q, k, v, mask)
        assert_array(student.array("w"), weights, rtol=1e-4, atol=1e-6,
                     what=f"the weights when query {row} may see no key")
        assert_array(student.array("out"), out, rtol=1e-4, atol=1e-5,
                     what=f"the output when query {row} may see no key")


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
    """MultiHeadAttention(dim, heads) in the runner as ``mha``, with the given weights."""
    dim = len(weights["q_proj"][1])
    student.exec(f"{IMPORT}\nmha = MultiHeadAttention({dim}, {heads})")
    assign(student, projections("mha", weights))


@check("attention.mha.values", "MultiHeadAttention(8, 2) matches NumPy multi-head attention "
       "with the same weights, and keeps each head's attention weights", "public")
def test_mha_values(student, rng):
    heads, head_dim = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    drawn = (random_projections(int(rng.integers(2**31)), heads * head_dim), heads,
             rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(1, 7)), heads * head_dim)))
    for weights, heads, x in ((random_projections(1), 2,
                               np.random.default_rng(2).normal(size=(2, 5, 8))), drawn):
        x = x.astype(np.float32)
        dim = x.shape[-1]
        build_mha(student, weights, heads)
        student.exec(f"x = Tensor({literal(x)})\ny = mha(x)")
        assert_array(student.array("y"), multi_head(x.astype(np.float64), weights, heads),
                     rtol=1e-4, atol=1e-5,
                     what=f"MultiHeadAttention({dim}, {heads})(x) for x of shape {x.shape}")
        _, expected = attention(*head_projections(x.astype(np.float64), weights, heads))
        assert_array(student.array("mha.last_weights"), expected, rtol=1e-4, atol=1e-6,
                     what="mha.last_weights, (batch, heads, queries, keys)")


@check("attention.mha.bad_heads", "MultiHeadAttention(8, 4) works on (1, 3, 8) and "
       "MultiHeadAttention(10, 3) raises ValueError", "public")
def test_mha_bad_heads(student, rng):
    heads, head_dim = int(rng.integers(2, 6)), int(rng.integers(1, 5))
    steps, extra = int(rng.integers(1, 6)), int(rng.integers(1, heads))
    for (heads, dim, steps), bad in (((4, 8, 3), (10, 3)),
                                     ((heads, heads * head_dim, steps),
                                      (heads * head_dim + extra, heads))):
        student.exec(f"{IMPORT}\nmha = MultiHeadAttention({dim}, {heads})\n"
                     f"y = mha(Tensor(np.ones((1, {steps}, {dim}))))")
        assert_equal(student.eval("list(y.shape)"), [1, steps, dim],
                     what=f"MultiHeadAttention({dim}, {heads})(x).shape")
        student.raises(f"MultiHeadAttention({bad[0]}, {bad[1]})", "ValueError")
