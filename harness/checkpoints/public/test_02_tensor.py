"""Module 02 - Tensor: public checks (shipped to students with the starter).

Each check asks the runner to build tensors with the student's code and compares the
returned ``.data`` here, with NumPy.  Forward behaviour only: gradients are module 07's.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, assert_results, check
from harness.checkpoints.inputs import Cases, broadcast_pairs, fixed, floats, matmul_pairs

IMPORT = "from tinytorch.core.tensor import Tensor"
A = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
B = np.array([[0.5, 2.0, -1.0], [1.0, -3.0, 2.0]])


def _with_ab(student):
    student.exec(f"{IMPORT}\na = Tensor({A.tolist()})\nb = Tensor({B.tolist()})")


@check("tensor.create.float32", "Tensor([[1, 2], [3, 4]]) keeps its numbers as float32", "public")
def test_create_float32(student):
    student.exec(IMPORT)
    assert_array(student.array("Tensor([[1, 2], [3, 4]])"), [[1, 2], [3, 4]],
                 dtype=np.float32, what="Tensor([[1, 2], [3, 4]]).data")


@check("tensor.create.from_numpy", "A float64 NumPy array becomes a float32 Tensor", "public")
def test_create_from_numpy(student):
    student.exec(f"{IMPORT}\nt = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))")
    assert_array(student.array("t"), np.arange(6).reshape(2, 3), dtype=np.float32,
                 what="Tensor(np.arange(6.0).reshape(2, 3)).data")


@check("tensor.shape.properties", "shape, size and ndim describe the data", "public")
def test_shape_properties(student):
    student.exec(f"{IMPORT}\nt = Tensor(np.zeros((2, 3, 4)))")
    assert_equal(student.eval("list(t.shape)"), [2, 3, 4], what="Tensor(zeros((2,3,4))).shape")
    assert_equal(student.eval("int(t.size)"), 24, what="t.size")
    assert_equal(student.eval("int(t.ndim)"), 3, what="t.ndim")


@check("tensor.add.broadcast", "a + b broadcasts a (2, 3) and a (3,) tensor like NumPy", "public")
def test_add_broadcast(student):
    student.exec(f"{IMPORT}\na = Tensor({A.tolist()})\nrow = Tensor([10.0, 20.0, 30.0])")
    assert_array(student.array("a + row"), A + [10, 20, 30], dtype=np.float32, what="a + row")


@check("tensor.arith.elementwise", "-, * and / work element-wise with tensors and numbers",
       "public")
def test_arith_elementwise(student):
    _with_ab(student)
    assert_results(student, [("a - b", A - B), ("a * b", A * B), ("a / b", A / B),
                             ("a * 2", A * 2), ("a - 1", A - 1), ("a / 4", A / 4), ("-a", -A)])


@check("tensor.pow.number", "a ** 2 and a ** 0.5 raise every element to the power", "public")
def test_pow_number(student):
    x = np.array([[1.0, 4.0], [9.0, 16.0]])
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()})")
    assert_results(student, [("x ** 2", x ** 2), ("x ** 0.5", x ** 0.5)])


@check("tensor.matmul.2d", "a @ b multiplies a (2, 3) by a (3, 4) matrix", "public")
def test_matmul_2d(student):
    left, right = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4) - 5
    student.exec(f"{IMPORT}\nl = Tensor({left.tolist()})\nr = Tensor({right.tolist()})")
    assert_array(student.array("l @ r"), left @ right, dtype=np.float32, what="l @ r")


@check("tensor.matmul.shape_error", "a @ b with mismatched inner sizes raises ValueError",
       "public")
def test_matmul_shape_error(student):
    _with_ab(student)
    student.raises("a @ b", "ValueError")


@check("tensor.math.exp_log_sqrt", "exp(), log() and sqrt() apply element-wise", "public")
def test_exp_log_sqrt(student):
    x = np.array([[0.5, 1.0], [2.0, 4.0]])
    student.exec(f"{IMPORT}\nx = Tensor({x.tolist()})")
    assert_results(student, [("x.exp()", np.exp(x)), ("x.log()", np.log(x)),
                             ("x.sqrt()", np.sqrt(x))])


@check("tensor.sum.axis", "sum() over all, one axis, and with keepdims", "public")
def test_sum_axis(student):
    _with_ab(student)
    assert_results(student, [("a.sum()", A.sum()), ("a.sum(axis=0)", A.sum(axis=0)),
                             ("a.sum(axis=1, keepdims=True)", A.sum(axis=1, keepdims=True))])


@check("tensor.mean.axis", "mean() over all and along an axis", "public")
def test_mean_axis(student):
    _with_ab(student)
    assert_results(student, [("a.mean()", A.mean()), ("a.mean(axis=1)", A.mean(axis=1))])


@check("tensor.max.axis", "max() over all and along an axis", "public")
def test_max_axis(student):
    _with_ab(student)
    assert_results(student, [("a.max()", A.max()), ("a.max(axis=0)", A.max(axis=0))])


@check("tensor.reshape.infer", "reshape() accepts a tuple or sizes, with one -1 inferred",
       "public")
def test_reshape_infer(student):
    _with_ab(student)
    assert_results(student, [("a.reshape(3, -1)", A.reshape(3, 2)),
                             ("a.reshape((6,))", A.reshape(6))])


@check("tensor.transpose.2d", "transpose() and .T swap the rows and columns of a matrix",
       "public")
def test_transpose_2d(student):
    _with_ab(student)
    assert_results(student, [("a.transpose()", A.T), ("a.T", A.T)])


@check("tensor.getitem.slice", "indexing with an int and with slices works like NumPy",
       "public")
def test_getitem_slice(student):
    _with_ab(student)
    assert_results(student, [("a[1]", A[1]), ("a[:, 1:]", A[:, 1:])])


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
