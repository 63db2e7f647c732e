"""Module 02: Tensor construction, forward values, and every op's gradient against finite differences."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings

from tests.strategies import broadcastable_pairs
from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tinytorch import Tensor


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def positive_tensor(rng, *shape):
    """float64 leaf with values in [0.5, 2]: the domain of log, sqrt, division and fractional powers."""
    return Tensor(rng.uniform(0.5, 2.0, size=shape), requires_grad=True, dtype=np.float64)


# ------------------------------------------------------------------ construction
def test_default_dtype_is_float32_and_properties_describe_the_array():
    t = Tensor([[1, 2, 3], [4, 5, 6]])
    assert t.dtype == np.float32
    assert t.shape == (2, 3) and t.size == 6 and t.ndim == 2 and len(t) == 2
    assert t.grad is None and not t.requires_grad
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])


def test_explicit_dtype_is_kept_and_float32_arrays_are_not_copied():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    array = np.ones(3, dtype=np.float32)
    assert Tensor(array).data is array


def test_detach_shares_data_but_not_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y._ctx is None


# ----------------------------------------------------------------- forward values
@pytest.mark.parametrize("op, expected", [
    (lambda a, b: a + b, lambda a, b: a + b),
    (lambda a, b: a - b, lambda a, b: a - b),
    (lambda a, b: a * b, lambda a, b: a * b),
    (lambda a, b: a / b, lambda a, b: a / b),
    (lambda a, b: a @ b.T, lambda a, b: a @ b.T),
])
def test_binary_ops_match_numpy(op, expected):
    a = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], dtype=np.float32)
    b = np.array([[2.0, 1.0, -3.0], [1.5, 0.25, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(op(Tensor(a), Tensor(b)).data, expected(a, b), rtol=1e-6)


def test_scalars_work_on_both_sides():
    x = Tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 + x).data, [3, 4, 6])
    np.testing.assert_allclose((x - 1).data, [0, 1, 3])
    np.testing.assert_allclose((1 - x).data, [0, -1, -3])
    np.testing.assert_allclose((3 * x).data, [3, 6, 12])
    np.testing.assert_allclose((8 / x).data, [8, 4, 2])
    np.testing.assert_allclose((-x).data, [-1, -2, -4])
    np.testing.assert_allclose((x**2).data, [1, 4, 16])


def test_unary_math_and_reductions_match_numpy():
    a = np.array([[1.0, 4.0], [9.0, 16.0]], dtype=np.float32)
    x = Tensor(a)
    np.testing.assert_allclose(x.exp().data, np.exp(a), rtol=1e-6)
    np.testing.assert_allclose(x.log().data, np.log(a), rtol=1e-6)
    np.testing.assert_allclose(x.sqrt().data, [[1, 2], [3, 4]])
    assert x.sum().item() == 30
    np.testing.assert_allclose(x.sum(axis=0).data, [10, 20])
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_allclose(x.mean(axis=1).data, [2.5, 12.5])
    np.testing.assert_allclose(x.max(axis=0).data, [9, 16])
    assert x.max().item() == 16


def test_reshape_infers_minus_one_and_rejects_bad_shapes():
    x = Tensor(np.arange(12))
    assert x.reshape(3, -1).shape == (3, 4)
    assert x.reshape((2, 2, -1)).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="at most one"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match=r"shape \(12,\).*\(5, -1\)"):
        x.reshape(5, -1)


def test_transpose_and_getitem_match_numpy():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = Tensor(a)
    np.testing.assert_array_equal(x.transpose().data, np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(x.transpose(0, 2).data, np.swapaxes(a, 0, 2))
    np.testing.assert_array_equal(x[1, :, ::2].data, a[1, :, ::2])
    np.testing.assert_array_equal(x[Tensor([1, 0, 1])].data, a[[1, 0, 1]])


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul shape mismatch: \(2, 3\) @ \(4, 5\).*3 and 4"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="at least one dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_pow_rejects_a_tensor_exponent():
    with pytest.raises(TypeError, match="exponent"):
        Tensor([1.0]) ** Tensor([2.0])


# ------------------------------------------------------------------ gradient checks
BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((), (2, 3))])
def test_binary_op_gradients_with_broadcasting(rng, name, shape_a, shape_b):
    a, b = positive_tensor(rng, *shape_a), positive_tensor(rng, *shape_b)
    assert_gradients_match(BINARY_OPS[name], a, b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


@pytest.mark.parametrize("shape_a, shape_b", [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),        # vector @ matrix
    ((2, 3), (3,)),        # matrix @ vector
    ((3,), (3,)),          # dot product
    ((5, 2, 3), (5, 3, 4)),  # batch
    ((5, 2, 3), (3, 4)),     # batch @ shared matrix: the matrix gradient sums over the batch
    ((2, 1, 2, 3), (4, 3, 2)),  # broadcast batch dimensions
])
def test_matmul_gradients(rng, shape_a, shape_b):
    a, b = random_tensor(rng, *shape_a), random_tensor(rng, *shape_b)
    assert_gradients_match(lambda a, b: a @ b, a, b)
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


UNARY_OPS = {
    "neg": lambda x: -x,
    "pow2": lambda x: x**2,
    "pow3": lambda x: x**3,
    "pow_half": lambda x: x**0.5,
    "pow_neg": lambda x: x**-1.5,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "scalar_radd": lambda x: 2.0 + x,
    "scalar_rsub": lambda x: 2.0 - x,
    "scalar_rmul": lambda x: 3.0 * x,
    "scalar_rdiv": lambda x: 1.0 / x,
    "sum_all": lambda x: x.sum(),
    "sum_axis0": lambda x: x.sum(axis=0),
    "sum_axis1_keepdims": lambda x: x.sum(axis=1, keepdims=True),
    "sum_axes_tuple": lambda x: x.sum(axis=(0, 2)),
    "mean_all": lambda x: x.mean(),
    "mean_axis_neg1": lambda x: x.mean(axis=-1),
    "mean_keepdims": lambda x: x.mean(axis=1, keepdims=True),
    "max_all": lambda x: x.max(),
    "max_axis1": lambda x: x.max(axis=1),
    "max_keepdims": lambda x: x.max(axis=0, keepdims=True),
    "reshape": lambda x: x.reshape(4, -1),
    "transpose_last": lambda x: x.transpose(),
    "transpose_0_2": lambda x: x.transpose(0, 2),
    "getitem_slice": lambda x: x[1:, :, ::2],
    "getitem_int": lambda x: x[0],
    "getitem_newaxis": lambda x: x[None, 1],
    "getitem_ellipsis": lambda x: x[..., 1:3],
    "getitem_negative_step": lambda x: x[:, ::-1],
    "getitem_repeated_rows": lambda x: x[np.array([0, 1, 0, 0])],
    "getitem_fancy_tuple": lambda x: x[np.array([0, 1]), :, np.array([2, 0])],
}


@pytest.mark.parametrize("name", sorted(UNARY_OPS))
def test_unary_op_gradients(rng, name):
    x = positive_tensor(rng, 2, 3, 4)
    # weight the output so that gradients of reductions are not all equal
    weight = rng.normal(size=UNARY_OPS[name](x).shape)
    assert_gradients_match(lambda x: UNARY_OPS[name](x) * Tensor(weight, dtype=np.float64), x)
    assert x.grad.shape == x.shape


def test_max_splits_the_gradient_between_ties():
    x = Tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5]])


def test_broadcast_add_gradient_sums_over_the_stretched_axes():
    a = Tensor(np.zeros((3, 1)), requires_grad=True)
    b = Tensor(np.zeros((1, 4)), requires_grad=True)
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad, np.full((1, 4), 3.0))


# --------------------------------------------------------------- property tests
@settings(max_examples=60, deadline=None)
@given(broadcastable_pairs())
def test_arithmetic_broadcasts_like_numpy(pair):
    a, b = pair
    for op in (operator.add, operator.sub, operator.mul):
        np.testing.assert_allclose(op(Tensor(a, dtype=np.float64), Tensor(b, dtype=np.float64)).data, op(a, b))


def _broadcast_sum(values: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``values`` onto the elements of an array of ``shape`` that broadcasting copied them from."""
    source = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), values.shape)
    return np.bincount(source.ravel(), weights=values.ravel(), minlength=int(np.prod(shape))).reshape(shape)


@settings(max_examples=60, deadline=None)
@given(broadcastable_pairs())
def test_mul_gradient_under_broadcasting_is_the_other_operand_summed(pair):
    a_arr, b_arr = pair
    a = Tensor(a_arr, requires_grad=True, dtype=np.float64)
    b = Tensor(b_arr, requires_grad=True, dtype=np.float64)
    (a * b).sum().backward()
    out_shape = np.broadcast_shapes(a_arr.shape, b_arr.shape)
    np.testing.assert_allclose(a.grad, _broadcast_sum(np.broadcast_to(b_arr, out_shape), a_arr.shape), atol=1e-9)
    np.testing.assert_allclose(b.grad, _broadcast_sum(np.broadcast_to(a_arr, out_shape), b_arr.shape), atol=1e-9)
