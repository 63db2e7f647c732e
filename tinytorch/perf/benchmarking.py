"""Module 17 - Benchmarking: measuring speed honestly, and counting what a model costs.

``Benchmark`` times a function the way a careful experimenter would: warm-up calls first
(caches, lazy allocation), then many repeats, reported as the median with its spread (the
interquartile range) and a bootstrap confidence interval, because a single timing on a shared
machine varies by 10-20% run to run. Compare two versions by the ratio of their medians
measured in the same run, never by absolute seconds from different runs.

``Profiler`` explains where the cost comes from: parameters, FLOPs per layer (Linear, Conv2d,
attention) from the shapes seen in one forward pass, and peak memory of that pass.

FLOP convention: one multiply-add is 2 FLOPs, a bias add 1; softmax, norms and activations are
not counted (they are O(n) beside the matmuls).

Systems cost:
    memory  - a benchmark keeps one float per repeat; the bootstrap draws resamples x repeats
              indices (2000 x 20: 320 KB). Profiling runs one forward pass under ``no_grad``
              with tracemalloc on, which slows allocation-heavy code by about 2x.
    compute - warmup + repeats calls of the function; the bootstrap is O(resamples * repeats).
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from tinytorch.core.attention import MultiHeadAttention
from tinytorch.core.autograd import no_grad
from tinytorch.core.layers import Linear, Module
from tinytorch.core.spatial import Conv2d
from tinytorch.core.tensor import Tensor

__all__ = [
    "BenchmarkResult",
    "Benchmark",
    "summarize_times",
    "count_parameters",
    "linear_flops",
    "conv2d_flops",
    "attention_flops",
    "LayerProfile",
    "ProfileReport",
    "Profiler",
]


@dataclass(frozen=True)
class BenchmarkResult:
    """Timings of one function (seconds) and their summary statistics."""

    name: str
    times: tuple[float, ...]
    median: float
    q1: float
    q3: float
    ci_low: float
    ci_high: float
    confidence: float

    @property
    def iqr(self) -> float:
        """Spread of the middle half of the timings: robust to the odd interrupted call."""
        return self.q3 - self.q1

    def ratio_to(self, baseline: "BenchmarkResult") -> float:
        """How many times slower than ``baseline`` (below 1: faster)."""
        return self.median / baseline.median

    def __str__(self) -> str:
        ms = 1e3
        return (
            f"{self.name}: median {self.median * ms:.3f} ms (IQR {self.iqr * ms:.3f} ms, "
            f"{self.confidence:.0%} CI {self.ci_low * ms:.3f}-{self.ci_high * ms:.3f} ms, n={len(self.times)})"
        )


def summarize_times(times, name: str = "", confidence: float = 0.95, resamples: int = 2000,
                    seed: int = 0) -> BenchmarkResult:
    """Median, quartiles and a percentile-bootstrap confidence interval of the median.

    The bootstrap needs no assumption about the shape of the timing distribution (which is
    skewed: a call can be much slower than usual, never much faster). Seeded, so the same
    timings always give the same interval.
    """
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError(f"timings must be a non-empty list of finite, non-negative seconds, got {times.tolist()}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    ### BEGIN SOLUTION
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    rng = np.random.default_rng(seed)
    boot_medians = np.median(rng.choice(times, size=(resamples, times.size), replace=True), axis=1)
    tail = (1 - confidence) / 2
    ci_low, ci_high = np.quantile(boot_medians, [tail, 1 - tail])
    ### END SOLUTION
    return BenchmarkResult(
        name=name, times=tuple(times.tolist()), median=float(median), q1=float(q1), q3=float(q3),
        ci_low=float(ci_low), ci_high=float(ci_high), confidence=confidence,
    )  # fmt: skip


class Benchmark:
    """Time ``fn(*args)``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    ``timer`` is any monotonic clock in seconds (``time.perf_counter`` by default); tests pass
    a scripted clock to check the statistics without depending on wall time.
    """

    def __init__(self, warmup: int = 3, repeats: int = 20, confidence: float = 0.95,
                 timer=time.perf_counter, seed: int = 0):
        if warmup < 0 or repeats < 1:
            raise ValueError(f"Benchmark needs warmup >= 0 and repeats >= 1, got warmup={warmup}, repeats={repeats}")
        self.warmup, self.repeats, self.confidence = warmup, repeats, confidence
        self.timer, self.seed = timer, seed

    def run(self, fn, *args, name: str | None = None, **kwargs) -> BenchmarkResult:
        ### BEGIN SOLUTION
        for _ in range(self.warmup):
            fn(*args, **kwargs)
        times = []
        for _ in range(self.repeats):
            start = self.timer()
            fn(*args, **kwargs)
            times.append(self.timer() - start)
        ### END SOLUTION
        label = name or getattr(fn, "__name__", type(fn).__name__)
        return summarize_times(times, name=label, confidence=self.confidence, seed=self.seed)


# ---------------------------------------------------------------------- profiling
def count_parameters(model: Module) -> int:
    """Trainable numbers in ``model`` (buffers such as BatchNorm running statistics excluded)."""
    ### BEGIN SOLUTION
    return sum(p.size for p in model.parameters())
    ### END SOLUTION


def linear_flops(rows: int, in_features: int, out_features: int, bias: bool) -> int:
    """``rows`` inputs through Linear(in, out): a multiply-add per weight per row, plus bias adds."""
    ### BEGIN SOLUTION
    return rows * out_features * (2 * in_features + int(bias))
    ### END SOLUTION


def conv2d_flops(output_shape: tuple, weight_shape: tuple, bias: bool) -> int:
    """Conv2d producing (N, F, OH, OW) with weight (F, C, KH, KW): C*KH*KW multiply-adds per output."""
    ### BEGIN SOLUTION
    _, channels, kh, kw = weight_shape
    return int(np.prod(output_shape)) * (2 * channels * kh * kw + int(bias))
    ### END SOLUTION


def attention_flops(batch: int, heads: int, queries: int, keys: int, head_dim: int) -> int:
    """Scores Q K^T and weights @ V: two (queries x head_dim x keys) matmuls per head.

    The four projections are Linear layers and are counted as such.
    """
    ### BEGIN SOLUTION
    return 2 * (2 * batch * heads * queries * keys * head_dim)
    ### END SOLUTION


@dataclass(frozen=True)
class LayerProfile:
    """One counted layer: its FLOPs over all its calls in the profiled forward pass."""

    name: str
    kind: str
    calls: int
    input_shape: tuple
    output_shape: tuple
    parameters: int
    flops: int


@dataclass(frozen=True)
class ProfileReport:
    model: str
    parameters: int
    layers: tuple[LayerProfile, ...]
    peak_memory_bytes: int

    @property
    def flops(self) -> int:
        return sum(layer.flops for layer in self.layers)

    def table(self) -> str:
        rows = [f"{'layer':<28} {'kind':<10} {'input':<18} {'output':<18} {'params':>10} {'FLOPs':>10}"]
        for layer in self.layers:
            rows.append(
                f"{layer.name:<28} {layer.kind:<10} {str(layer.input_shape):<18} {str(layer.output_shape):<18} "
                f"{layer.parameters:>10,} {_si(layer.flops):>10}"
            )
        rows.append(f"{'total':<28} {'':<10} {'':<18} {'':<18} {self.parameters:>10,} {_si(self.flops):>10}")
        rows.append(f"peak memory of the forward pass: {_bytes(self.peak_memory_bytes)}")
        return "\n".join(rows)


def _si(value: float) -> str:
    """1234567 -> '1.23M': FLOP counts span too many orders of magnitude for plain digits."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:g}"


def _bytes(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.2f} {unit}"
    return f"{count} B"


def _own_parameters(module: Module) -> int:
    """Parameters held directly by ``module``, not by its sub-modules (no double counting)."""
    return sum(v.size for v in vars(module).values() if isinstance(v, Tensor) and v.requires_grad and v._ctx is None)


def _flops_of_call(module: Module, args: tuple, output) -> int:
    """FLOPs of one forward call, from the layer's attributes and the shapes of this call."""
    if isinstance(module, Linear):
        rows = int(np.prod(args[0].shape[:-1]))
        return linear_flops(rows, module.in_features, module.out_features, module.bias is not None)
    if isinstance(module, Conv2d):
        return conv2d_flops(output.shape, module.weight.shape, module.bias is not None)
    batch, heads, queries, keys = module.last_weights.shape  # MultiHeadAttention
    return attention_flops(batch, heads, queries, keys, module.head_dim)


_COUNTED = {Linear: "Linear", Conv2d: "Conv2d", MultiHeadAttention: "attention"}


class _ForwardRecorder:
    """Wraps one layer's ``forward`` (as an instance attribute) to record its calls' shapes."""

    def __init__(self, name: str, module: Module):
        self.name, self.module, self.calls, self.flops = name, module, 0, 0
        self.input_shape = self.output_shape = ()
        self.original = module.forward

    def __call__(self, *args, **kwargs):
        output = self.original(*args, **kwargs)
        self.calls += 1
        self.flops += _flops_of_call(self.module, args, output)
        self.input_shape, self.output_shape = tuple(args[0].shape), tuple(output.shape)
        return output

    def result(self) -> LayerProfile:
        kind = next(label for cls, label in _COUNTED.items() if isinstance(self.module, cls))
        return LayerProfile(self.name or "(model)", kind, self.calls, self.input_shape, self.output_shape,
                            _own_parameters(self.module), self.flops)


class Profiler:
    """Parameters, per-layer FLOPs and peak memory of one forward pass of a model."""

    def profile(self, model: Module, *inputs, **kwargs) -> ProfileReport:
        """Run ``model(*inputs, **kwargs)`` once under ``no_grad`` and report what it cost."""
        if not isinstance(model, Module):
            raise TypeError(f"Profiler needs a tinytorch Module, got {type(model).__name__}")
        recorders = [_ForwardRecorder(name, m) for name, m in model.named_modules() if isinstance(m, tuple(_COUNTED))]
        already_tracing = tracemalloc.is_tracing()
        if not already_tracing:
            tracemalloc.start()
        try:
            for recorder in recorders:
                recorder.module.forward = recorder
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            with no_grad():
                model(*inputs, **kwargs)
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            for recorder in recorders:
                del recorder.module.forward
            if not already_tracing:
                tracemalloc.stop()
        layers = tuple(r.result() for r in recorders if r.calls)
        return ProfileReport(type(model).__name__, count_parameters(model), layers, max(peak, 0))

    def compare(self, model_a: Module, model_b: Module, *inputs, labels=("A", "B"),
                benchmark: Benchmark | None = None) -> str:
        """A side-by-side table of two models on the same inputs, with the ratio B / A.

        With a ``benchmark``, both forward passes are also timed, one after the other in
        this run, so their latency ratio is meaningful.
        """
        a, b = self.profile(model_a, *inputs), self.profile(model_b, *inputs)
        rows = [
            ("parameters", a.parameters, b.parameters, lambda v: f"{v:,}"),
            ("forward FLOPs", a.flops, b.flops, _si),
            ("peak memory", a.peak_memory_bytes, b.peak_memory_bytes, _bytes),
        ]
        if benchmark is not None:
            timed = [benchmark.run(_no_grad_call(m), *inputs, name=label) for m, label in zip((model_a, model_b), labels)]
            rows.append(("median latency", timed[0].median, timed[1].median, lambda v: f"{v * 1e3:.3f} ms"))
        lines = [f"{'':<16} {labels[0]:>16} {labels[1]:>16} {labels[1] + '/' + labels[0]:>10}"]
        for metric, value_a, value_b, show in rows:
            ratio = f"{value_b / value_a:.2f}" if value_a else "-"
            lines.append(f"{metric:<16} {show(value_a):>16} {show(value_b):>16} {ratio:>10}")
        return "\n".join(lines)


def _no_grad_call(model: Module):
    def forward(*inputs):
        with no_grad():
            return model(*inputs)

    return forward
