"""Module 15 - Generation: sampling text from a language model one token at a time.

Each step feeds the sequence so far through the model, takes the logits of the last position,
and picks the next token: the most likely one (greedy, ``temperature=0``), or a sample from
the softmax of ``logits / temperature``, optionally restricted to the ``top_k`` most likely
tokens or to the smallest set whose probability reaches ``top_p`` (nucleus sampling).

Without a cache, step n recomputes the keys and values of all n earlier tokens in every
layer. A ``KVCache`` keeps them: each step then runs the model on ONE new token, which attends
to the stored keys and values. The greedy output is identical token for token.

Systems cost:
    memory  - the cache holds 2 * num_layers * batch * max_seq_len * embed_dim floats,
              preallocated (e.g. 4 layers, 256 positions, 128 dims: 1 MiB per sequence).
    compute - uncached, generating N tokens costs O(N^2) token-forwards (O(N^3) attention);
              cached, O(N) token-forwards and O(N^2) attention. Past ``max_seq_len`` tokens the
              context must slide, positions shift, and the cache cannot be reused: generation
              then falls back to recomputing the window each step.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import is_grad_enabled, no_grad
from tinytorch.core.tensor import Tensor

__all__ = ["KVCache", "generate", "sample_next"]


class _LayerCache:
    """One layer's keys and values, (batch, heads, max_len, head_dim), filled left to right."""

    def __init__(self, batch: int, num_heads: int, head_dim: int, max_len: int, dtype):
        self.keys = np.zeros((batch, num_heads, max_len, head_dim), dtype=dtype)
        self.values = np.zeros_like(self.keys)
        self.length = 0

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append the new keys/values (batch, heads, t, head_dim); return all of them so far."""
        if is_grad_enabled():
            raise RuntimeError("KVCache is for inference: run generation under tinytorch.no_grad()")
        end = self.length + k.shape[2]
        if end > self.keys.shape[2]:
            raise ValueError(f"KVCache is full: {end} positions > max_len={self.keys.shape[2]}")
        ### BEGIN SOLUTION
        self.keys[:, :, self.length:end] = k.data
        self.values[:, :, self.length:end] = v.data
        self.length = end
        return Tensor(self.keys[:, :, :end]), Tensor(self.values[:, :, :end])
        ### END SOLUTION


class KVCache:
    """Keys and values of every layer of a model, for ``batch`` sequences of up to ``max_len``."""

    def __init__(self, num_layers: int, batch: int, num_heads: int, head_dim: int, max_len: int,
                 dtype=np.float32):
        self.layers = [_LayerCache(batch, num_heads, head_dim, max_len, dtype) for _ in range(num_layers)]
        self.max_len = max_len

    @classmethod
    def for_model(cls, model, batch: int) -> "KVCache":
        """A cache shaped for a ``GPT``."""
        dtype = model.token_embedding.weight.dtype
        return cls(model.num_layers, batch, model.num_heads, model.embed_dim // model.num_heads,
                   model.max_seq_len, dtype)

    @property
    def length(self) -> int:
        """How many positions the model has already seen (and stored)."""
        return self.layers[0].length

    def layer(self, i: int) -> _LayerCache:
        return self.layers[i]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sample_next(logits: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
                top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """Next token id per row of ``logits`` (batch, vocab)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1)
    ### BEGIN SOLUTION
    z = logits / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    probs = _softmax(z)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass of the more likely tokens
        drop = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(drop, order, before >= top_p, axis=-1)  # always keeps the top token
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(axis=-1, keepdims=True)
    draws = rng.random((probs.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=-1) < draws).sum(axis=-1), probs.shape[-1] - 1)
    ### END SOLUTION


def generate(model, prompt, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, use_cache: bool = True) -> np.ndarray:
    """Continue ``prompt`` (ids, shape (T,) or (batch, T)) by ``max_new_tokens`` tokens.

    Returns the prompt followed by the new ids, with the prompt's shape convention. The model
    is put in eval mode (and restored afterwards) and runs without recording gradients.
    """
    ids = np.asarray(getattr(prompt, "data", prompt)).astype(np.int64)
    single = ids.ndim == 1
    ids = ids[None, :] if single else ids
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"generate needs a non-empty prompt of shape (T,) or (batch, T), got {ids.shape}")
    if max_new_tokens < 0 or temperature < 0 or (top_k is not None and top_k < 1) \
            or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("need max_new_tokens >= 0, temperature >= 0, top_k >= 1, 0 < top_p <= 1; got "
                         f"{max_new_tokens}, {temperature}, {top_k}, {top_p}")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            ### BEGIN SOLUTION
            window = model.max_seq_len
            cache = KVCache.for_model(model, ids.shape[0]) if use_cache else None
            feed = ids[:, -window:]  # the cache starts with the (cropped) prompt
            for _ in range(max_new_tokens):
                if cache is not None and cache.length + feed.shape[1] > window:
                    cache = None  # the context must slide from here on: positions shift, no reuse
                logits = model(feed if cache is not None else ids[:, -window:], cache=cache)
                nxt = sample_next(logits.data[:, -1], rng, temperature, top_k, top_p)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
                feed = nxt[:, None]
            ### END SOLUTION
    finally:
        model.train(was_training)
    return ids[0] if single else ids
