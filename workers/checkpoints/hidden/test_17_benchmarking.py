"""Module 17 - Benchmarking: hidden checks (graders only): the Profiler's counts on real
models against the hand formulas, the bootstrap interval and real timings; each on fixed
sizes and on sizes drawn for the job."""

import math

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes
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
def test_profiler_mlp(student, rng):
    for rows, a, b, c in ((5, 8, 16, 4), _sizes(rng, 4, low=1, high=30)):
        model = f"Sequential(Linear({a}, {b}), ReLU(), Linear({b}, {c}))"
        flops, params, layers = profile(student, model, (rows, a))
        expected = [["Linear", linear_flops(rows, a, b, True)],
                    ["Linear", linear_flops(rows, b, c, True)]]
        assert_equal(layers, expected, what=f"[kind, FLOPs] of each layer of {model} for a "
                     f"({rows}, {a}) input")
        assert_equal(flops, sum(f for _, f in expected), what=f"the total FLOPs of {model}")
        assert_equal(params, a * b + b + b * c + c, what=f"the parameters of {model}")


@check("benchmarking.profiler.conv", "Profiler counts a Conv2d and the Linear after it like the "
       "hand formulas", "hidden")
def test_profiler_conv(student, rng):
    drawn = (*_sizes(rng, 3, low=1, high=6), int(rng.integers(1, 4)), int(rng.integers(0, 2)),
             _sizes(rng, 2, low=4), int(rng.integers(1, 12)))
    for n, c, f, kernel, padding, (h, w), outputs in ((2, 3, 4, 3, 1, (6, 6), 10), drawn):
        oh, ow = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
        conv = f"Conv2d({c}, {f}, {kernel}, padding={padding})"
        flops, params, _ = profile(student, f"Sequential({conv}, Flatten(), "
                                   f"Linear({f * oh * ow}, {outputs}))", (n, c, h, w))
        expected = (conv2d_flops((n, f, oh, ow), (f, c, kernel, kernel), True)
                    + linear_flops(n, f * oh * ow, outputs, True))
        what = f"{conv} -> Linear({f * oh * ow}, {outputs}) on a {(n, c, h, w)} input"
        assert_equal(flops, expected, what=f"the FLOPs of {what}")
        assert_equal(params, f * c * kernel**2 + f + f * oh * ow * outputs + outputs,
                     what=f"the parameters of {what}")


@check("benchmarking.profiler.attention", "Profiler counts MultiHeadAttention as four Linear "
       "projections plus the two attention matmuls", "hidden")
def test_profiler_attention(student, rng):
    for batch, heads, steps, head_dim in ((2, 2, 5, 8), _sizes(rng, 4, low=1, high=6)):
        width = heads * head_dim
        flops, _, layers = profile(student, f"MultiHeadAttention({width}, {heads})",
                                   (batch, steps, width))
        expected = (4 * linear_flops(batch * steps, width, width, True)
                    + attention_flops(batch, heads, steps, steps, head_dim))
        assert_equal(flops, expected, what=f"the FLOPs of MultiHeadAttention({width}, {heads}) "
                     f"on {(batch, steps, width)}")
        assert_equal(sorted(kind for kind, _ in layers), ["Linear"] * 4 + ["attention"],
                     what="the kinds of the counted layers")


@check("benchmarking.summarize.bootstrap", "the bootstrap interval widens with the confidence "
       "and with the spread of the timings", "hidden")
def test_summarize_bootstrap(student, rng):
    student.exec(f"{IMPORT}\ndef width(times, confidence):\n"
                 "    r = summarize_times(times, confidence=confidence)\n"
                 "    return float(r.ci_high - r.ci_low)")
    fixed = np.random.default_rng(32)
    for base, tight, loose in ((1, fixed.random(30), fixed.random(30)),
                               (rng.uniform(0.001, 1), rng.random(30), rng.random(30))):
        tight, loose = base * (1 + 0.01 * tight), base * (1 + 0.5 * loose)
        widths = {label: student.eval(f"width({times.tolist()!r}, {conf})")
                  for label, times, conf in [("tight 95%", tight, 0.95),
                                             ("loose 95%", loose, 0.95),
                                             ("loose 50%", loose, 0.5)]}
        if not widths["tight 95%"] < widths["loose 95%"]:
            raise AssertionError(f"widely spread timings gave a narrower interval: {widths}")
        if not 0 < widths["loose 50%"] < widths["loose 95%"]:
            raise AssertionError(f"a 50% interval should be narrower than a 95% one: {widths}")


@check("benchmarking.benchmark.real_timer", "Benchmark with the real clock measures a 10 ms "
       "sleep as about 10 ms", "hidden")
def test_benchmark_real_timer(student, rng):
    drawn = round(float(rng.uniform(0.005, 0.02)), 5), int(rng.integers(3, 7))
    for seconds, repeats in ((0.01, 5), drawn):
        student.exec(f"{IMPORT}\nimport time\n"
                     f"r = Benchmark(warmup=1, repeats={repeats}).run(time.sleep, {seconds})")
        assert_equal(student.eval("len(r.times)"), repeats,
                     what=f"the number of timings of Benchmark(warmup=1, repeats={repeats})")
        median = student.eval("float(r.median)")
        if not 0.9 * seconds <= median <= seconds + 0.05:
            raise AssertionError(f"time.sleep({seconds}) measured {median * 1e3:.1f} ms")


SAMPLES = 15          # odd: every bootstrap median is one of the timings
RESAMPLES = 20000     # empirical CDF within ~0.002 of the exact one


def median_cdf(samples=SAMPLES):
    """P(bootstrap median <= k-th smallest timing), k = 1..samples: at least (samples + 1) / 2
    of the draws must fall among the k smallest, a binomial tail (exact, value-free)."""
    need = (samples + 1) // 2
    return [sum(math.comb(samples, j) * (k / samples) ** j * (1 - k / samples) ** (samples - j)
                for j in range(need, samples + 1)) for k in range(1, samples + 1)]


def interval_ranks(confidence, margin=0.01):
    """0-based ranks of the timings the percentile interval lands on, or None when a tail is
    within ``margin`` of a jump of the exact CDF (then sampling noise could move it)."""
    tail, cdf = (1 - confidence) / 2, median_cdf()
    if min(abs(c - q) for c in cdf for q in (tail, 1 - tail)) < margin:
        return None
    return [next(k for k, c in enumerate(cdf) if c > q) for q in (tail, 1 - tail)]


CONFIDENCES = [c for c in (0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5) if interval_ranks(c)]


@check("benchmarking.summarize.exact_interval", "summarize_times gives the exact quartiles of "
       "any timings and the percentile-bootstrap interval of their median", "hidden")
def test_summarize_exact_interval(student, rng):
    student.exec(IMPORT)
    for size in (4, 10):   # even counts: the quartiles interpolate
        times = rng.gamma(2.0, 0.002, size).round(7)
        got = student.eval(f"(lambda r: [r.q1, r.median, r.q3])(summarize_times({times.tolist()!r}))")
        assert_array(np.array(got, dtype=float), np.percentile(times, [25, 50, 75]), rtol=1e-9,
                     what=f"[q1, median, q3] of {size} timings {times.tolist()}")
    times = np.sort(rng.gamma(2.0, 0.002, SAMPLES).round(7))
    for confidence in rng.choice(CONFIDENCES, size=2, replace=False):
        shuffled = rng.permutation(times).tolist()
        got = student.eval(f"(lambda r: [r.ci_low, r.ci_high])(summarize_times({shuffled!r}, "
                           f"confidence={confidence}, resamples={RESAMPLES}, "
                           f"seed={int(rng.integers(1000))}))")
        low, high = interval_ranks(confidence)
        assert_array(np.array(got, dtype=float), times[[low, high]], rtol=1e-9,
                     what=f"the {confidence:.0%} interval of the median of {SAMPLES} timings "
                     f"{shuffled} ({RESAMPLES} resamples: the exact bootstrap puts it at the "
                     f"{low + 1}th and {high + 1}th smallest)")


@check("benchmarking.summarize.seeded", "the bootstrap interval depends on the seed only: the "
       "same seed repeats it, other seeds move it", "hidden")
def test_summarize_seeded(student, rng):
    times = rng.gamma(2.0, 0.002, 9).round(7).tolist()
    student.exec(f"{IMPORT}\ndef interval(seed):\n"
                 f"    r = summarize_times({times!r}, resamples=15, seed=seed)\n"
                 "    return [float(r.ci_low), float(r.ci_high)]")
    seeds = rng.choice(10**6, size=6, replace=False).tolist()
    intervals = student.eval(f"[interval(seed) for seed in {seeds}]")
    if type(intervals) is not list or len(intervals) != len(seeds):
        raise AssertionError(f"one interval per seed expected, got {intervals!r:.200}")
    # every seed again: an unseeded bootstrap can repeat one interval by chance, not six
    assert_equal(student.eval(f"[interval(seed) for seed in {seeds}]"), intervals,
                 what=f"the intervals again with the same seeds {seeds} (15 resamples)")
    if all(i == intervals[0] for i in intervals):
        raise AssertionError(f"seeds {seeds} all gave the interval {intervals[0]} from 15 "
                             "resamples: the bootstrap should draw from a generator seeded by seed")


@check("benchmarking.count_parameters.buffers", "count_parameters counts BatchNorm's weight and "
       "bias but not its running statistics (buffers), and a weight tied between layers once",
       "hidden")
def test_count_parameters_buffers(student, rng):
    student.exec(f"{IMPORT}\nfrom tinytorch.core.spatial import Conv2d, BatchNorm2d\n"
                 "from tinytorch.core.layers import Flatten")
    drawn = _sizes(rng, 6, low=1, high=20)
    for c, f, k, features, outputs, tied in ((3, 4, 3, 16, 5, 6), drawn):
        model = (f"Sequential(Conv2d({c}, {f}, {k}), BatchNorm2d({f}), ReLU(), Flatten(), "
                 f"Linear({features}, {outputs}))")   # never run: sizes need not chain
        assert_equal(student.eval(f"int(count_parameters({model}))"),
                     f * c * k * k + f + f + f + features * outputs + outputs,
                     what=f"count_parameters({model})")
        student.exec(f"first, second = Linear({tied}, {tied}), Linear({tied}, {tied}, bias=False)\n"
                     "second.weight = first.weight\n"
                     f"tied = Sequential(first, ReLU(), second, Linear({tied}, 2))")
        assert_equal(student.eval("int(count_parameters(tied))"),
                     tied * tied + tied + tied * 2 + 2,
                     what=f"count_parameters of Linear({tied}, {tied}), ReLU, a Linear({tied}, "
                     f"{tied}, bias=False) sharing the first one's weight, Linear({tied}, 2)")
