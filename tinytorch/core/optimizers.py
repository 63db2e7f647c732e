"""Module 06 - Optimizers: turn gradients into parameter updates, and schedule the step size.

Every update runs in place on ``param.data`` with NumPy (``-=``, ``*=``), so a step
allocates no new parameter arrays and the arrays a model holds stay the same objects.

Systems cost (P = number of parameter floats):
    memory  - SGD keeps nothing extra; SGD with momentum keeps one velocity per parameter
              (+P); Adam and AdamW keep two moment estimates (+2P), so an Adam-trained model
              needs parameters + gradients + 2 moments = 4P floats before any activations.
    compute - O(P) element-wise work per step: memory-bound and small next to the forward and
              backward matmuls, but Adam touches every float about 10 times per step.

Schedules count ``.step()`` calls (the Trainer calls it once per optimizer step by default)
and set ``optimizer.lr`` from a closed form, so resuming from a checkpoint needs only the
step count.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "LRScheduler",
    "StepLR",
    "CosineAnnealingLR",
    "LinearWarmup",
    "WarmupCosine",
]


class Optimizer:
    """Holds the parameters (tensors with ``requires_grad``) and per-parameter state arrays."""

    def __init__(self, params, lr: float):
        unique = list({id(p): p for p in params}.values())
        if not unique:
            raise ValueError("optimizer got an empty parameter list")
        frozen = [i for i, p in enumerate(unique) if not p.requires_grad]
        if frozen:
            raise ValueError(f"parameters {frozen} do not require grad; pass only trainable tensors")
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.params = unique
        self.lr = float(lr)
        self.step_count = 0
        self.state: list[dict[str, np.ndarray]] = [{} for _ in unique]

    def zero_grad(self) -> None:
        """Forget the gradients (they accumulate across backward calls otherwise)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        self.step_count += 1
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p.data, p.grad, state)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-able settings, name -> array) : everything needed to resume identically."""
        arrays = {f"{i}.{key}": value for i, state in enumerate(self.state) for key, value in state.items()}
        return {"lr": self.lr, "step_count": self.step_count}, arrays

    def load_state_dict(self, settings: dict, arrays: dict) -> None:
        """Replace settings and state; checks everything before changing anything."""
        lr, step_count = float(settings["lr"]), int(settings["step_count"])
        state: list[dict] = [{} for _ in self.params]
        for name, value in arrays.items():
            index, key = name.split(".", 1)
            i = int(index)
            if not 0 <= i < len(self.params) or value.shape != self.params[i].shape:
                raise ValueError(f"optimizer state '{name}' with shape {value.shape} does not fit the parameters")
            state[i][key] = np.array(value, dtype=self.params[i].dtype)
        self.lr, self.step_count, self.state = lr, step_count, state


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    Same update as PyTorch: g = grad + wd * p; v = momentum * v + g (v = g on the first
    step); p -= lr * (g + momentum * v if nesterov else v).
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay

    def _update(self, param, grad, state):
        ### BEGIN SOLUTION
        g = grad + self.weight_decay * param if self.weight_decay else grad
        if self.momentum:
            velocity = state.get("velocity")
            if velocity is None:
                velocity = state["velocity"] = np.array(g, dtype=param.dtype)
            else:
                velocity *= self.momentum
                velocity += g
            g = g + self.momentum * velocity if self.nesterov else velocity
        param -= self.lr * g
        ### END SOLUTION


class Adam(Optimizer):
    """Adaptive moments with bias correction (Kingma & Ba); weight decay here is L2 (added to g).

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def _decay(self, param, grad):
        """Adam's weight decay is an L2 term in the gradient."""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def _update(self, param, grad, state):
        b1, b2 = self.betas
        g = self._decay(param, grad)
        t = self.step_count
        ### BEGIN SOLUTION
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(param), np.zeros_like(param)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - b2**t)
        denom += self.eps
        param -= (self.lr / (1 - b1**t)) * m / denom
        ### END SOLUTION


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr*wd before the Adam
    step, so decay does not get rescaled by the adaptive denominator.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, param, grad):
        ### BEGIN SOLUTION
        if self.weight_decay:
            param *= 1 - self.lr * self.weight_decay
        return grad
        ### END SOLUTION


# ------------------------------------------------------------------ schedules
class LRScheduler:
    """Sets ``optimizer.lr = get_lr()`` on creation and after every ``step()``."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_step = 0
        optimizer.lr = self.get_lr()

    def get_lr(self) -> float:
        raise NotImplementedError

    def step(self) -> None:
        self.last_step += 1
        self.optimizer.lr = self.get_lr()

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "last_step": self.last_step}

    def load_state_dict(self, state: dict) -> None:
        self.base_lr, self.last_step = float(state["base_lr"]), int(state["last_step"])
        self.optimizer.lr = self.get_lr()


def _cosine(start: float, end: float, t: int, span: int) -> float:
    """Half a cosine from ``start`` (t=0) down to ``end`` (t>=span)."""
    progress = min(max(t, 0), span) / span
    return end + (start - end) * (1 + math.cos(math.pi * progress)) / 2


class StepLR(LRScheduler):
    """lr = base * gamma ** (steps // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self) -> float:
        ### BEGIN SOLUTION
        return self.base_lr * self.gamma ** (self.last_step // self.step_size)
        ### END SOLUTION


class CosineAnnealingLR(LRScheduler):
    """From base down to ``eta_min`` along half a cosine over ``T_max`` steps, then flat."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        if T_max < 1:
            raise ValueError(f"T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self) -> float:
        ### BEGIN SOLUTION
        return _cosine(self.base_lr, self.eta_min, self.last_step, self.T_max)
        ### END SOLUTION


class LinearWarmup(LRScheduler):
    """lr = base * (step + 1) / warmup_steps for the first steps, then base.

    Early large steps on randomly initialised weights can blow up Adam's moment estimates or
    BatchNorm statistics; ramping up avoids that.
    """

    def __init__(self, optimizer, warmup_steps: int):
        if warmup_steps < 1:
            raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
        self.warmup_steps = warmup_steps
        super().__init__(optimizer)

    def get_lr(self) -> float:
        ### BEGIN SOLUTION
        return self.base_lr * min(self.last_step + 1, self.warmup_steps) / self.warmup_steps
        ### END SOLUTION


class WarmupCosine(LinearWarmup):
    """Linear warmup over ``warmup_steps``, then cosine decay that reaches ``eta_min`` at step
    ``total_steps`` (so a run of ``total_steps`` optimizer steps never uses a zero rate)."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, eta_min: float = 0.0):
        if total_steps <= warmup_steps:
            raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps ({warmup_steps})")
        self.total_steps, self.eta_min = total_steps, eta_min
        super().__init__(optimizer, warmup_steps)

    def get_lr(self) -> float:
        if self.last_step < self.warmup_steps:
            return super().get_lr()
        ### BEGIN SOLUTION
        return _cosine(self.base_lr, self.eta_min, self.last_step - self.warmup_steps,
                       self.total_steps - self.warmup_steps)
        ### END SOLUTION
