"""The trusted-side yardsticks of the checks of modules 10-18 are themselves right.

A check is only as good as the value it compares with: these tests hold the exact bootstrap
interval, the BPE replay and the scripted clock against independent computations, so a
wrong yardstick fails here instead of failing (or passing) students.
"""

import time
import types

import numpy as np
import pytest

from tinytorch.core.tokenization import BPETokenizer
from workers.checkpoints.hidden.test_11_tokenization import (encode_pieces, generated_corpus,
                                                             replay_training)
from workers.checkpoints.hidden.test_17_benchmarking import (CONFIDENCES, SAMPLES, interval_ranks,
                                                             median_cdf)
from harness.checkpoints.inputs_more import SCRIPTED_CLOCK


def test_the_exact_bootstrap_median_cdf_matches_resampling():
    rng = np.random.default_rng(0)
    times = np.sort(rng.gamma(2.0, 0.002, SAMPLES))
    medians = np.median(rng.choice(times, size=(200_000, SAMPLES)), axis=1)
    empirical = [(medians <= t).mean() for t in times]
    assert np.allclose(empirical, median_cdf(), atol=0.005)
    for confidence in CONFIDENCES:
        tail = (1 - confidence) / 2
        low, high = np.quantile(medians, [tail, 1 - tail])
        assert [low, high] == times[interval_ranks(confidence)].tolist()


def test_confidences_too_close_to_a_jump_of_the_cdf_are_left_out():
    assert interval_ranks(0.95) is None and 0.95 not in CONFIDENCES
    assert len(CONFIDENCES) >= 2


def reference_bpe(corpus, size):
    bpe = BPETokenizer(size).train(corpus)
    tokens = [bpe.decode([i]) for i in range(bpe.vocab_size)]
    return bpe, tokens[len(set(corpus)) + 1:]


@pytest.mark.parametrize("words, extra", [(500, 60), (40, 400)])
def test_the_bpe_replay_accepts_the_reference_and_predicts_its_encoding(words, extra):
    corpus, text = generated_corpus(words, seed=5), generated_corpus(60, seed=6) + " zq"
    size = len(set(corpus)) + 1 + extra
    bpe, learned = reference_bpe(corpus, size)
    merges = replay_training(corpus, learned, room_left=bpe.vocab_size < size)
    assert ["".join(pair) for pair in merges] == learned
    assert encode_pieces(text, merges, set(corpus)) == [bpe.decode([i]) for i in bpe.encode(text)]


def test_the_bpe_replay_rejects_a_merge_that_is_not_the_most_frequent():
    corpus = generated_corpus(500, seed=5)
    _, learned = reference_bpe(corpus, len(set(corpus)) + 31)
    with pytest.raises(AssertionError, match="most frequent pair"):
        replay_training(corpus, learned[:1] + learned[20:21] + learned[1:20], room_left=False)


def test_the_bpe_replay_rejects_training_that_stops_while_pairs_repeat():
    corpus = generated_corpus(40, seed=5)
    _, learned = reference_bpe(corpus, len(set(corpus)) + 401)
    with pytest.raises(AssertionError, match="training stopped"):
        replay_training(corpus, learned[:-3], room_left=True)


def scripted_namespace():
    namespace = {"np": np}
    exec(SCRIPTED_CLOCK, namespace)
    return namespace["scripted_timing"]


def test_the_scripted_clock_times_each_call_by_its_script_and_restores_the_clocks():
    scripted_timing = scripted_namespace()
    real = time.perf_counter
    module = types.ModuleType("timed")
    module.perf_counter = time.perf_counter   # a student's `from time import perf_counter`

    def measure(step):
        start, start_ns = module.perf_counter(), time.perf_counter_ns()
        step()
        return module.perf_counter() - start, time.perf_counter_ns() - start_ns

    (seconds, nanoseconds), clock = scripted_timing(module, [0.25], measure)
    assert (seconds, nanoseconds, clock.calls) == (0.25, 250_000_000, 1)
    assert time.perf_counter is real and module.perf_counter is real


def test_the_scripted_clock_restores_the_clocks_when_the_timed_code_raises():
    scripted_timing = scripted_namespace()
    real = time.monotonic

    def fail(step):
        raise RuntimeError("the student's timing routine crashed")

    with pytest.raises(RuntimeError):
        scripted_timing(types.ModuleType("timed"), [], fail)
    assert time.monotonic is real
