"""Module 16's three ways of each kernel, timed side by side in one run.

    python bench/kernels.py [--repeats 5]

Prints, per operation and size, the median seconds of each way and its ratio to the fastest,
so the figures are comparable (same machine, same moment). Loop versions only run on the
small size: at the large size they would take minutes.
"""

from __future__ import annotations

import argparse

import numpy as np

from tinytorch.perf import kernels as k


def _cases(rng: np.random.Generator):
    """(operation, size label, {way: (fn, args)}) for every comparison to print."""
    small_a, small_b = rng.normal(size=(48, 48)).astype(np.float32), rng.normal(size=(48, 48)).astype(np.float32)
    big_a, big_b = rng.normal(size=(768, 768)).astype(np.float32), rng.normal(size=(768, 768)).astype(np.float32)
    yield "matmul", "48x48", {
        "loops": (k.matmul_loops, (small_a, small_b)),
        "numpy": (k.matmul_numpy, (small_a, small_b)),
        "blocked": (k.matmul_blocked, (small_a, small_b)),
    }
    yield "matmul", "768x768", {
        "numpy": (k.matmul_numpy, (big_a, big_b)),
        "blocked t=64": (k.matmul_blocked, (big_a, big_b, 64)),
        "blocked t=256": (k.matmul_blocked, (big_a, big_b, 256)),
    }
    x_small = rng.normal(size=(1, 3, 12, 12)).astype(np.float32)
    w_small = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    yield "conv2d", "1x3x12x12 * 4x3x3x3", {
        "loops": (k.conv2d_loops, (x_small, w_small)),
        "im2col": (k.conv2d_im2col, (x_small, w_small)),
        "strided": (k.conv2d_strided, (x_small, w_small)),
    }
    x_big = rng.normal(size=(32, 16, 32, 32)).astype(np.float32)
    w_big = rng.normal(size=(32, 16, 3, 3)).astype(np.float32)
    yield "conv2d", "32x16x32x32 * 32x16x3x3", {
        "im2col": (k.conv2d_im2col, (x_big, w_big, None, 1, 1)),
        "strided": (k.conv2d_strided, (x_big, w_big, None, 1, 1)),
    }
    logits_small = rng.normal(size=(16, 64)).astype(np.float32)
    logits_big = rng.normal(size=(4096, 1024)).astype(np.float32)
    yield "softmax", "16x64", {
        "loops": (k.softmax_loops, (logits_small,)),
        "unfused": (k.softmax_unfused, (logits_small,)),
        "fused": (k.softmax_fused, (logits_small,)),
    }
    yield "softmax", "4096x1024", {
        "unfused": (k.softmax_unfused, (logits_big,)),
        "fused": (k.softmax_fused, (logits_big,)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'operation':<10} {'size':<26} {'way':<14} {'median s':>11} {'x fastest':>10}")
    for operation, size, ways in _cases(np.random.default_rng(0)):
        medians = {way: k.time_kernel(fn, *fn_args, repeats=args.repeats) for way, (fn, fn_args) in ways.items()}
        fastest = min(medians.values())
        for way, seconds in medians.items():
            print(f"{operation:<10} {size:<26} {way:<14} {seconds:>11.6f} {seconds / fastest:>10.1f}")


if __name__ == "__main__":
    main()
