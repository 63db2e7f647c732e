"""Module 16 - Kernels: hidden checks (graders only): speed and memory against the reference,
and the shapes the public checks do not try."""

import numpy as np

from harness.checkpoints import assert_array, check, ratio_to_reference
from harness.checkpoints.perf import peak_ratio_to_reference
from harness.checkpoints.public.test_13_attention import literal
from harness.checkpoints.public.test_16_kernels import IMPORT, conv2d, softmax

SETUP = (f"{IMPORT}\nrng = np.random.default_rng(0)\n"
         "a, b = (rng.normal(size=(256, 256)).astype(np.float32) for _ in range(2))\n"
         "x = rng.normal(size=(8, 16, 24, 24)).astype(np.float32)\n"
         "w = rng.normal(size=(32, 16, 3, 3)).astype(np.float32)\n"
         "s = rng.normal(size=(256, 1024)).astype(np.float32)\nbuf = np.empty_like(s)")
BOUND = 5.0


def assert_fast(student, reference, statement, what):
    ratio = ratio_to_reference(student, reference, SETUP, statement)
    assert ratio <= BOUND, (f"{what} took {ratio:.1f}x the reference's time "
                            f"(at most {BOUND:.0f}x passes)")


@check("kernels.matmul_blocked.speed", "matmul_blocked of two (256, 256) matrices is about as "
       "fast as the reference's", "hidden")
def test_matmul_blocked_speed(student, reference):
    assert_fast(student, reference, "kernels.matmul_blocked(a, b)", "matmul_blocked(a, b)")


@check("kernels.conv2d_im2col.speed", "conv2d_im2col on (8, 16, 24, 24) is about as fast as "
       "the reference's", "hidden")
def test_conv2d_im2col_speed(student, reference):
    assert_fast(student, reference, "kernels.conv2d_im2col(x, w, padding=1)", "conv2d_im2col")


@check("kernels.conv2d_strided.speed", "conv2d_strided on (8, 16, 24, 24) is about as fast as "
       "the reference's", "hidden")
def test_conv2d_strided_speed(student, reference):
    assert_fast(student, reference, "kernels.conv2d_strided(x, w, padding=1)", "conv2d_strided")


@check("kernels.softmax_fused.speed", "softmax_fused of a (256, 1024) array is about as fast "
       "as the reference's", "hidden")
def test_softmax_fused_speed(student, reference):
    assert_fast(student, reference, "for _ in range(5): kernels.softmax_fused(s, out=buf)",
                "softmax_fused(s, out=buf)")


@check("kernels.softmax_fused.memory", "softmax_fused(x, out=buf) allocates no temporary the "
       "size of x (peak memory as the reference's)", "hidden")
def test_softmax_fused_memory(student, reference):
    # memory touched, the 1 MiB input included
    ratio, peak, reference_peak = peak_ratio_to_reference(
        student, reference, f"{SETUP}\nkernels.softmax_fused(s, out=buf)",
        "kernels.softmax_fused(s, out=buf)", baseline_bytes=256 * 1024 * 4)
    assert ratio <= 1.5, (f"softmax_fused allocated {peak / 2**20:.2f} MiB for a 1 MiB "
                          f"input (the reference: {reference_peak / 2**20:.2f} MiB)")


@check("kernels.conv2d.plain", "all three conv2d kernels handle stride 1, no padding, no bias "
       "and a (2, 3) kernel", "hidden")
def test_conv2d_plain(student):
    rng = np.random.default_rng(30)
    x, w = rng.normal(size=(1, 2, 5, 6)), rng.normal(size=(3, 2, 2, 3))
    student.exec(IMPORT)
    for name in ("conv2d_loops", "conv2d_im2col", "conv2d_strided"):
        assert_array(student.array(f"kernels.{name}({literal(x)}, {literal(w)})"), conv2d(x, w),
                     rtol=1e-10, atol=1e-10, what=f"kernels.{name}(x (1, 2, 5, 6), w (3, 2, 2, 3))")


@check("kernels.softmax.rows_3d", "the three softmax kernels work along the last axis of a 3-D "
       "float32 array", "hidden")
def test_softmax_rows_3d(student):
    x = np.random.default_rng(31).normal(0, 20, (2, 3, 7)).astype(np.float32)
    student.exec(IMPORT)
    for name in ("softmax_loops", "softmax_unfused", "softmax_fused"):
        assert_array(student.array(f"kernels.{name}({literal(x)})"),
                     softmax(x.astype(np.float64)), dtype=np.float32, rtol=1e-4, atol=1e-6,
                     what=f"kernels.{name}(x) for x of shape (2, 3, 7)")
