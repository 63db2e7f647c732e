"""Module 02 - Tensor: hidden checks (graders only): edge cases and performance."""

import numpy as np

from workers.checkpoints import assert_results, check, ratio_to_reference
from workers.checkpoints.perf import Workload

IMPORT = "from tinytorch.core.tensor import Tensor"


def _define(student, **arrays):
    """Create Tensors named like the keyword arguments in the student's namespace."""
    student.exec("\n".join([IMPORT] + [f"{name} = Tensor(np.array({value.tolist()}))"
                                       for name, value in arrays.items()]))


@check("tensor.add.broadcast_both", "a (3, 1) plus a (1, 4) tensor broadcasts to (3, 4)",
       "hidden")
def test_add_broadcast_both(student):
    col, row = np.array([[1.0], [2.0], [3.0]]), np.array([[10.0, 20.0, 30.0, 40.0]])
    _define(student, col=col, row=row)
    assert_results(student, [("col + row", col + row), ("row - col", row - col)])


@check("tensor.arith.reflected", "numbers on the left work too: 2 - a, 2 / a, 3 * a, 1 + a",
       "hidden")
def test_arith_reflected(student):
    a = np.array([[1.0, 2.0], [4.0, -8.0]])
    _define(student, a=a)
    assert_results(student, [("2 - a", 2 - a), ("2 / a", 2 / a), ("3 * a", 3 * a),
                             ("1 + a", 1 + a)])


@check("tensor.ops.no_mutation", "operations return new tensors and leave their inputs alone",
       "hidden")
def test_ops_no_mutation(student):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    _define(student, a=a, b=b)
    student.exec("_ = [a + b, a * b, a - b, a / b, a ** 2, a.exp(), a.sum(), a.reshape(3, 1)]")
    assert_results(student, [("a", a), ("b", b)])


@check("tensor.matmul.batched", "a (2, 3, 4) @ (4, 5) matmul broadcasts the batch dimension",
       "hidden")
def test_matmul_batched(student):
    rng = np.random.default_rng(2)
    left, right = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    _define(student, left=left, right=right)
    assert_results(student, [("left @ right", left @ right)], rtol=1e-4, atol=1e-5)


@check("tensor.max.all_negative", "max() is right when every element is negative", "hidden")
def test_max_all_negative(student):
    x = np.array([[-3.0, -1.5, -7.0], [-2.0, -9.0, -0.5]])
    _define(student, x=x)
    assert_results(student, [("x.max()", x.max()),
                             ("x.max(axis=1, keepdims=True)", x.max(axis=1, keepdims=True))])


@check("tensor.mean.keepdims", "mean(axis=0, keepdims=True) keeps a dimension of size 1",
       "hidden")
def test_mean_keepdims(student):
    x = np.arange(12.0).reshape(3, 4)
    _define(student, x=x)
    assert_results(student, [("x.mean(axis=0, keepdims=True)", x.mean(axis=0, keepdims=True))])


@check("tensor.reshape.bad_size", "reshape() to a different number of elements raises ValueError",
       "hidden")
def test_reshape_bad_size(student):
    _define(student, x=np.zeros((2, 3)))
    student.raises("x.reshape(4, 4)", "ValueError")


@check("tensor.transpose.dims", "transpose(0, 2) swaps exactly those two dimensions", "hidden")
def test_transpose_dims(student):
    x = np.arange(24.0).reshape(2, 3, 4)
    _define(student, x=x)
    assert_results(student, [("x.transpose(0, 2)", np.swapaxes(x, 0, 2)),
                             ("x.transpose()", np.swapaxes(x, -2, -1))])


@check("tensor.getitem.index_array", "indexing with an integer array or Tensor picks rows",
       "hidden")
def test_getitem_index_array(student):
    x = np.arange(12.0).reshape(4, 3)
    _define(student, x=x)
    assert_results(student, [("x[np.array([3, 0])]", x[[3, 0]]),
                             ("x[Tensor([2, 1])]", x[[2, 1]])])


@check("tensor.pow.tensor_exponent", "a ** Tensor(...) raises TypeError (numbers only)", "hidden")
def test_pow_tensor_exponent(student):
    _define(student, x=np.array([1.0, 2.0]))
    student.raises("x ** Tensor([2.0, 2.0])", "TypeError")


@check("tensor.matmul.vectorised", "a @ b is about as fast as the reference (no Python loops)",
       "hidden")
def test_matmul_vectorised(student, reference, rng):
    work = Workload(IMPORT, lambda rng: {name: rng.normal(size=(256, 256)).astype(np.float32)
                                         for name in ("l", "r")},
                    "Tensor(l) @ Tensor(r)", what="Tensor(a) @ Tensor(b) of two (256, 256)")
    ratio = ratio_to_reference(student, reference, rng, work)
    assert ratio <= 5.0, f"a @ b took {ratio:.1f}x the reference's time (at most 5x passes)"
