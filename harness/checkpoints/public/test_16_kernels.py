"""Module 16 - Kernels: public checks (shipped to students with the starter).

Each of the three versions of matmul, conv2d and softmax must give the numbers NumPy gives
here, on fixed inputs and on inputs drawn for the job; their speed against the reference is
graded by the hidden checks.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import _sizes, floats, literal
from harness.checkpoints.inputs_more import SCRIPTED_CLOCK, extreme_rows

IMPORT = "from tinytorch.perf import kernels"
RNG = np.random.default_rng(16)
A, B = RNG.normal(size=(7, 5)), RNG.normal(size=(5, 6))
X, W, BIAS = RNG.normal(size=(2, 3, 7, 6)), RNG.normal(size=(4, 3, 3, 2)), RNG.normal(size=4)
ROWS = np.array([[1000.0, 999.0, -5.0, 1001.0], [0.5, -0.5, 2.0, 0.0], [-3.0, -3.0, -3.0, -3.0]])


def conv2d(x, w, bias=None, stride=1, padding=0):
    """Cross-correlation by the definition, one kernel offset at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    oh, ow = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    out = sum(np.einsum("nchw,fc->nfhw",
                        xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride], w[:, :, i, j])
              for i in range(kh) for j in range(kw))
    return out if bias is None else out + bias[None, :, None, None]


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def matmul_operands(rng):
    """The fixed (7, 5) and (5, 6) operands, then float64 ones of sizes drawn for the job."""
    m, k, n = _sizes(rng, 3, high=9)
    return [(A, B), (floats(rng, (m, k), dtype=np.float64), floats(rng, (k, n), dtype=np.float64))]


def conv_operands(rng):
    """The fixed images and kernel, then a batch drawn for the job: non-square images and
    kernel, distinct sizes (a swapped axis shows), a kernel of any size up to 4."""
    n, c, f = _sizes(rng, 3, low=1, high=3)
    kh, kw = _sizes(rng, 2, low=1, high=3)
    h, w = _sizes(rng, 2, low=5, high=9)
    drawn = [floats(rng, shape, dtype=np.float64) for shape in ((n, c, h, w), (f, c, kh, kw), f)]
    return [(X, W, BIAS), tuple(drawn)]


def softmax_rows(rng):
    """The fixed rows, then rows drawn for the job spanning +-1000 (ties, a constant row)."""
    rows, cols = _sizes(rng, 2, low=3, high=6)
    return [ROWS, extreme_rows(rng, rows, cols)]


def check_matmul(student, rng, name, extra=""):
    student.exec(IMPORT)
    for a, b in matmul_operands(rng):
        assert_array(student.array(f"kernels.{name}({literal(a)}, {literal(b)}{extra})"), a @ b,
                     dtype=np.float64, rtol=1e-10, atol=1e-12,
                     what=f"kernels.{name}(a {a.shape}, b {b.shape}{extra}) in float64")


def check_conv(student, rng, name):
    student.exec(IMPORT)
    for x, w, bias in conv_operands(rng):
        call = f"kernels.{name}({literal(x)}, {literal(w)}, {literal(bias)}, stride=2, padding=1)"
        assert_array(student.array(call), conv2d(x, w, bias, 2, 1), dtype=np.float64,
                     rtol=1e-10, atol=1e-10, what=f"kernels.{name}(x {x.shape}, w {w.shape}, "
                     "bias, stride=2, padding=1)")


def check_softmax(student, rng, name):
    student.exec(IMPORT)
    for rows in softmax_rows(rng):
        assert_array(student.array(f"kernels.{name}({literal(rows)})"), softmax(rows),
                     dtype=np.float64, rtol=1e-10, atol=1e-14,
                     what=f"kernels.{name}(x) for {rows.shape} rows holding values near 1000")


@check("kernels.matmul_loops.values", "matmul_loops multiplies (7, 5) by (5, 6) like a @ b",
       "public")
def test_matmul_loops_values(student, rng):
    check_matmul(student, rng, "matmul_loops")


@check("kernels.matmul_numpy.values", "matmul_numpy multiplies (7, 5) by (5, 6) like a @ b",
       "public")
def test_matmul_numpy_values(student, rng):
    check_matmul(student, rng, "matmul_numpy")


@check("kernels.matmul_blocked.values", "matmul_blocked with tile=3 (tiles that do not divide "
       "the sizes) multiplies like a @ b", "public")
def test_matmul_blocked_values(student, rng):
    check_matmul(student, rng, "matmul_blocked", ", tile=3")


@check("kernels.conv2d_loops.values", "conv2d_loops matches the definition with bias, stride 2 "
       "and padding 1", "public")
def test_conv2d_loops_values(student, rng):
    check_conv(student, rng, "conv2d_loops")


@check("kernels.conv2d_im2col.values", "conv2d_im2col matches the definition with bias, "
       "stride 2 and padding 1", "public")
def test_conv2d_im2col_values(student, rng):
    check_conv(student, rng, "conv2d_im2col")


@check("kernels.conv2d_strided.values", "conv2d_strided matches the definition with bias, "
       "stride 2 and padding 1", "public")
def test_conv2d_strided_values(student, rng):
    check_conv(student, rng, "conv2d_strided")


@check("kernels.softmax_loops.values", "softmax_loops (online, one row at a time) is a stable "
       "softmax over the last axis", "public")
def test_softmax_loops_values(student, rng):
    check_softmax(student, rng, "softmax_loops")


@check("kernels.softmax_unfused.values", "softmax_unfused is a stable softmax over the last axis",
       "public")
def test_softmax_unfused_values(student, rng):
    check_softmax(student, rng, "softmax_unfused")


@check("kernels.softmax_fused.values", "softmax_fused is a stable softmax and writes into the "
       "out buffer it is given", "public")
def test_softmax_fused_values(student, rng):
    check_softmax(student, rng, "softmax_fused")
    for rows in softmax_rows(rng):
        student.exec(f"buf = np.zeros({rows.shape})\n"
                     f"result = kernels.softmax_fused({literal(rows)}, out=buf)")
        assert_equal(student.eval("result is buf"), True, what="softmax_fused(x, out=buf) is buf")
        assert_array(student.array("buf"), softmax(rows), rtol=1e-10,
                     what=f"buf {rows.shape} after the call")


@check("kernels.time_kernel.median", "time_kernel makes the warm-up calls, then reports the "
       "median of the timed ones", "public")
def test_time_kernel_median(student, rng):
    warmup, repeats = int(rng.integers(1, 3)), int(rng.choice([3, 5]))
    drawn = rng.uniform(0, 0.002, warmup + repeats).round(5).tolist()   # fast calls,
    drawn[0] = drawn[warmup + int(rng.integers(repeats))] = 0.06   # a slow warm-up and timed one
    for naps, warmup, repeats in (([0.0, 0.06, 0.0, 0.0, 0.06, 0.0], 1, 5),
                                  (drawn, warmup, repeats)):
        student.exec(f"{IMPORT}\nimport time\ncalls = []\nnaps = {naps!r}\n"
                     "def nap():\n    time.sleep(naps[len(calls)])\n    calls.append(1)\n"
                     f"seconds = kernels.time_kernel(nap, repeats={repeats}, warmup={warmup})")
        assert_equal(student.eval("len(calls)"), warmup + repeats,
                     what=f"the number of calls for warmup={warmup}, repeats={repeats}")
        seconds = student.eval("float(seconds)")
        if not 0 <= seconds < 0.012:
            timed = [round(nap * 1e3) for nap in naps[warmup:]]
            raise AssertionError(f"time_kernel gave {seconds:.4f} s for timed calls of about "
                                 f"{timed} ms; their median is about {np.median(timed):g} ms")


@check("kernels.time_kernel.scripted", "time_kernel skips the warm-up calls and reports the exact "
       "median of the timed ones (checked with a scripted clock)", "public")
def test_time_kernel_scripted(student, rng):
    student.exec(f"{IMPORT}\n{SCRIPTED_CLOCK}")
    for warmup, repeats in ((0, 1), (1, 4), (3, 5), (2, 6)):
        durations = rng.uniform(0.001, 0.1, warmup + repeats).round(6)
        durations[:warmup] = 5.0   # slow first calls: timing them moves the median
        student.exec(f"seconds, clock = scripted_timing(kernels, {durations.tolist()!r}, "
                     f"lambda step: kernels.time_kernel(step, repeats={repeats}, "
                     f"warmup={warmup}))")
        what = f"time_kernel(fn, repeats={repeats}, warmup={warmup})"
        assert_equal(student.eval("clock.calls"), warmup + repeats, what=f"the calls of {what}")
        assert_array(np.array(student.eval("float(seconds)")),
                     np.median(durations[warmup:]), rtol=1e-6, atol=1e-9,
                     what=f"{what} for timed calls of {durations[warmup:].tolist()} s")
