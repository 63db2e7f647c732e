"""Module 12 - Embeddings: from token ids to vectors, and telling the model where each one sits.

``Embedding`` is a lookup table: row i of a (vocab_size, embed_dim) matrix is the vector of
token i. Its gradient is sparse: only the rows that were looked up receive gradient, and a
token that appears twice in a batch receives the sum of both (the ``getitem`` rule of
module 07 scatter-adds with ``np.add.at``; plain ``full[idx] += grad`` would keep only one).

Attention by itself ignores order, so the position of each token is added to its vector:
either a learned table (``PositionalEncoding``, as in GPT) or fixed sines and cosines of
geometrically spaced frequencies (``sinusoidal_encoding``, as in the original Transformer),
which need no parameters.

Systems cost:
    memory  - vocab_size * embed_dim floats for the table (GPT-2's 50257 x 768 is 147 MiB in
              float32), and a dense gradient of the same size after backward, although only
              the looked-up rows are non-zero.
    compute - a forward lookup copies batch*T*embed_dim floats: no FLOPs, pure memory traffic.
              The backward scatter-add is O(batch*T*embed_dim).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.layers import Module, default_rng
from tinytorch.core.tensor import Tensor

__all__ = ["Embedding", "PositionalEncoding", "sinusoidal_encoding"]


def _token_ids(ids, vocab_size: int) -> np.ndarray:
    """Integer array of ids, checked against the table so a bad id fails with a clear message."""
    data = np.asarray(getattr(ids, "data", ids))
    if data.size and not np.issubdtype(data.dtype, np.integer):
        if not np.all(data == np.round(data)):
            raise TypeError(f"Embedding needs integer token ids, got {data.dtype} values")
    data = data.astype(np.int64)
    if data.size and (data.min() < 0 or data.max() >= vocab_size):
        raise IndexError(f"token ids must be in [0, {vocab_size}), got {data.min()}..{data.max()}")
    return data


class Embedding(Module):
    """Lookup table: ``Embedding(V, D)(ids)`` has shape ``ids.shape + (D,)``.

    Initialised N(0, 1) as in PyTorch; models that prefer smaller vectors rescale ``weight``.
    """

    def __init__(self, vocab_size: int, embed_dim: int, rng: np.random.Generator | None = None):
        if vocab_size < 1 or embed_dim < 1:
            raise ValueError(f"Embedding needs positive sizes, got ({vocab_size}, {embed_dim})")
        self.vocab_size, self.embed_dim = vocab_size, embed_dim
        ### BEGIN SOLUTION
        table = (rng or default_rng()).standard_normal((vocab_size, embed_dim)).astype(np.float32)
        self.weight = Tensor(table, requires_grad=True)
        ### END SOLUTION

    def forward(self, ids) -> Tensor:
        ids = _token_ids(ids, self.vocab_size)
        ### BEGIN SOLUTION
        return self.weight[ids]
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Embedding({self.vocab_size}, {self.embed_dim})"


class PositionalEncoding(Module):
    """Learned position vectors added to (batch, T, embed_dim) inputs.

    ``forward(x, offset=0)`` adds the vectors of positions ``offset .. offset+T-1``; the offset
    lets a KV-cached generator feed one new token at position ``offset``.
    """

    def __init__(self, max_seq_len: int, embed_dim: int, rng: np.random.Generator | None = None):
        if max_seq_len < 1 or embed_dim < 1:
            raise ValueError(f"PositionalEncoding needs positive sizes, got ({max_seq_len}, {embed_dim})")
        self.max_seq_len, self.embed_dim = max_seq_len, embed_dim
        ### BEGIN SOLUTION
        table = 0.02 * (rng or default_rng()).standard_normal((max_seq_len, embed_dim))
        self.weight = Tensor(table.astype(np.float32), requires_grad=True)
        ### END SOLUTION

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        steps = x.shape[-2]
        if offset < 0 or offset + steps > self.max_seq_len:
            raise ValueError(f"positions {offset}..{offset + steps - 1} exceed max_seq_len={self.max_seq_len}")
        if x.shape[-1] != self.embed_dim:
            raise ValueError(f"PositionalEncoding({self.max_seq_len}, {self.embed_dim}) got input shape {x.shape}")
        ### BEGIN SOLUTION
        return x + self.weight[offset:offset + steps]
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"PositionalEncoding({self.max_seq_len}, {self.embed_dim})"


def sinusoidal_encoding(max_seq_len: int, embed_dim: int) -> np.ndarray:
    """(max_seq_len, embed_dim) float32: sin on even columns, cos on odd, wavelengths 2*pi .. 10000*2*pi.

    Any fixed offset between two positions is a rotation of each (sin, cos) pair, which makes
    relative positions easy for attention to read.
    """
    ### BEGIN SOLUTION
    positions = np.arange(max_seq_len)[:, None]
    frequencies = np.exp(-np.log(10000.0) * np.arange(0, embed_dim, 2) / embed_dim)
    angles = positions * frequencies[None, :]
    table = np.zeros((max_seq_len, embed_dim))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : embed_dim // 2])
    return table.astype(np.float32)
    ### END SOLUTION
