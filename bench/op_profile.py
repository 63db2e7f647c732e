"""Where a training step's time goes, per tinytorch op, forward and backward apart.

Used by the benches' ``--profile``: ``with OpProfile() as prof:`` (or ``start()``/``stop()``)
around some training steps, ``prof.mark(name)`` after each phase outside the graph (data,
optimizer), then ``prof.report(steps)``. Forward time of an op is the time since the previous event (op
recorded, backward rule finished, or mark): the work that produced that op's output. Backward
time of an op is the time its gradient rule ran. CPU seconds (this process, all threads) are
kept beside wall seconds, so a busy machine does not hide where the work is.
"""

from __future__ import annotations

import time
from collections import defaultdict

from tinytorch.core import autograd
from tinytorch.core.tensor import Tensor


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


class OpProfile:
    """Patch ``Tensor._from_op`` and every gradient rule to charge time to ops; undo on exit."""

    def __init__(self, by_shape: bool = False):
        self.by_shape = by_shape  # one row per (op, output shape): tells the layers of one op apart
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._last = _now()

    def _charge(self, name: str) -> None:
        wall, cpu = _now()
        self.wall[name] += wall - self._last[0]
        self.cpu[name] += cpu - self._last[1]
        self.calls[name] += 1
        self._last = (wall, cpu)

    def mark(self, name: str) -> None:
        """Charge the time since the last event to ``name`` (a phase outside the graph)."""
        self._charge(name)

    def start(self) -> "OpProfile":
        """Begin charging: patch op recording and the gradient rules."""
        self._from_op = Tensor.__dict__["_from_op"]
        self._rules = dict(autograd.GRADIENTS)
        original, profile = self._from_op.__func__, self

        def from_op(cls, data, parents, op, **saved):
            out = original(cls, data, parents, op, **saved)
            profile._charge(f"fwd {profile._label(op, out.shape)}")
            return out

        Tensor._from_op = classmethod(from_op)
        for op, rule in self._rules.items():
            autograd.GRADIENTS[op] = self._timed_rule(op, rule)
        self._last = _now()
        return self

    def _timed_rule(self, op: str, rule):
        def timed(grad, ctx):
            self._charge("bwd (engine)")  # topological sort, accumulation between rules
            result = rule(grad, ctx)
            self._charge(f"bwd {self._label(op, ctx.out.shape)}")
            return result
        return timed

    def _label(self, op: str, shape: tuple) -> str:
        return f"{op} {'x'.join(map(str, shape))}" if self.by_shape and shape else op

    def stop(self) -> None:
        """Undo the patches; the figures stay."""
        Tensor._from_op = self._from_op
        autograd.GRADIENTS.update(self._rules)

    def __enter__(self) -> "OpProfile":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def report(self, steps: int, top: int = 25) -> str:
        """A table of ms per step (wall and CPU) per op, largest CPU first, with the total."""
        total_wall, total_cpu = sum(self.wall.values()), sum(self.cpu.values())
        lines = [f"{'per step (' + str(steps) + ' steps)':34s} {'wall ms':>9s} {'CPU ms':>9s} {'CPU %':>6s} {'calls':>6s}"]
        for name in sorted(self.cpu, key=self.cpu.get, reverse=True)[:top]:
            lines.append(f"{name:34s} {self.wall[name] / steps * 1e3:9.2f} {self.cpu[name] / steps * 1e3:9.2f} "
                         f"{self.cpu[name] / max(total_cpu, 1e-12):6.1%} {self.calls[name] / steps:6.1f}")
        lines.append(f"{'total':34s} {total_wall / steps * 1e3:9.2f} {total_cpu / steps * 1e3:9.2f}")
        return "\n".join(lines)
