"""Module 15: sampling rules, the KV cache (identical and faster), and generation's contract."""

import numpy as np
import pytest

from tinytorch import no_grad
from tinytorch.core.generation import KVCache, generate, sample_next
from tinytorch.core.layers import manual_seed
from tinytorch.core.transformers import GPT


@pytest.fixture(scope="module")
def model():
    manual_seed(0)
    gpt = GPT(vocab_size=13, embed_dim=16, num_layers=2, num_heads=2, max_seq_len=40)
    for p in gpt.parameters():  # larger weights than the 0.02 init, so outputs depend on the context
        p.data *= 20
    return gpt


def test_greedy_is_argmax():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 2.9]])
    np.testing.assert_array_equal(sample_next(logits, np.random.default_rng(0), temperature=0), [1, 0])


def test_top_k_and_top_p_only_sample_from_the_allowed_tokens():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    draws = {int(sample_next(logits, rng, top_k=2)[0]) for _ in range(300)}
    assert draws == {0, 1}
    draws = {int(sample_next(logits, rng, top_p=0.9)[0]) for _ in range(300)}
    assert draws == {0, 1, 2}  # 0.5 + 0.3 < 0.9, so the third token is needed too
    draws = {int(sample_next(logits, rng, top_p=0.01)[0]) for _ in range(50)}
    assert draws == {0}  # the most likely token is always kept


def test_temperature_sharpens_and_flattens_the_distribution():
    logits = np.log(np.array([[0.6, 0.4]]))
    rng = np.random.default_rng(1)
    cold = np.mean([sample_next(logits, rng, temperature=0.2)[0] == 0 for _ in range(2000)])
    hot = np.mean([sample_next(logits, rng, temperature=5.0)[0] == 0 for _ in range(2000)])
    plain = np.mean([sample_next(logits, rng)[0] == 0 for _ in range(2000)])
    assert cold > 0.85 and 0.55 < plain < 0.65 and 0.45 < hot < 0.56


def test_cached_greedy_generation_equals_uncached_token_for_token(model):
    prompt = [1, 5, 2]
    cached = generate(model, prompt, max_new_tokens=30, temperature=0, use_cache=True)
    uncached = generate(model, prompt, max_new_tokens=30, temperature=0, use_cache=False)
    assert cached.shape == (33,) and list(cached[:3]) == prompt
    np.testing.assert_array_equal(cached, uncached)
    assert len(set(cached[3:].tolist())) > 1  # a constant output would make the check trivial


def test_cached_generation_equals_uncached_past_the_context_window_and_in_batches(model):
    prompt = np.array([[1, 2, 3, 4], [4, 3, 2, 1]])
    cached = generate(model, prompt, max_new_tokens=50, temperature=0.8, top_k=5, seed=3)
    uncached = generate(model, prompt, max_new_tokens=50, temperature=0.8, top_k=5, seed=3, use_cache=False)
    assert cached.shape == (2, 54)
    np.testing.assert_array_equal(cached, uncached)


def test_sampling_is_reproducible_with_a_seed(model):
    a = generate(model, [1], 20, temperature=1.0, top_p=0.9, seed=7)
    b = generate(model, [1], 20, temperature=1.0, top_p=0.9, seed=7)
    c = generate(model, [1], 20, temperature=1.0, top_p=0.9, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generation_restores_training_mode_and_records_no_graph(model):
    model.train()
    generate(model, [1, 2], 3)
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_with_the_cache_each_step_feeds_only_the_new_token(model):
    """Why the cache is faster (timed in bench/tinygpt.py): the model sees one new token
    per step instead of the whole sequence again."""
    fed, forward = [], model.forward

    def recording(ids, *args, **kwargs):
        fed.append(np.shape(ids)[1])
        return forward(ids, *args, **kwargs)

    model.forward = recording
    generate(model, [1, 2, 3], 5, temperature=0)
    assert fed == [3, 1, 1, 1, 1]
    fed.clear()
    generate(model, [1, 2, 3], 5, temperature=0, use_cache=False)
    assert fed == [3, 4, 5, 6, 7]


def test_feeding_the_cache_in_chunks_gives_the_logits_of_one_full_pass(model):
    ids = np.array([[1, 2, 3, 4, 5, 6, 7]])
    with no_grad():
        full = model(ids).data
        cache = KVCache.for_model(model, batch=1)
        first = model(ids[:, :3], cache=cache).data
        rest = model(ids[:, 3:], cache=cache).data  # 4 queries after 3 cached keys: offset causal mask
    assert cache.length == 7
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), full, rtol=1e-4, atol=1e-3)


def test_kv_cache_refuses_to_record_gradients_and_to_overflow(model):
    cache = KVCache.for_model(model, batch=1)
    with pytest.raises(RuntimeError, match="no_grad"):
        model(np.array([[1, 2]]), cache=cache)
    with no_grad():
        model(np.zeros((1, 40), dtype=int), cache=cache)
        assert cache.length == 40
        with pytest.raises(ValueError, match="max_seq_len"):
            model(np.array([[1]]), cache=cache)


def test_generate_rejects_bad_arguments(model):
    with pytest.raises(ValueError, match="non-empty"):
        generate(model, [], 3)
    with pytest.raises(ValueError, match="top_p"):
        generate(model, [1], 3, top_p=1.5)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, [1], -1)
