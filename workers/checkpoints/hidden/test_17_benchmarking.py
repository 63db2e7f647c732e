"""Module 17 - Benchmarking: hidden checks (graders only): the Profiler's counts on real
models against the hand formulas, the bootstrap interval and real timings."""

import numpy as np

from harness.checkpoints import assert_equal, check
from harness.checkpoints.public.test_17_benchmarking import (IMPORT, attention_flops,
                                                              conv2d_flops, linear_flops)


def profile(student, model, input_shape):
    student.exec(f"{IMPORT}\nfrom tinytorch.core.attention import MultiHeadAttention\n"
                 "from tinytorch.core.spatial import Conv2d\nfrom tinytorch.core.layers import "
                 f"Flatten\nreport = Profiler().profile({model}, Tensor(np.ones({input_shape})))")
    return student.eval("[int(report.flops), int(report.parameters), "
                        "[[layer.kind, int(layer.flops)] for layer in report.layers]]")


@check("benchmarking.profiler.mlp", "Profiler counts the FLOPs and parameters of a two-layer MLP "
       "like the hand formulas", "hidden")
def test_profiler_mlp(student):
    flops, params, layers = profile(student, "Sequential(Linear(8, 16), ReLU(), Linear(16, 4))",
                                    (5, 8))
    expected = [["Linear", linear_flops(5, 8, 16, True)], ["Linear", linear_flops(5, 16, 4, True)]]
    assert_equal(layers, expected, what="[kind, FLOPs] of each layer for a (5, 8) input")
    assert_equal(flops, sum(f for _, f in expected), what="the total FLOPs")
    assert_equal(params, 8 * 16 + 16 + 16 * 4 + 4, what="the parameters")


@check("benchmarking.profiler.conv", "Profiler counts a Conv2d and the Linear after it like the "
       "hand formulas", "hidden")
def test_profiler_conv(student):
    flops, params, _ = profile(student, "Sequential(Conv2d(3, 4, 3, padding=1), Flatten(), "
                               "Linear(144, 10))", (2, 3, 6, 6))
    expected = conv2d_flops((2, 4, 6, 6), (4, 3, 3, 3), True) + linear_flops(2, 144, 10, True)
    assert_equal(flops, expected, what="the FLOPs of Conv2d(3, 4, 3, padding=1) -> Linear(144, 10)"
                 " on a (2, 3, 6, 6) input")
    assert_equal(params, 4 * 27 + 4 + 144 * 10 + 10, what="the parameters")


@check("benchmarking.profiler.attention", "Profiler counts MultiHeadAttention as four Linear "
       "projections plus the two attention matmuls", "hidden")
def test_profiler_attention(student):
    flops, _, layers = profile(student, "MultiHeadAttention(16, 2)", (2, 5, 16))
    expected = 4 * linear_flops(10, 16, 16, True) + attention_flops(2, 2, 5, 5, 8)
    assert_equal(flops, expected, what="the FLOPs of MultiHeadAttention(16, 2) on (2, 5, 16)")
    assert_equal(sorted(kind for kind, _ in layers), ["Linear"] * 4 + ["attention"],
                 what="the kinds of the counted layers")


@check("benchmarking.summarize.bootstrap", "the bootstrap interval widens with the confidence "
       "and with the spread of the timings", "hidden")
def test_summarize_bootstrap(student):
    rng = np.random.default_rng(32)
    tight, loose = 1 + 0.01 * rng.random(30), 1 + 0.5 * rng.random(30)
    student.exec(f"{IMPORT}\ndef width(times, confidence):\n"
                 "    r = summarize_times(times, confidence=confidence)\n"
                 "    return float(r.ci_high - r.ci_low)")
    widths = {label: student.eval(f"width({times.tolist()!r}, {conf})")
              for label, times, conf in [("tight 95%", tight, 0.95), ("loose 95%", loose, 0.95),
                                         ("loose 50%", loose, 0.5)]}
    if not widths["tight 95%"] < widths["loose 95%"]:
        raise AssertionError(f"widely spread timings gave a narrower interval: {widths}")
    if not 0 < widths["loose 50%"] < widths["loose 95%"]:
        raise AssertionError(f"a 50% interval should be narrower than a 95% one: {widths}")


@check("benchmarking.benchmark.real_timer", "Benchmark with the real clock measures a 10 ms "
       "sleep as about 10 ms", "hidden")
def test_benchmark_real_timer(student):
    student.exec(f"{IMPORT}\nimport time\nr = Benchmark(warmup=1, repeats=5).run(time.sleep, 0.01)")
    assert_equal(student.eval("len(r.times)"), 5, what="the number of timings")
    median = student.eval("float(r.median)")
    if not 0.009 <= median <= 0.06:
        raise AssertionError(f"time.sleep(0.01) measured {median * 1e3:.1f} ms")
