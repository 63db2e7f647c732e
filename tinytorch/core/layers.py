"""Module 04 - Layers: modules that hold parameters and compose into networks.

A ``Module`` is any object with a ``forward``. Its parameters are the leaf tensors with
``requires_grad=True`` stored in its attributes, directly or inside other modules, lists,
tuples and dicts; ``parameters()`` finds them all (each once), so an optimizer can be
handed ``model.parameters()`` whatever the nesting.

Seeding: initialisers draw from the ``rng`` argument when one is given, otherwise from this
module's generator, which ``manual_seed(seed)`` resets. Seed once at the top of a program
and every layer built afterwards is reproducible.

Systems cost:
    memory  - ``Linear(in, out)`` holds in*out + out float32 numbers (4 bytes each), plus the
              same again for ``.grad`` once backward has run, plus whatever the optimizer keeps
              (module 06). ``Dropout`` keeps one mask the size of its input while training.
    compute - a ``Linear`` forward on a (batch, in) input is one (batch, in) @ (in, out) matmul:
              2*batch*in*out FLOPs; its backward costs two more matmuls of the same size.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = [
    "Module",
    "Layer",
    "Linear",
    "Dropout",
    "Sequential",
    "Flatten",
    "manual_seed",
    "default_rng",
    "kaiming_uniform",
]

_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the generator that layers draw their initial weights and dropout masks from."""
    global _rng
    _rng = np.random.default_rng(seed)


def default_rng() -> np.random.Generator:
    """The module-wide generator (the one ``manual_seed`` resets)."""
    return _rng


def kaiming_uniform(shape: tuple, fan_in: int, rng: np.random.Generator | None = None,
                    gain: float = np.sqrt(2.0)) -> np.ndarray:
    """He initialisation: U(-b, b) with b = gain * sqrt(3 / fan_in), float32.

    With gain sqrt(2) (ReLU) the variance of activations stays about constant from layer to
    layer, so deep stacks neither explode nor vanish at the start of training.
    """
    ### BEGIN SOLUTION
    bound = gain * np.sqrt(3.0 / fan_in)
    return (rng or _rng).uniform(-bound, bound, size=shape).astype(np.float32)
    ### END SOLUTION


def _is_parameter(value) -> bool:
    """A parameter is a leaf tensor that asks for gradients (not an intermediate result)."""
    return isinstance(value, Tensor) and value.requires_grad and value._ctx is None


def _children(value, prefix: str):
    """(name, item) pairs for the items of a list, tuple or dict attribute."""
    if isinstance(value, dict):
        return [(f"{prefix}.{key}", item) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [(f"{prefix}.{i}", item) for i, item in enumerate(value)]
    return []


class Module:
    """Base class of every layer and model: parameter discovery, train/eval mode, ``__call__``.

    Subclasses set attributes in ``__init__`` (calling ``super().__init__()`` is optional)
    and implement ``forward``. Non-trainable state that must survive a checkpoint (e.g.
    BatchNorm running statistics) is declared with ``register_buffer``.
    """

    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    # ------------------------------------------------------------- traversal
    def _walk(self):
        """Yield (name, value) for every parameter and sub-module below this one, once each.

        Iterative, in attribute order, so names are stable between runs (checkpoints rely
        on it) and a module shared twice, or a reference cycle, is visited once.
        """
        seen = {id(self)}
        stack = [("", self)]
        while stack:
            name, module = stack.pop()
            found = []
            pending = [(f"{name}.{key}" if name else key, value) for key, value in vars(module).items()]
            while pending:
                key, value = pending.pop(0)
                if id(value) in seen:
                    continue
                if _is_parameter(value) or isinstance(value, Module):
                    seen.add(id(value))
                    found.append((key, value))
                else:
                    children = _children(value, key)
                    if children:  # a container: visit it once, even if it contains itself
                        seen.add(id(value))
                    pending[:0] = children
            for key, value in found:
                yield key, value
            stack.extend(reversed([(key, value) for key, value in found if isinstance(value, Module)]))

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        return [(key, value) for key, value in self._walk() if isinstance(value, Tensor)]

    def parameters(self) -> list[Tensor]:
        """Every trainable tensor of this module and its sub-modules, each exactly once."""
        return [value for _, value in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, "Module"]]:
        """``("", self)`` then every sub-module under the dotted name ``state_dict`` uses."""
        return [("", self)] + [(key, value) for key, value in self._walk() if isinstance(value, Module)]

    def modules(self) -> list["Module"]:
        """This module and every sub-module below it."""
        return [module for _, module in self.named_modules()]

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Switch this module and all sub-modules to training (or, with False, eval) mode."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout passes inputs through, BatchNorm uses running statistics."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------ checkpoints
    def register_buffer(self, name: str, value: np.ndarray) -> None:
        """Keep ``value`` (an array, updated in place) as attribute ``name`` and in ``state_dict``."""
        if not isinstance(value, (np.ndarray, Tensor)):
            raise TypeError(f"buffer '{name}' must be a NumPy array or Tensor, got {type(value).__name__}")
        setattr(self, name, value)
        self.__dict__.setdefault("_buffer_names", [])
        if name not in self._buffer_names:
            self._buffer_names.append(name)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name -> array for every parameter and registered buffer (the arrays, not copies)."""
        state = {name: p.data for name, p in self.named_parameters()}
        for prefix, module in self.named_modules():
            for name in getattr(module, "_buffer_names", []):
                value = getattr(module, name)
                state[f"{prefix}.{name}" if prefix else name] = value.data if isinstance(value, Tensor) else value
        return state

    def load_state_dict(self, state: dict) -> None:
        """Copy arrays into this module's parameters and buffers in place; names and shapes must match."""
        own = self.state_dict()
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise KeyError(f"state does not match {type(self).__name__}: missing {missing}, unexpected {unexpected}")
        wrong = {name: np.shape(state[name]) for name, target in own.items() if np.shape(state[name]) != target.shape}
        if wrong:  # checked before copying anything, so a bad state changes nothing
            raise ValueError(f"state shapes do not match {type(self).__name__}: "
                             + ", ".join(f"'{n}' is {s}, expected {own[n].shape}" for n, s in wrong.items()))
        for name, target in own.items():
            target[...] = state[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


Layer = Module  # TinyTorch's name for the same base class


class Linear(Module):
    """y = x @ W + b with W of shape (in_features, out_features).

    W is He-uniform initialised (suited to ReLU networks), b starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None):
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got ({in_features}, {out_features})")
        self.in_features, self.out_features = in_features, out_features
        ### BEGIN SOLUTION
        self.weight = Tensor(kaiming_uniform((in_features, out_features), in_features, rng), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features, dtype=np.float32), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}) got input with {x.shape[-1]} "
                             f"features (shape {x.shape})")
        ### BEGIN SOLUTION
        out = x @ self.weight
        return out + self.bias if self.bias is not None else out
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class Dropout(Module):
    """Inverted dropout: zero each input with probability p while training and scale the rest
    by 1/(1-p), so evaluation needs no rescaling and is the identity.
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        ### BEGIN SOLUTION
        keep = (self.rng or _rng).random(x.shape, dtype=np.float32) >= self.p
        return x * Tensor(keep / (1.0 - self.p), dtype=x.dtype)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Sequential(Module):
    """Apply layers one after another; any callable works as a layer (e.g. activations)."""

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = list(layers)

    def forward(self, x):
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


class Flatten(Module):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...): from feature maps to a Linear layer."""

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return x.reshape(x.shape[0], -1)
        ### END SOLUTION
