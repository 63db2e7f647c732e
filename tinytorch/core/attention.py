"""Module 13 - Attention: every position looks at every other and takes a weighted average.

``scaled_dot_product_attention`` scores each query against each key (``Q @ K^T / sqrt(d)``),
turns the scores into weights with a softmax, and mixes the values with those weights.
Masks say which keys a query may look at: ``causal_mask`` hides the future (language
models), ``padding_mask`` hides the padding at the end of shorter sequences. Masked scores
become -inf, so their weight is exactly 0; a query that may look at nothing at all (a fully
masked row) gets all-zero weights and a zero output instead of NaN.

``MultiHeadAttention`` runs ``num_heads`` attentions of width ``embed_dim / num_heads`` side by
side on learned projections of the input, then projects their concatenation back.

Mask convention (as PyTorch's ``scaled_dot_product_attention``): a boolean array, True where a
query MAY attend to a key, broadcastable to the scores' shape (..., T_queries, T_keys).

Systems cost:
    memory  - the (batch, heads, T, T) score and weight matrices: quadratic in sequence length.
              At T=1024, 8 heads, float32, that is 32 MiB per sequence per layer, kept for backward.
    compute - 4*T*T*d FLOPs per head for the two matmuls (scores, then weights @ V), plus
              O(T*T) exp for the softmax; the projections add 8*T*embed_dim^2. Attention
              dominates once T exceeds about 2*embed_dim.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.activations import Softmax
from tinytorch.core.autograd import gradient, unbroadcast
from tinytorch.core.layers import Linear, Module
from tinytorch.core.tensor import Tensor

__all__ = [
    "masked_fill",
    "split_heads",
    "merge_heads",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
]

_softmax = Softmax(dim=-1)


def _bool_mask(mask) -> np.ndarray:
    return np.asarray(getattr(mask, "data", mask)).astype(bool)


def masked_fill(x: Tensor, mask, value: float) -> Tensor:
    """``x`` with ``value`` wherever ``mask`` is True; those entries get no gradient."""
    mask = _bool_mask(mask)
    ### BEGIN SOLUTION
    out = np.where(mask, np.asarray(value, dtype=x.dtype), x.data)
    return Tensor._from_op(out, (x,), "masked_fill", mask=mask)
    ### END SOLUTION


@gradient("masked_fill")
def _masked_fill(grad, ctx):
    ### BEGIN SOLUTION
    return (unbroadcast(np.where(ctx.saved["mask"], 0, grad), ctx.parents[0].shape),)
    ### END SOLUTION


def causal_mask(num_queries: int, num_keys: int | None = None) -> np.ndarray:
    """(num_queries, num_keys) bool, True where query i may see key j.

    With ``num_keys > num_queries`` the queries are the LAST positions of the sequence (as when
    a KV cache holds the earlier keys): query i sits at position ``num_keys - num_queries + i``.
    """
    num_keys = num_queries if num_keys is None else num_keys
    if num_keys < num_queries:
        raise ValueError(f"causal_mask: {num_queries} queries cannot be later than {num_keys} keys")
    ### BEGIN SOLUTION
    return np.tril(np.ones((num_queries, num_keys), dtype=bool), k=num_keys - num_queries)
    ### END SOLUTION


def padding_mask(lengths, max_len: int) -> np.ndarray:
    """(batch, 1, max_len) bool, True on the first ``lengths[b]`` (real) positions of sequence b.

    The middle axis broadcasts over queries; combine with a causal mask using ``&``.
    """
    lengths = np.asarray(getattr(lengths, "data", lengths)).astype(np.int64).reshape(-1)
    if lengths.size and (lengths.min() < 0 or lengths.max() > max_len):
        raise ValueError(f"padding_mask: lengths must be in [0, {max_len}], got {lengths.tolist()}")
    ### BEGIN SOLUTION
    return (np.arange(max_len)[None, :] < lengths[:, None])[:, None, :]
    ### END SOLUTION


def split_heads(x: Tensor, batch: int, num_heads: int) -> Tensor:
    """(batch*T, heads*d) -> (batch, heads, T, d), copied into a contiguous array.

    A strided view (reshape + transpose) would do, but NumPy's stacked matmul on such views
    falls off its BLAS path and runs several times slower than the copy costs.
    """
    steps, head_dim = x.shape[0] // batch, x.shape[1] // num_heads
    ### BEGIN SOLUTION
    out = np.ascontiguousarray(x.data.reshape(batch, steps, num_heads, head_dim).transpose(0, 2, 1, 3))
    return Tensor._from_op(out, (x,), "split_heads")
    ### END SOLUTION


@gradient("split_heads")
def _split_heads(grad, ctx):
    ### BEGIN SOLUTION
    return (grad.transpose(0, 2, 1, 3).reshape(ctx.parents[0].shape),)
    ### END SOLUTION


def merge_heads(x: Tensor) -> Tensor:
    """(batch, heads, T, d) -> (batch*T, heads*d): the inverse of ``split_heads``."""
    batch, heads, steps, head_dim = x.shape
    ### BEGIN SOLUTION
    out = np.ascontiguousarray(x.data.transpose(0, 2, 1, 3)).reshape(batch * steps, heads * head_dim)
    return Tensor._from_op(out, (x,), "merge_heads")
    ### END SOLUTION


@gradient("merge_heads")
def _merge_heads(grad, ctx):
    ### BEGIN SOLUTION
    batch, heads, steps, head_dim = ctx.parents[0].shape
    return (np.ascontiguousarray(grad.reshape(batch, steps, heads, head_dim).transpose(0, 2, 1, 3)),)
    ### END SOLUTION


def scaled_dot_product_attention(Q: Tensor, K: Tensor, V: Tensor, mask=None) -> tuple[Tensor, Tensor]:
    """softmax(Q K^T / sqrt(d) masked) V for Q (..., Tq, d), K (..., Tk, d), V (..., Tk, dv).

    Returns ``(output (..., Tq, dv), weights (..., Tq, Tk))``.
    """
    if Q.shape[-1] != K.shape[-1] or K.shape[-2] != V.shape[-2]:
        raise ValueError(f"attention shapes do not fit: Q {Q.shape}, K {K.shape}, V {V.shape} "
                         "(Q and K need the same last dim, K and V the same number of keys)")
    ### BEGIN SOLUTION
    scale = 1.0 / np.sqrt(Q.shape[-1])
    scores = (Q * scale) @ K.transpose(-2, -1)  # scaling Q is cheaper than scaling T x T scores
    if mask is not None:
        scores = masked_fill(scores, ~_bool_mask(mask), -np.inf)
    weights = _softmax(scores)
    return weights @ V, weights
    ### END SOLUTION


class MultiHeadAttention(Module):
    """``num_heads`` parallel attentions over projections of width ``embed_dim // num_heads``.

    ``forward(x, mask=None, cache=None)``: ``x`` is (batch, T, embed_dim). ``cache`` (inference
    only) is one layer's key/value store with ``update(k, v) -> (all_k, all_v)``: the new keys
    and values are appended to the earlier ones, so each generated token costs O(T), not O(T^2).
    """

    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.q_proj = Linear(embed_dim, embed_dim)
        self.k_proj = Linear(embed_dim, embed_dim)
        self.v_proj = Linear(embed_dim, embed_dim)
        self.out_proj = Linear(embed_dim, embed_dim)
        self.last_weights: Tensor | None = None  # (batch, heads, Tq, Tk) of the latest forward

    def forward(self, x: Tensor, mask=None, cache=None) -> Tensor:
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention expects (batch, T, {self.embed_dim}), got {x.shape}")
        batch, steps, _ = x.shape
        if mask is not None and _bool_mask(mask).ndim == 3:
            mask = _bool_mask(mask)[:, None]  # (batch, Tq|1, Tk) -> add the heads axis
        ### BEGIN SOLUTION
        flat = x.reshape(batch * steps, self.embed_dim)  # 2-D matmuls are one BLAS call
        q, k, v = (split_heads(proj(flat), batch, self.num_heads) for proj in (self.q_proj, self.k_proj, self.v_proj))
        if cache is not None:
            k, v = cache.update(k, v)
        out, weights = scaled_dot_product_attention(q, k, v, mask)
        self.last_weights = weights.detach()  # for inspection; detached so it does not pin the graph
        return self.out_proj(merge_heads(out)).reshape(batch, steps, self.embed_dim)
        ### END SOLUTION
