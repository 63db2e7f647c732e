"""TinyTorch ops against the raw NumPy work they wrap, timed side by side in one run.

    python bench/ops.py [--repeats 5]

For matmul, Conv2d (forward + backward) and Linear (forward + backward) it prints the median
time of the tinytorch version, of the equivalent raw NumPy calls, their ratio, and the
tinytorch version's FLOP/s as a fraction of NumPy's 1024x1024 float32 matmul (the peak). For Conv2d
the raw work is the three matmuls of im2col shape (forward, weight and input gradients), so
the ratio is what im2col, col2im, layout changes and autograd bookkeeping add on top of BLAS.
Times are CPU-seconds of this process. Ratios, not seconds, are the comparable figure: both sides run on the same machine and load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from milestones.cifar10 import keep_freed_memory
from tinytorch.core.layers import Linear
from tinytorch.core.spatial import Conv2d
from tinytorch.core.tensor import Tensor


def _forward_backward(layer, x: Tensor):
    """One training-style pass: forward, then backward of the sum."""
    def run():
        for p in layer.parameters():
            p.grad = None
        x.grad = None
        layer(x).sum().backward()
    return run


def _cases(rng: np.random.Generator):
    """(name, flops, tinytorch fn, raw NumPy fn) for each comparison."""
    a = rng.normal(size=(1024, 1024)).astype(np.float32)
    b = rng.normal(size=(1024, 1024)).astype(np.float32)
    ta, tb = Tensor(a), Tensor(b)
    yield "matmul 1024x1024 @ 1024x1024", 2 * 1024**3, lambda: ta @ tb, lambda: a @ b

    n, c, o, hw = 64, 32, 64, 16
    conv = Conv2d(c, o, 3, padding=1, bias=False, rng=rng)
    x = Tensor(rng.normal(size=(n, c, hw, hw)).astype(np.float32), requires_grad=True)
    cols = rng.normal(size=(n * hw * hw, 9 * c)).astype(np.float32)
    w_mat, g = conv.weight.data.reshape(o, -1).T.copy(), rng.normal(size=(n * hw * hw, o)).astype(np.float32)

    def conv_raw():
        cols @ w_mat
        cols.T @ g
        g @ w_mat.T
    yield (f"Conv2d({c}, {o}, 3, padding=1) fwd+bwd on {n}x{c}x{hw}x{hw}", 3 * conv.flops(hw, hw) * n,
           _forward_backward(conv, x), conv_raw)

    batch, d_in, d_out = 256, 1024, 1024
    linear = Linear(d_in, d_out, rng=rng)
    xl = Tensor(rng.normal(size=(batch, d_in)).astype(np.float32), requires_grad=True)
    w, bias, gl = linear.weight.data, linear.bias.data, np.ones((batch, d_out), dtype=np.float32)

    def linear_raw():
        xl.data @ w + bias
        gl @ w.T
        xl.data.T @ gl
        gl.sum(axis=0)
    yield (f"Linear({d_in}, {d_out}) fwd+bwd on batch {batch}", 3 * 2 * batch * d_in * d_out,
           _forward_backward(linear, xl), linear_raw)


def cpu_seconds(fn, repeats: int) -> float:
    """Median CPU time of ``fn()`` in this process (after one warm-up call): on a shared machine
    other processes stretch wall time far more than the CPU time the work itself takes."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    keep_freed_memory()  # as the training runs do: no fresh zeroed pages for every large temporary
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; median CPU time of {args.repeats} runs")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default (all cores)')}")
    print(f"{'operation':52s} {'tinytorch':>11s} {'numpy':>11s} {'ratio':>7s} {'GFLOP/s':>8s} {'of peak':>8s}")
    peak = None  # the first case, NumPy's 1024x1024 matmul, is the peak the others are compared with
    for name, flops, ours, raw in _cases(np.random.default_rng(0)):
        t_ours = cpu_seconds(ours, args.repeats)
        t_raw = cpu_seconds(raw, args.repeats)
        peak = peak or flops / t_raw
        print(f"{name:52s} {t_ours * 1e3:9.2f}ms {t_raw * 1e3:9.2f}ms {t_ours / t_raw:7.2f} "
              f"{flops / t_ours / 1e9:8.1f} {flops / t_ours / peak:8.0%}")


if __name__ == "__main__":
    main()
