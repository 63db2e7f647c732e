"""bench/op_profile.py charges each op's forward and backward, and leaves tinytorch as it found it."""

import numpy as np

from bench.op_profile import OpProfile
from tinytorch.core import autograd
from tinytorch.core.tensor import Tensor


def test_profile_counts_forward_and_backward_per_op_and_restores_tinytorch():
    rules, from_op = dict(autograd.GRADIENTS), Tensor.__dict__["_from_op"]
    a = Tensor(np.ones((64, 64), dtype=np.float32), requires_grad=True)
    with OpProfile(by_shape=True) as profile:
        for _ in range(2):
            (a @ a).sum().backward()
            profile.mark("between steps")
    assert profile.calls["fwd matmul 64x64"] == 2 and profile.calls["bwd matmul 64x64"] == 2
    assert profile.calls["fwd sum"] == 2 and profile.calls["between steps"] == 2
    assert all(seconds >= 0 for seconds in profile.cpu.values())
    report = profile.report(steps=2)
    assert "bwd matmul 64x64" in report and report.splitlines()[-1].startswith("total")
    assert autograd.GRADIENTS == rules and Tensor.__dict__["_from_op"] is from_op
