"""Module 07: the backward engine itself (order, accumulation, depth, no_grad), beyond single ops."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch import Tensor, no_grad
from tinytorch.core import autograd


def test_graph_ten_thousand_ops_deep_backpropagates_without_recursion():
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    factor = 1 + 2**-14  # exact in float32, the dtype a Python scalar operand becomes
    y = x
    for _ in range(10_000):
        y = y * factor
    y.backward()
    np.testing.assert_allclose(x.grad, factor**10_000, rtol=1e-9)


def test_shared_subexpression_gets_every_path_of_gradient():
    x = Tensor([2.0, -3.0], requires_grad=True, dtype=np.float64)
    y = x * x + x  # d/dx = 2x + 1
    z = y * y      # d/dx = 2y(2x + 1)
    z.sum().backward()
    xv = np.array([2.0, -3.0])
    np.testing.assert_allclose(x.grad, 2 * (xv * xv + xv) * (2 * xv + 1))


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_grad_is_a_numpy_array_on_leaves_only():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    (hidden * hidden).sum().backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.dtype == np.float32
    assert hidden.grad is None


def test_inputs_without_requires_grad_get_no_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad, [5, 6])


def test_no_grad_records_nothing_and_restores_even_after_an_error():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
        with no_grad():
            pass
        z = x * 2  # still inside the outer block after the inner one closed
    assert not y.requires_grad and y._ctx is None and z._ctx is None
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert autograd.is_grad_enabled()
    assert (x * 2).requires_grad


def test_backward_needs_a_scalar_or_an_explicit_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2, 40])


def test_backward_on_a_constant_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_an_op_without_a_rule_is_named_in_the_error():
    x = Tensor([1.0], requires_grad=True)
    y = Tensor._from_op(x.data * 2, (x,), "not_a_registered_op")
    with pytest.raises(NotImplementedError, match="not_a_registered_op"):
        y.sum().backward()


@pytest.mark.parametrize("grad_shape, shape, expected", [
    ((3, 4), (3, 4), np.ones((3, 4))),
    ((3, 4), (4,), np.full(4, 3.0)),
    ((3, 4), (3, 1), np.full((3, 1), 4.0)),
    ((2, 3, 4), (1, 4), np.full((1, 4), 6.0)),
    ((2, 3), (), np.array(6.0)),
])
def test_unbroadcast_sums_back_to_the_input_shape(grad_shape, shape, expected):
    out = autograd.unbroadcast(np.ones(grad_shape), shape)
    assert out.shape == shape
    np.testing.assert_array_equal(out, expected)


def test_topological_order_puts_every_input_before_its_result():
    x = Tensor([1.0], requires_grad=True)
    a = x * 2
    b = a + x
    c = b * a
    order = autograd.topological_order(c)
    position = {id(t): i for i, t in enumerate(order)}
    assert len(order) == 4 and order[-1] is c
    assert position[id(x)] < position[id(a)] < position[id(b)] < position[id(c)]
