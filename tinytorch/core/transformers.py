"""Module 14 - Transformers: attention and an MLP, stacked with residuals and normalisation.

A pre-norm ``TransformerBlock`` computes ``x + attention(LayerNorm(x))`` then
``x + MLP(LayerNorm(x))``: the residual path carries the signal straight through, so deep
stacks train. ``GPT`` embeds tokens and positions, runs the blocks under a causal mask, and
projects back to one logit per vocabulary entry at every position.

``LayerNorm`` is one fused op with its own gradient rule: composed from mean/sub/pow/div it
would be ~10 ops, each allocating an activation-sized array and recording a graph node.

Systems cost:
    memory  - parameters: about 12 * num_layers * embed_dim^2 (attention 4*d^2, MLP 8*d^2) plus
              (vocab_size + max_seq_len) * embed_dim for the tables and vocab_size * embed_dim for
              the output head. Training keeps ~20 activation arrays of batch*T*embed_dim per block
              plus the attention weights, batch*heads*T*T per block.
    compute - ~24 * batch * T * embed_dim^2 FLOPs per block forward (the matmuls), plus
              4 * batch * T^2 * embed_dim for attention, plus 2 * batch * T * embed_dim * vocab_size
              for the output head; backward costs about twice the forward.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.activations import GELU
from tinytorch.core.attention import MultiHeadAttention, causal_mask
from tinytorch.core.autograd import gradient
from tinytorch.core.embeddings import Embedding, PositionalEncoding
from tinytorch.core.layers import Dropout, Linear, Module, default_rng
from tinytorch.core.tensor import Tensor

__all__ = ["layer_norm", "LayerNorm", "MLP", "TransformerBlock", "GPT"]


def layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise the last axis to mean 0, variance 1, then scale by ``gamma`` and shift by ``beta``."""
    ### BEGIN SOLUTION
    mean = x.data.mean(axis=-1, keepdims=True)
    centred = x.data - mean
    rstd = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
    normed = centred * rstd
    out = normed * gamma.data + beta.data
    return Tensor._from_op(out.astype(x.dtype, copy=False), (x, gamma, beta), "layer_norm", normed=normed, rstd=rstd)
    ### END SOLUTION


@gradient("layer_norm")
def _layer_norm(grad, ctx):
    """dx = rstd * (g - mean(g) - x_hat * mean(g * x_hat)) with g = grad * gamma."""
    ### BEGIN SOLUTION
    x, gamma, _ = ctx.parents
    normed, rstd = ctx.saved["normed"], ctx.saved["rstd"]
    g = grad * gamma.data
    grad_x = rstd * (g - g.mean(axis=-1, keepdims=True) - normed * (g * normed).mean(axis=-1, keepdims=True))
    leading = tuple(range(grad.ndim - 1))
    return grad_x, (grad * normed).sum(axis=leading), grad.sum(axis=leading)
    ### END SOLUTION


class LayerNorm(Module):
    """Per-position normalisation over the last ``dim`` features, with learned scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5):
        self.dim, self.eps = dim, eps
        self.gamma = Tensor(np.ones(dim, dtype=np.float32), requires_grad=True)
        self.beta = Tensor(np.zeros(dim, dtype=np.float32), requires_grad=True)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"LayerNorm({self.dim}) got input with last dimension {x.shape[-1]}")
        return layer_norm(x, self.gamma, self.beta, self.eps)

    def __repr__(self) -> str:
        return f"LayerNorm({self.dim})"


class MLP(Module):
    """Position-wise feed-forward: Linear(d, hidden) -> GELU -> Linear(hidden, d), hidden = 4d."""

    def __init__(self, embed_dim: int, hidden_dim: int | None = None, dropout: float = 0.0):
        self.embed_dim, self.hidden_dim = embed_dim, hidden_dim or 4 * embed_dim
        self.fc1 = Linear(embed_dim, self.hidden_dim)
        self.act = GELU()
        self.fc2 = Linear(self.hidden_dim, embed_dim)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        flat = x.reshape(-1, self.embed_dim)  # one 2-D matmul instead of a batch of small ones
        out = self.fc2(self.act(self.fc1(flat)))
        return self.dropout(out.reshape(x.shape))
        ### END SOLUTION


class TransformerBlock(Module):
    """Pre-norm block: ``x + attn(ln1(x))`` then ``x + mlp(ln2(x))``."""

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4, dropout: float = 0.0):
        self.ln1 = LayerNorm(embed_dim)
        self.attn = MultiHeadAttention(embed_dim, num_heads)
        self.ln2 = LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, mlp_ratio * embed_dim, dropout)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, mask=None, cache=None) -> Tensor:
        ### BEGIN SOLUTION
        x = x + self.dropout(self.attn(self.ln1(x), mask=mask, cache=cache))
        return x + self.mlp(self.ln2(x))
        ### END SOLUTION


class GPT(Module):
    """Decoder-only language model: ``GPT(...)(ids (batch, T))`` -> logits (batch, T, vocab_size).

    ``forward(ids, cache=None)``: with a KV cache (see module 15) ``ids`` holds only the new
    tokens; their positions continue after the ``cache.length`` tokens already seen.
    Weights start as in GPT-2: N(0, 0.02), with the projections into the residual stream
    scaled by 1/sqrt(2 * num_layers) so the stream's variance does not grow with depth.
    """

    def __init__(self, vocab_size: int, embed_dim: int, num_layers: int, num_heads: int, max_seq_len: int,
                 dropout: float = 0.0, rng: np.random.Generator | None = None):
        self.vocab_size, self.embed_dim, self.num_layers = vocab_size, embed_dim, num_layers
        self.num_heads, self.max_seq_len = num_heads, max_seq_len
        self.token_embedding = Embedding(vocab_size, embed_dim)
        self.position_embedding = PositionalEncoding(max_seq_len, embed_dim)
        self.blocks = [TransformerBlock(embed_dim, num_heads, dropout=dropout) for _ in range(num_layers)]
        self.ln_f = LayerNorm(embed_dim)
        self.head = Linear(embed_dim, vocab_size)
        self._init_weights(rng or default_rng())

    def _init_weights(self, rng: np.random.Generator) -> None:
        residual = {id(b.attn.out_proj.weight) for b in self.blocks} | {id(b.mlp.fc2.weight) for b in self.blocks}
        for p in self.parameters():
            if p.ndim == 2:  # weight matrices and tables; biases stay 0, LayerNorm scales 1
                std = 0.02 / np.sqrt(2 * self.num_layers) if id(p) in residual else 0.02
                p.data[...] = rng.normal(0.0, std, size=p.shape)

    def forward(self, ids, cache=None) -> Tensor:
        ids = np.asarray(getattr(ids, "data", ids))
        if ids.ndim != 2:
            raise ValueError(f"GPT expects token ids of shape (batch, T), got {ids.shape}")
        past = cache.length if cache is not None else 0
        steps = ids.shape[1]
        if past + steps > self.max_seq_len:
            raise ValueError(f"sequence of {past + steps} tokens exceeds max_seq_len={self.max_seq_len}")
        ### BEGIN SOLUTION
        x = self.position_embedding(self.token_embedding(ids), offset=past)
        mask = causal_mask(steps, past + steps) if steps > 1 else None  # one new token may see all
        for i, block in enumerate(self.blocks):
            x = block(x, mask=mask, cache=cache.layer(i) if cache is not None else None)
        logits = self.head(self.ln_f(x).reshape(-1, self.embed_dim))
        return logits.reshape(ids.shape[0], steps, self.vocab_size)
        ### END SOLUTION

    def __repr__(self) -> str:
        return (f"GPT(vocab_size={self.vocab_size}, embed_dim={self.embed_dim}, num_layers={self.num_layers}, "
                f"num_heads={self.num_heads}, max_seq_len={self.max_seq_len})")
