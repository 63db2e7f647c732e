"""Module 17 - Benchmarking: public checks (shipped to students with the starter).

FLOP counts are compared with the hand formulas (a multiply-add is 2 FLOPs, a bias add 1);
timing statistics with NumPy's percentiles over timings fed through a scripted clock.  Each
check tries fixed cases and cases drawn for the job.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.activations import ReLU\n"
          "from tinytorch.core.layers import Linear, Sequential\n"
          "from tinytorch.perf.benchmarking import (Benchmark, summarize_times, count_parameters,"
          " linear_flops, conv2d_flops, attention_flops, Profiler)")
TIMES = [0.005, 0.001, 0.003, 0.002, 0.004, 0.1, 0.0035]


def linear_flops(rows, in_features, out_features, bias):
    return rows * out_features * (2 * in_features + bias)


def conv2d_flops(output_shape, weight_shape, bias):
    return int(np.prod(output_shape)) * (2 * int(np.prod(weight_shape[1:])) + bias)


def attention_flops(batch, heads, queries, keys, head_dim):
    return 2 * 2 * batch * heads * queries * keys * head_dim   # Q K^T and weights @ V


def assert_counts(student, name, formula, cases):
    """``name(*args)`` in the runner equals ``formula(*args)`` here, for each case."""
    student.exec(IMPORT)
    for args in cases:
        assert_equal(student.eval(f"int({name}(*{args!r}))"), formula(*args),
                     what=f"{name}{args}")


@check("benchmarking.linear_flops.formula", "linear_flops counts 2 FLOPs per multiply-add and 1 "
       "per bias add", "public")
def test_linear_flops_formula(student, rng):
    rows, inputs, outputs = _sizes(rng, 3, high=200)
    assert_counts(student, "linear_flops", linear_flops,
                  [(3, 4, 5, True), (3, 4, 5, False), (32, 784, 128, True),
                   (rows, inputs, outputs, True), (rows, inputs, outputs, False)])


@check("benchmarking.conv2d_flops.formula", "conv2d_flops counts C*KH*KW multiply-adds (plus the "
       "bias) per output element", "public")
def test_conv2d_flops_formula(student, rng):
    n, f, oh, ow, c, kh, kw = _sizes(rng, 7, low=1, high=12)
    assert_counts(student, "conv2d_flops", conv2d_flops,
                  [((2, 4, 5, 5), (4, 3, 3, 3), True), ((1, 8, 10, 12), (8, 2, 5, 3), False),
                   ((n, f, oh, ow), (f, c, kh, kw), True), ((n, f, oh, ow), (f, c, kh, kw), False)])


@check("benchmarking.attention_flops.formula", "attention_flops counts both matmuls (Q K^T and "
       "weights @ V) of every head", "public")
def test_attention_flops_formula(student, rng):
    assert_counts(student, "attention_flops", attention_flops,
                  [(2, 4, 5, 7, 8), (1, 1, 3, 3, 2), tuple(_sizes(rng, 5, low=1, high=20))])


@check("benchmarking.count_parameters.values", "count_parameters counts every weight and bias "
       "of a model", "public")
def test_count_parameters_values(student, rng):
    student.exec(IMPORT)
    for a, b, c, d in ((8, 16, 4, 3), _sizes(rng, 4, low=1, high=40)):
        model = (f"Sequential(Linear({a}, {b}), ReLU(), Linear({b}, {c}), "
                 f"Linear({c}, {d}, bias=False))")
        assert_equal(student.eval(f"int(count_parameters({model}))"), a * b + b + b * c + c + c * d,
                     what=f"count_parameters({model})")


@check("benchmarking.summarize.percentiles", "summarize_times reports the median and quartiles, "
       "with a bootstrap interval around the median", "public")
def test_summarize_percentiles(student, rng):
    drawn = rng.gamma(2.0, 0.002, int(rng.integers(5, 12))).round(7).tolist()
    for times, seed in ((TIMES, 1), (drawn, int(rng.integers(1000)))):
        student.exec(f"{IMPORT}\nr = summarize_times({times!r}, name='t', seed={seed})\n"
                     f"again = summarize_times({times!r}, name='t', seed={seed})")
        q1, median, q3 = np.percentile(times, [25, 50, 75])
        got = student.eval("[float(r.q1), float(r.median), float(r.q3)]")
        assert_array(np.array(got), [q1, median, q3], rtol=1e-9,
                     what=f"[q1, median, q3] of {times}")
        low, high = student.eval("[float(r.ci_low), float(r.ci_high)]")
        if not min(times) <= low <= median <= high <= max(times):
            raise AssertionError(f"the confidence interval [{low}, {high}] should hold the "
                                 f"median {median} and lie within the timings {times}")
        assert_equal(student.eval("[again.ci_low, again.ci_high]"), [low, high],
                     what=f"the interval of a second call with the same seed ({seed})")


@check("benchmarking.benchmark.run", "Benchmark(warmup=2, repeats=4) calls the function 6 times "
       "and times only the last 4; warmup=0 makes no warm-up call", "public")
def test_benchmark_run(student, rng):
    check_run(student, [0.0, 1.0, 10.0, 12.0, 20.0, 23.0, 30.0, 34.0], 2, 4)
    check_run(student, [5.0, 7.5], 0, 1)
    check_run(student, scripted_ticks(rng, rng.uniform(0.5, 5, 4)), 2, 4)
    repeats = int(rng.integers(1, 4))
    check_run(student, scripted_ticks(rng, rng.uniform(0.5, 5, repeats)), 0, repeats)


def scripted_ticks(rng, durations):
    """Clock readings around calls of ``durations`` with gaps of 1-2 s between calls."""
    return np.cumsum(np.stack([rng.uniform(1, 2, len(durations)), durations], 1).ravel()).tolist()


def check_run(student, ticks, warmup, repeats):
    """Benchmark(warmup, repeats) with a clock reading ``ticks`` calls the function warmup +
    repeats times and times each timed call from the ticks around it."""
    student.exec(f"{IMPORT}\nticks = iter({ticks!r})\ncalls = []\n"
                 f"r = Benchmark(warmup={warmup}, repeats={repeats}, "
                 "timer=lambda: next(ticks)).run(calls.append, 7)")
    times = np.subtract(ticks[1::2], ticks[::2])
    what = f"Benchmark(warmup={warmup}, repeats={repeats}) with a clock ticking {ticks}"
    assert_equal(student.eval("len(calls)"), warmup + repeats, what=f"the calls of {what}")
    got = student.eval("[[float(t) for t in r.times], float(r.median)]")
    assert_array(np.array(got[0]), times, rtol=1e-12, what=f"the timings of {what}")
    assert_array(np.array(got[1]), np.median(times), rtol=1e-12, what=f"the median of {what}")


@check("benchmarking.benchmark.arguments", "Benchmark.run passes positional and keyword "
       "arguments to every call, names the result, and summarises the scripted timings",
       "public")
def test_benchmark_arguments(student, rng):
    warmup, repeats = (int(v) for v in rng.integers(1, 5, size=2) + [0, 2])
    durations = rng.uniform(0.001, 0.01, repeats).round(6)
    ticks = scripted_ticks(rng, durations)
    student.exec(f"{IMPORT}\nticks = iter({ticks!r})\ncalls = []\n"
                 f"bench = Benchmark(warmup={warmup}, repeats={repeats}, timer=lambda: next(ticks))\n"
                 "r = bench.run(lambda x, scale=1: calls.append([x, scale]), 7, name='scaled', scale=3)")
    assert_equal(student.eval("calls"), [[7, 3]] * (warmup + repeats),
                 what=f"the (x, scale) of each call with warmup={warmup}, repeats={repeats}")
    assert_equal(student.eval("r.name"), "scaled", what="the result's name")
    got = student.eval("[list(r.times), r.median, r.q1, r.q3]")
    assert_array(np.array(got[0], dtype=float), durations, rtol=1e-9, what="the timings")
    assert_array(np.array(got[1:], dtype=float), np.percentile(durations, [50, 25, 75]),
                 rtol=1e-9, what="[median, q1, q3] of the timings")
