"""Module 17: Benchmark statistics on injected timings, Profiler counts against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch import Flatten, KVCache, Linear, ReLU, Sequential, Tensor, no_grad
from tinytorch.core.attention import MultiHeadAttention
from tinytorch.core.spatial import Conv2d
from tinytorch.perf.benchmarking import Benchmark, Profiler, summarize_times


# -------------------------------------------------------------------- Benchmark
class _ScriptedClock:
    """A clock whose readings are given in advance; logs each reading."""

    def __init__(self, readings, log):
        self.readings, self.log = iter(readings), log

    def __call__(self):
        self.log.append("clock")
        return next(self.readings)


def test_benchmark_times_only_the_repeats_after_warmup():
    log = []
    readings = [10.0, 10.5, 20.0, 20.1, 30.0, 30.3, 40.0, 40.2]  # durations 0.5, 0.1, 0.3, 0.2
    bench = Benchmark(warmup=2, repeats=4, timer=_ScriptedClock(readings, log))
    result = bench.run(lambda: log.append("call"), name="f")
    assert log[:2] == ["call", "call"]  # warm-up calls come first and are not timed
    assert log[2:] == ["clock", "call", "clock"] * 4
    assert result.times == pytest.approx((0.5, 0.1, 0.3, 0.2))
    assert result.median == pytest.approx(0.25)
    assert result.name == "f"


def test_summary_of_known_timings():
    result = summarize_times(np.arange(1.0, 10.0), name="known")
    assert (result.q1, result.median, result.q3) == (3.0, 5.0, 7.0)
    assert result.iqr == 4.0
    assert result.ci_low < 5.0 < result.ci_high
    assert 1.0 <= result.ci_low and result.ci_high <= 9.0
    assert "median 5000.000 ms" in str(result) and "95% CI" in str(result)


def test_constant_timings_give_a_zero_width_interval():
    result = summarize_times([0.002] * 15)
    assert result.ci_low == result.median == result.ci_high == 0.002
    assert result.iqr == 0.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=10.0), min_size=1, max_size=40))
def test_interval_and_quartiles_bracket_the_median(times):
    result = summarize_times(times, resamples=500)
    assert result.q1 <= result.median <= result.q3
    assert result.ci_low <= result.median <= result.ci_high
    assert min(times) <= result.ci_low and result.ci_high <= max(times)


def test_interval_is_reproducible_and_narrows_with_more_repeats():
    rng = np.random.default_rng(0)
    few, many = rng.lognormal(-6, 0.3, size=10), rng.lognormal(-6, 0.3, size=400)
    assert summarize_times(few) == summarize_times(few)
    width = lambda r: r.ci_high - r.ci_low  # noqa: E731
    assert width(summarize_times(many)) < width(summarize_times(few)) / 3


def test_interval_covers_the_true_median_at_about_the_stated_rate():
    """Skewed, timing-like samples (lognormal) whose true median, e^mu, is known."""
    rng = np.random.default_rng(1)
    true_median = np.exp(-5.0)
    trials = 200
    covered = sum(
        r.ci_low <= true_median <= r.ci_high
        for r in (summarize_times(rng.lognormal(-5.0, 0.5, size=25), resamples=1000, seed=i) for i in range(trials))
    )
    assert 0.88 <= covered / trials <= 0.99


def test_ratio_between_results():
    slow, fast = summarize_times([2.0, 2.0, 2.0]), summarize_times([0.5, 0.5, 0.5])
    assert slow.ratio_to(fast) == 4.0


@pytest.mark.parametrize(
    "times, kwargs, message",
    [([], {}, "non-empty"), ([0.1, -1.0], {}, "non-negative"), ([0.1, float("nan")], {}, "finite"),
     ([0.1], {"confidence": 1.5}, "between 0 and 1")],
)  # fmt: skip
def test_summary_rejects_bad_input(times, kwargs, message):
    with pytest.raises(ValueError, match=message):
        summarize_times(times, **kwargs)


# --------------------------------------------------------------------- Profiler
def test_profiler_counts_a_conv_and_linear_model_by_hand():
    model = Sequential(Conv2d(3, 4, kernel_size=3, padding=1), ReLU(), Flatten(), Linear(100, 10))
    report = Profiler().profile(model, Tensor(np.ones((2, 3, 5, 5))))
    conv, linear = report.layers
    assert (conv.name, conv.kind, conv.output_shape) == ("layers.0", "Conv2d", (2, 4, 5, 5))
    assert conv.flops == 2 * 4 * 5 * 5 * (2 * 3 * 3 * 3 + 1)  # outputs * (2*C*KH*KW + bias) = 11,000
    assert conv.parameters == 4 * 3 * 3 * 3 + 4
    assert (linear.name, linear.input_shape) == ("layers.3", (2, 100))
    assert linear.flops == 2 * 10 * (2 * 100 + 1)  # rows * out * (2*in + bias) = 4,020
    assert report.parameters == 112 + 1010
    assert report.flops == 11_000 + 4_020
    assert "layers.0" in report.table() and "15.02k" in report.table()


def test_profiler_counts_attention_core_and_projections_separately():
    attention = MultiHeadAttention(embed_dim=8, num_heads=2)
    report = Profiler().profile(attention, Tensor(np.ones((2, 3, 8))))
    core = report.layers[0]
    assert (core.name, core.kind) == ("(model)", "attention")
    assert core.flops == 2 * 2 * (2 * 2 * 3 * 3 * 4)  # two matmuls, batch 2, heads 2, 3x3 scores, head_dim 4
    projections = [layer for layer in report.layers if layer.kind == "Linear"]
    assert [p.name for p in projections] == ["q_proj", "k_proj", "v_proj", "out_proj"]
    assert all(p.flops == 6 * 8 * (2 * 8 + 1) for p in projections)
    assert report.parameters == 4 * (8 * 8 + 8)

    cache = KVCache(num_layers=1, batch=2, num_heads=2, head_dim=4, max_len=8).layer(0)
    with no_grad():
        attention(Tensor(np.ones((2, 5, 8))), cache=cache)  # the prompt: 5 positions cached
    cached = Profiler().profile(attention, Tensor(np.ones((2, 1, 8))), cache=cache)
    assert cached.layers[0].flops == 2 * 2 * (2 * 2 * 1 * 6 * 4)  # one new query against 6 keys


def test_profiler_counts_a_shared_layer_once_per_call_and_restores_forward():
    shared = Linear(4, 4)
    model = Sequential(shared, ReLU(), shared)
    report = Profiler().profile(model, Tensor(np.ones((3, 4))))
    (layer,) = report.layers
    assert layer.calls == 2 and layer.flops == 2 * 3 * 4 * (2 * 4 + 1)
    assert "forward" not in vars(shared)


def test_profiler_restores_forward_when_the_model_fails():
    model = Sequential(Linear(4, 2))
    with pytest.raises(ValueError, match="got input with 3 features"):
        Profiler().profile(model, Tensor(np.ones((1, 3))))
    assert "forward" not in vars(model.layers[0])


def test_profiler_peak_memory_sees_the_activations():
    model = Sequential(Linear(256, 1024))
    report = Profiler().profile(model, Tensor(np.ones((256, 256))))
    output_bytes = 256 * 1024 * 4
    assert output_bytes <= report.peak_memory_bytes < 4 * output_bytes


def test_compare_puts_two_models_side_by_side_with_ratios():
    small = Sequential(Linear(8, 16), ReLU(), Linear(16, 4))
    wide = Sequential(Linear(8, 64), ReLU(), Linear(64, 4))
    clock = iter(np.arange(0, 100, 0.5))
    table = Profiler().compare(small, wide, Tensor(np.ones((5, 8))), labels=("small", "wide"),
                               benchmark=Benchmark(warmup=0, repeats=3, timer=lambda: next(clock)))
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert lines["parameters"][1:] == ["212", "836", f"{836 / 212:.2f}"]
    assert lines["forward"][-1] == f"{(5 * 64 * 17 + 5 * 4 * 129) / (5 * 16 * 17 + 5 * 4 * 33):.2f}"
    assert lines["median"][-1] == "1.00"  # the scripted clock makes every call 0.5 s
