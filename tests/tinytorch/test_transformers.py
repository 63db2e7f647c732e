"""Module 14: fused LayerNorm, the pre-norm block, and a GPT that can memorise a string."""

import time

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tests.tinytorch.precision import to_float64
from tinytorch import CrossEntropyLoss, Tensor
from tinytorch.core.attention import causal_mask
from tinytorch.core.layers import manual_seed
from tinytorch.core.optimizers import Adam
from tinytorch.core.transformers import GPT, MLP, LayerNorm, TransformerBlock


def test_layer_norm_normalises_the_last_axis():
    x = Tensor(np.random.default_rng(0).normal(3.0, 5.0, size=(4, 7, 16)))
    out = LayerNorm(16)(x).data
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(-1), 1, atol=1e-3)


def test_layer_norm_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    ln = to_float64(LayerNorm(5))
    ln.gamma.data[:] = rng.normal(size=5)
    ln.beta.data[:] = rng.normal(size=5)
    x = random_tensor(rng, 2, 3, 5)
    w = Tensor(rng.normal(size=(2, 3, 5)), dtype=np.float64)  # a non-uniform upstream gradient
    assert_gradients_match(lambda x, g, b: ln(x) * w, x, ln.gamma, ln.beta)


def test_mlp_and_transformer_block_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    mlp = to_float64(MLP(4, 8))
    x = random_tensor(rng, 2, 3, 4)
    assert_gradients_match(lambda x, w: mlp(x), x, mlp.fc1.weight)
    manual_seed(3)
    block = to_float64(TransformerBlock(embed_dim=4, num_heads=2))
    params = block.parameters()
    assert len(params) == 4 + 8 + 4  # two LayerNorms, attention, MLP
    x = random_tensor(rng, 2, 3, 4)
    assert_gradients_match(lambda x, *ps: block(x, mask=causal_mask(3)), x, *params)


def test_gpt_returns_logits_per_position_and_is_causal():
    manual_seed(0)
    model = GPT(vocab_size=11, embed_dim=8, num_layers=2, num_heads=2, max_seq_len=6)
    ids = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
    logits = model(ids)
    assert logits.shape == (2, 5, 11)
    changed = ids.copy()
    changed[:, -1] = 0
    np.testing.assert_allclose(model(changed).data[:, :4], logits.data[:, :4], atol=1e-6)
    with pytest.raises(ValueError, match="max_seq_len=6"):
        model(np.zeros((1, 7), dtype=int))


def test_gpt_loss_gradients_match_finite_differences():
    manual_seed(4)
    model = to_float64(GPT(vocab_size=7, embed_dim=4, num_layers=1, num_heads=2, max_seq_len=5))
    for p in model.parameters():
        if p.ndim == 2:
            p.data *= 25  # from the 0.02 init to weights whose gradients are far above the tolerance
    ids, targets = np.array([[1, 3, 3, 0], [6, 1, 1, 1]]), np.array([[3, 3, 0, 2], [1, 1, 1, 5]])
    loss_fn = CrossEntropyLoss()
    params = [model.token_embedding.weight, model.position_embedding.weight, model.ln_f.gamma, model.head.weight]
    assert_gradients_match(lambda *ps: loss_fn(model(ids).reshape(-1, 7), targets.reshape(-1)), *params)


def test_tiny_gpt_overfits_a_64_character_string_in_seconds():
    text = "To be, or not to be, that is the question: whether 'tis nobler."
    text = (text + " " * 64)[:64]
    vocab = sorted(set(text))
    ids = np.array([[vocab.index(c) for c in text]])
    manual_seed(0)
    model = GPT(vocab_size=len(vocab), embed_dim=32, num_layers=2, num_heads=2, max_seq_len=64)
    optimizer = Adam(model.parameters(), lr=1e-2)
    loss_fn = CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(150):
        logits = model(ids[:, :-1])
        loss = loss_fn(logits.reshape(-1, len(vocab)), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05, f"loss after 150 steps: {loss.item():.3f}"
    assert time.perf_counter() - start < 30
