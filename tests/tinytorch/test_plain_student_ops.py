"""bench/plain_student.py computes what the reference computes: its time to 75% is comparable."""

import numpy as np

from bench.plain_student import plain_student_ops
from milestones.cifar10 import CifarNet
from tinytorch.core.autograd import topological_order
from tinytorch.core.layers import manual_seed
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.tensor import Tensor


def _run(x: np.ndarray, labels: np.ndarray, training: bool):
    """Loss, parameter gradients and the set of ops in the graph of one step of a small CifarNet."""
    manual_seed(0)
    model = CifarNet(width=8)
    if not training:
        model.eval()
    loss = CrossEntropyLoss()(model(Tensor(x)), labels)
    loss.backward()
    ops = {node._ctx.op for node in topological_order(loss) if node._ctx is not None}
    return loss.item(), [p.grad for p in model.parameters()], ops


def test_plain_ops_match_the_reference_in_training_and_eval():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, size=4)
    for training in (True, False):
        loss, grads, ops = _run(x, labels, training)
        with plain_student_ops():
            plain_loss, plain_grads, plain_ops = _run(x, labels, training)
        assert {"conv2d", "batch_norm", "max_pool2d"} <= ops
        assert {"plain_conv2d", "plain_batch_norm", "plain_max_pool2d"} <= plain_ops
        assert not {"conv2d", "batch_norm", "max_pool2d"} & plain_ops
        assert np.isclose(loss, plain_loss, rtol=1e-4)
        for grad, plain_grad in zip(grads, plain_grads):
            np.testing.assert_allclose(plain_grad, grad, rtol=1e-3, atol=1e-4)
