"""Module 02 - Tensor: public checks (shipped to students with the starter).

Each check asks the runner to build tensors with the student's code and compares the
returned ``.data`` here, with NumPy.  Forward behaviour only: gradients are module 07's.
After its fixed examples, each check tries the same behaviour on this job's own inputs
(``rng``), so replaying answers recorded in another job fails.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, assert_results, check
from harness.checkpoints.inputs import (Cases, _sizes, broadcast_pairs, fixed, floats, literal,
                                        matmul_pairs)

IMPORT = "from tinytorch.core.tensor import Tensor"
A = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
B = np.array([[0.5, 2.0, -1.0], [1.0, -3.0, 2.0]])


def _with_ab(student):
    student.exec(f"{IMPORT}\na = Tensor({A.tolist()})\nb = Tensor({B.tolist()})")


def grid(rng, shape, low=-20, high=20):
    """Multiples of 1/4 from ``low``/4 to ``high``/4: sums and products of a few are exact in
    float32, so the fixed examples' tolerances hold whatever order a student adds in."""
    return (rng.integers(low, high + 1, size=shape) / 4).astype(np.float32)


def nonzero(rng, shape):
    """Grid values of either sign, never 0: safe to divide by."""
    return grid(rng, shape, 1, 20) * rng.choice(np.float32([-1, 1]), size=shape)


def job_cases(student, arrays, forms, **options):
    """This job's ``arrays`` (name: values) sent as Tensors and each ``(form, expected)``
    checked in one round trip; a form names the tensors by key, like ``"{a} @ {b}"``."""
    cases = Cases(IMPORT)
    names = {key: cases.tensor(value) for key, value in arrays.items()}
    shapes = ", ".join(f"{key} of shape {value.shape}" for key, value in arrays.items())
    for form, expected in forms:
        cases.expect(form.format(**names), expected, f"this job's {shapes}")
    cases.check(student, **options)


@check("tensor.create.float32", "Tensor([[1, 2], [3, 4]]) keeps its numbers as float32", "public")
def test_create_float32(student, rng):
    student.exec(IMPORT)
    assert_array(student.array("Tensor([[1, 2], [3, 4]])"), [[1, 2], [3, 4]],
                 dtype=np.float32, what="Tensor([[1, 2], [3, 4]]).data")
    shape = tuple(_sizes(rng, 2))
    cases = Cases(IMPORT)
    for values in (rng.integers(-9, 10, size=shape), grid(rng, shape).astype(np.float64)):
        cases.expect(f"Tensor({values.tolist()})", values, "this job's nested list",
                     dtype=np.float32)
    cases.check(student)


@check("tensor.create.from_numpy", "A float64 NumPy array becomes a float32 Tensor", "public")
def test_create_from_numpy(student, rng):
    student.exec(f"{IMPORT}\nt = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))")
    assert_array(student.array("t"), np.arange(6).reshape(2, 3), dtype=np.float32,
                 what="Tensor(np.arange(6.0).reshape(2, 3)).data")
    values = grid(rng, tuple(_sizes(rng, 3))).astype(np.float64)
    cases = Cases(IMPORT)
    cases.expect(f"Tensor({literal(values)})", values, "this job's float64 array",
                 dtype=np.float32)
    cases.check(student)


@check("tensor.shape.properties", "shape, size and ndim describe the data", "public")
def test_shape_properties(student, rng):
    student.exec(f"{IMPORT}\nt = Tensor(np.zeros((2, 3, 4)))")
    assert_equal(student.eval("list(t.shape)"), [2, 3, 4], what="Tensor(zeros((2,3,4))).shape")
    assert_equal(student.eval("int(t.size)"), 24, what="t.size")
    assert_equal(student.eval("int(t.ndim)"), 3, what="t.ndim")
    shapes = [_sizes(rng, ndim) for ndim in (1, 2, 3, 4)]
    student.exec(f"{IMPORT}\nts = [Tensor(np.zeros(shape)) for shape in {shapes}]")
    assert_equal(student.eval("[[list(t.shape), int(t.size), int(t.ndim)] for t in ts]"),
                 [[shape, int(np.prod(shape)), len(shape)] for shape in shapes],
                 what=f"[shape, size, ndim] of Tensor(np.zeros(shape)) for shape in {shapes}")


@check("tensor.add.broadcast", "a + b broadcasts a (2, 3) and a (3,) tensor like NumPy", "public")
def test_add_broadcast(student, rng):
    student.exec(f"{IMPORT}\na = Tensor({A.tolist()})\nrow = Tensor([10.0, 20.0, 30.0])")
    assert_array(student.array("a + row"), A + [10, 20, 30], dtype=np.float32, what="a + row")
    rows, cols = _sizes(rng, 2)
    a, row = grid(rng, (rows, cols)), grid(rng, cols)
    job_cases(student, {"a": a, "row": row}, [("{a} + {row}", a + row)], dtype=np.float32)


@check("tensor.arith.elementwise", "-, * and / work element-wise with tensors and numbers",
       "public")
def test_arith_elementwise(student, rng):
    _with_ab(student)
    assert_results(student, [("a - b", A - B), ("a * b", A * B), ("a / b", A / B),
                             ("a * 2", A * 2), ("a - 1", A - 1), ("a / 4", A / 4), ("-a", -A)])
    shape = tuple(_sizes(rng, 2))
    a, b = grid(rng, shape), nonzero(rng, shape)
    times, minus, over = (int(n) for n in rng.integers(2, 10, size=3))
    job_cases(student, {"a": a, "b": b}, [
        ("{a} - {b}", a - b), ("{a} * {b}", a * b), ("{a} / {b}", a / b),
        (f"{{a}} * {times}", a * times), (f"{{a}} - {minus}", a - minus),
        (f"{{a}} / {over}", a / over), ("-{a}", -a)])


@check("tensor.pow.number", "a ** 2 and a ** 0.5 raise every element to the power", "public")
def test_pow_number(student, rng):
    x = np.array([[1.0, 4.0], [9.0, 16.0]])
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()})")
    assert_results(student, [("x ** 2", x ** 2), ("x ** 0.5", x ** 0.5)])
    x = grid(rng, tuple(_sizes(rng, 2)), 1, 40)
    job_cases(student, {"x": x}, [("{x} ** 2", x ** 2), ("{x} ** 0.5", x ** 0.5)])


@check("tensor.matmul.2d", "a @ b multiplies a (2, 3) by a (3, 4) matrix", "public")
def test_matmul_2d(student, rng):
    left, right = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4) - 5
    student.exec(f"{IMPORT}\nl = Tensor({left.tolist()})\nr = Tensor({right.tolist()})")
    assert_array(student.array("l @ r"), left @ right, dtype=np.float32, what="l @ r")
    m, k, n = _sizes(rng, 3)
    left, right = grid(rng, (m, k)), grid(rng, (k, n))
    job_cases(student, {"l": left, "r": right}, [("{l} @ {r}", left @ right)],
              dtype=np.float32)


@check("tensor.matmul.shape_error", "a @ b with mismatched inner sizes raises ValueError",
       "public")
def test_matmul_shape_error(student, rng):
    _with_ab(student)
    student.raises("a @ b", "ValueError")
    m, k, j, n = _sizes(rng, 4)
    student.raises(f"{IMPORT}\nTensor({literal(grid(rng, (m, k)))}) @ "
                   f"Tensor({literal(grid(rng, (j, n)))})", "ValueError")


@check("tensor.math.exp_log_sqrt", "exp(), log() and sqrt() apply element-wise", "public")
def test_exp_log_sqrt(student, rng):
    x = np.array([[0.5, 1.0], [2.0, 4.0]])
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()})")
    assert_results(student, [("x.exp()", np.exp(x)), ("x.log()", np.log(x)),
                             ("x.sqrt()", np.sqrt(x))])
    x = grid(rng, tuple(_sizes(rng, 2)), 1, 40)
    job_cases(student, {"x": x}, [("{x}.exp()", np.exp(x)), ("{x}.log()", np.log(x)),
                                  ("{x}.sqrt()", np.sqrt(x))])


@check("tensor.sum.axis", "sum() over all, one axis, and with keepdims", "public")
def test_sum_axis(student, rng):
    _with_ab(student)
    assert_results(student, [("a.sum()", A.sum()), ("a.sum(axis=0)", A.sum(axis=0)),
                             ("a.sum(axis=1, keepdims=True)", A.sum(axis=1, keepdims=True))])
    a = grid(rng, tuple(_sizes(rng, 2)))
    job_cases(student, {"a": a}, [("{a}.sum()", a.sum()), ("{a}.sum(axis=0)", a.sum(axis=0)),
                                  ("{a}.sum(axis=1, keepdims=True)",
                                   a.sum(axis=1, keepdims=True))])


@check("tensor.mean.axis", "mean() over all and along an axis", "public")
def test_mean_axis(student, rng):
    _with_ab(student)
    assert_results(student, [("a.mean()", A.mean()), ("a.mean(axis=1)", A.mean(axis=1))])
    a = grid(rng, tuple(_sizes(rng, 2)))
    job_cases(student, {"a": a}, [("{a}.mean()", a.mean()), ("{a}.mean(axis=1)", a.mean(axis=1))])


@check("tensor.max.axis", "max() over all and along an axis", "public")
def test_max_axis(student, rng):
    _with_ab(student)
    assert_results(student, [("a.max()", A.max()), ("a.max(axis=0)", A.max(axis=0))])
    a = grid(rng, tuple(_sizes(rng, 2)))
    job_cases(student, {"a": a}, [("{a}.max()", a.max()), ("{a}.max(axis=0)", a.max(axis=0))])


@check("tensor.reshape.infer", "reshape() accepts a tuple or sizes, with one -1 inferred",
       "public")
def test_reshape_infer(student, rng):
    _with_ab(student)
    assert_results(student, [("a.reshape(3, -1)", A.reshape(3, 2)),
                             ("a.reshape((6,))", A.reshape(6))])
    m, n = _sizes(rng, 2)
    a = grid(rng, (m, n))
    job_cases(student, {"a": a}, [(f"{{a}}.reshape({n}, -1)", a.reshape(n, m)),
                                  (f"{{a}}.reshape(({m * n},))", a.reshape(m * n))])


@check("tensor.transpose.2d", "transpose() and .T swap the rows and columns of a matrix",
       "public")
def test_transpose_2d(student, rng):
    _with_ab(student)
    assert_results(student, [("a.transpose()", A.T), ("a.T", A.T)])
    a = grid(rng, tuple(_sizes(rng, 2)))
    job_cases(student, {"a": a}, [("{a}.transpose()", a.T), ("{a}.T", a.T)])


@check("tensor.getitem.slice", "indexing with an int and with slices works like NumPy",
       "public")
def test_getitem_slice(student, rng):
    _with_ab(student)
    assert_results(student, [("a[1]", A[1]), ("a[:, 1:]", A[:, 1:])])
    m, n = _sizes(rng, 2)
    a, row, col = grid(rng, (m, n)), int(rng.integers(m)), int(rng.integers(1, n))
    job_cases(student, {"a": a}, [(f"{{a}}[{row}]", a[row]), (f"{{a}}[:, {col}:]", a[:, col:])])


def _pair_cases(rng, pairs, ops):
    """Cases applying each binary ``ops`` entry (runner format, NumPy function) to every pair
    of shapes, with positive right operands so that division is safe."""
    cases = Cases(IMPORT)
    for left, right in pairs:
        a, b = floats(rng, left), np.abs(floats(rng, right)) + np.float32(0.5)
        names = cases.tensor(a), cases.tensor(b)
        for form, numpy_op in ops:
            cases.expect(form.format(*names), numpy_op(a.astype(np.float64), b),
                         f"shapes {left} and {right}", dtype=np.float32)
    return cases


@check("tensor.broadcast.shapes", "+, -, * and / broadcast like NumPy on leading and trailing "
       "axes, size-1 axes and scalars, in both orders", "public")
def test_broadcast_shapes(student, rng):
    ops = [("{} + {}", np.add), ("{} - {}", np.subtract), ("{} * {}", np.multiply),
           ("{} / {}", np.divide)]
    for generator in (fixed(21), rng):
        _pair_cases(generator, broadcast_pairs(generator), ops).check(student, rtol=1e-5,
                                                                      atol=1e-6)


@check("tensor.matmul.shapes", "a @ b works for wide and tall matrices, vectors, and batches "
       "on either or both sides (batch dimensions broadcast)", "public")
def test_matmul_shapes(student, rng):
    for generator in (fixed(22), rng):
        _pair_cases(generator, matmul_pairs(generator), [("{} @ {}", np.matmul)]).check(
            student, rtol=1e-4, atol=1e-5)
