"""Module 16 - Kernels: hidden checks (graders only): speed and memory against the reference,
and the shapes the public checks do not try."""

import numpy as np

from harness.checkpoints import assert_array, check, ratio_to_reference
from harness.checkpoints.inputs import _sizes, floats, literal
from harness.checkpoints.inputs_more import extreme_rows
from harness.checkpoints.perf import peak_ratio_to_reference, Workload
from harness.checkpoints.public.test_16_kernels import IMPORT, conv2d, softmax

# Shaped so that the loop each kernel exists to remove shows: 4096 output pixels of few
# channels, 4096 short softmax rows (a Python step per pixel or row costs more than the work).
SHAPES = {"a": (256, 256), "b": (256, 256), "x": (2, 4, 64, 64), "w": (8, 4, 3, 3),
          "s": (4096, 64)}
# A kernel that takes one Python step per row, pixel or small tile has lost what its
# technique buys: measured 6x (blocked matmul, a loop over the rows of each tile) to 130x
# (tiles of 8); correct kernels measure 0.9-1.5x.  Fails above 4x; the rubric's curve gives
# full credit up to 2x (rubrics/README.md, "Speed and memory bounds").
BOUND = 4.0
SOFTMAX_INTO_BUF = "(kernels.softmax_fused(s, out=buf), buf)[1]"
OUTPUT_BUFFER = "buf = np.full_like(s, 0.5)"   # written now: its pages are no new memory later


def kernel_work(result, names, what, prepare=""):
    """``result`` on float32 inputs ``names`` (shapes in SHAPES) drawn for each repetition."""
    return Workload(IMPORT, lambda rng: {name: rng.normal(size=SHAPES[name]).astype(np.float32)
                                         for name in names},
                    result, prepare=prepare, what=what, rtol=1e-3, atol=1e-4)


def assert_fast(student, reference, rng, statement, names, what, prepare=""):
    ratio = ratio_to_reference(student, reference, rng,
                               kernel_work(statement, names, what, prepare))
    assert ratio <= BOUND, (f"{what} took {ratio:.1f}x the reference's time "
                            f"(at most {BOUND:.0f}x passes)")


@check("kernels.matmul_blocked.speed", "matmul_blocked of two (256, 256) matrices is about as "
       "fast as the reference's (BLAS on whole tiles)", "hidden")
def test_matmul_blocked_speed(student, reference, rng):
    assert_fast(student, reference, rng, "kernels.matmul_blocked(a, b)", "ab",
                "matmul_blocked(a, b)")


@check("kernels.conv2d_im2col.speed", "conv2d_im2col on (2, 4, 64, 64) is about as fast as "
       "the reference's (one matmul)", "hidden")
def test_conv2d_im2col_speed(student, reference, rng):
    assert_fast(student, reference, rng, "kernels.conv2d_im2col(x, w, padding=1)", "xw",
                "conv2d_im2col")


@check("kernels.conv2d_strided.speed", "conv2d_strided on (2, 4, 64, 64) is about as fast as "
       "the reference's (one contraction, no loop over pixels)", "hidden")
def test_conv2d_strided_speed(student, reference, rng):
    assert_fast(student, reference, rng, "kernels.conv2d_strided(x, w, padding=1)", "xw",
                "conv2d_strided")


@check("kernels.softmax_fused.speed", "softmax_fused of a (4096, 64) array is about as fast "
       "as the reference's (no loop over rows)", "hidden")
def test_softmax_fused_speed(student, reference, rng):
    assert_fast(student, reference, rng, SOFTMAX_INTO_BUF, "s", "softmax_fused(s, out=buf)",
                prepare=OUTPUT_BUFFER)


@check("kernels.softmax_fused.memory", "softmax_fused(x, out=buf) allocates no temporary the "
       "size of x (peak memory as the reference's)", "hidden")
def test_softmax_fused_memory(student, reference, rng):
    # memory touched, the 16 MiB input included (large enough that the kernel's page-sized
    # accounting and what an honest package holds beyond the reference's are noise, and a
    # full-size temporary shows as 2x)
    work = Workload(IMPORT, lambda rng: {"s": rng.normal(size=(2048, 2048)).astype(np.float32)},
                    SOFTMAX_INTO_BUF, prepare=OUTPUT_BUFFER,
                    what="softmax_fused(s, out=buf)", rtol=1e-3, atol=1e-6)
    ratio, peak, reference_peak = peak_ratio_to_reference(student, reference, rng, work,
                                                          baseline_bytes=2048 * 2048 * 4)
    assert ratio <= 1.5, (f"softmax_fused allocated {peak / 2**20:.2f} MiB for a 16 MiB "
                          f"input (the reference: {reference_peak / 2**20:.2f} MiB)")


@check("kernels.conv2d.plain", "all three conv2d kernels handle stride 1, no padding, no bias "
       "and a (2, 3) kernel", "hidden")
def test_conv2d_plain(student, rng):
    fixed = np.random.default_rng(30)
    n, c, f = _sizes(rng, 3, low=1, high=3)
    height, width = _sizes(rng, 2, low=3, high=6)
    student.exec(IMPORT)
    for x, w in ((fixed.normal(size=(1, 2, 5, 6)), fixed.normal(size=(3, 2, 2, 3))),
                 (floats(rng, (n, c, height, width), dtype=np.float64),
                  floats(rng, (f, c, 2, 3), dtype=np.float64))):
        for name in ("conv2d_loops", "conv2d_im2col", "conv2d_strided"):
            assert_array(student.array(f"kernels.{name}({literal(x)}, {literal(w)})"),
                         conv2d(x, w), rtol=1e-10, atol=1e-10,
                         what=f"kernels.{name}(x {x.shape}, w {w.shape})")


@check("kernels.softmax.rows_3d", "the three softmax kernels work along the last axis of a 3-D "
       "float32 array", "hidden")
def test_softmax_rows_3d(student, rng):
    student.exec(IMPORT)
    for x in (np.random.default_rng(31).normal(0, 20, (2, 3, 7)).astype(np.float32),
              floats(rng, tuple(_sizes(rng, 3)), scale=20)):
        for name in ("softmax_loops", "softmax_unfused", "softmax_fused"):
            assert_array(student.array(f"kernels.{name}({literal(x)})"),
                         softmax(x.astype(np.float64)), dtype=np.float32, rtol=1e-4, atol=1e-6,
                         what=f"kernels.{name}(x) for x of shape {x.shape}")


def matmul_cases(rng):
    """(a, b, tile) covering 1 x 1, row and column vectors, tall and wide, inner sizes one
    past a tile, and tiles of 1, of the whole matrix and larger."""
    shapes = [(1, 1, 1, 1), (1, 4, 3, 2), (6, 1, 5, 4), (9, 2, 3, 2), (2, 9, 3, 4),
              (5, 4, 7, 3), (8, 8, 8, 8), (3, 5, 4, 64)]
    shapes.append((*rng.integers(1, 12, size=3), int(rng.integers(1, 6))))
    return [(rng.normal(size=(m, k)), rng.normal(size=(k, n)), int(tile))
            for m, k, n, tile in shapes]


@check("kernels.matmul.shapes", "the three matmul kernels agree with a @ b for vectors, tall, "
       "wide and 1 x 1 matrices, and any tile size", "hidden")
def test_matmul_shapes(student, rng):
    student.exec(IMPORT)
    for a, b, tile in matmul_cases(rng):
        calls = {"matmul_loops": "", "matmul_numpy": "", "matmul_blocked": f", tile={tile}"}
        for name, extra in calls.items():
            assert_array(student.array(f"kernels.{name}({literal(a)}, {literal(b)}{extra})"),
                         a @ b, dtype=np.float64, rtol=1e-10, atol=1e-12,
                         what=f"kernels.{name}(a {a.shape}, b {b.shape}{extra})")


def conv_cases(rng):
    """(x, w, bias, stride, padding): single image/channel/filter, non-square images and
    kernels, strides 1-3 that do not divide the size, padding 0-2."""
    cases = [((1, 1, 4, 4), (1, 1, 1, 1), 1, 0), ((1, 2, 5, 8), (3, 2, 3, 1), 3, 2),
             ((2, 1, 9, 6), (2, 1, 2, 4), 2, 1), ((3, 3, 6, 7), (1, 3, 3, 3), 1, 2)]
    n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
    kh, kw, stride, padding = (int(v) for v in rng.integers(1, 4, size=4))
    cases.append(((n, c, kh + int(rng.integers(0, 6)), kw + int(rng.integers(0, 6))),
                  (f, c, kh, kw), stride, padding - 1))
    return [(rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0]), s, p)
            for xs, ws, s, p in cases]


@check("kernels.conv2d.shapes", "the three conv2d kernels match the definition for single "
       "images and channels, non-square kernels, strides 1-3 and padding 0-2", "hidden")
def test_conv2d_shapes(student, rng):
    student.exec(IMPORT)
    for x, w, bias, stride, padding in conv_cases(rng):
        for name in ("conv2d_loops", "conv2d_im2col", "conv2d_strided"):
            call = (f"kernels.{name}({literal(x)}, {literal(w)}, {literal(bias)}, "
                    f"stride={stride}, padding={padding})")
            assert_array(student.array(call), conv2d(x, w, bias, stride, padding), rtol=1e-9,
                         atol=1e-9, what=f"kernels.{name}(x {x.shape}, w {w.shape}, bias, "
                         f"stride={stride}, padding={padding})")


@check("kernels.softmax.extreme", "the three softmax kernels stay exact for values up to "
       "+-1000, ties, constant rows and single-element rows", "hidden")
def test_softmax_extreme(student, rng):
    student.exec(IMPORT)
    for x in (extreme_rows(rng, 5, 6), extreme_rows(rng, 4, 3).reshape(2, 2, 3),
              rng.normal(0, 500, (3, 1)), rng.normal(0, 500, 7)):
        for name in ("softmax_loops", "softmax_unfused", "softmax_fused"):
            assert_array(student.array(f"kernels.{name}({literal(x)})"), softmax(x),
                         dtype=np.float64, rtol=1e-9, atol=1e-12,
                         what=f"kernels.{name}(x) for x of shape {x.shape} with values up to "
                         f"{np.abs(x).max():.0f}")
