"""Module 05 - Losses: one number that says how wrong the model is.

Systems cost:
    memory  - cross-entropy keeps the (batch, classes) probabilities for backward; MSE keeps
              the difference. Both are small next to the activations of the model.
    compute - O(batch * classes); the log-sum-exp trick costs one extra max and subtract but
              prevents overflow in exp for logits above ~88 (float32).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor


def _target_array(target) -> np.ndarray:
    return target.data if isinstance(target, Tensor) else np.asarray(target)


class Loss:
    """Callable ``loss(prediction, target) -> scalar Tensor``."""

    def __call__(self, prediction: Tensor, target) -> Tensor:
        return self.forward(prediction, target)

    def forward(self, prediction: Tensor, target) -> Tensor:
        raise NotImplementedError


class MSELoss(Loss):
    """Mean squared error, for regression."""

    def forward(self, prediction: Tensor, target) -> Tensor:
        target = Tensor(_target_array(target), dtype=prediction.dtype)
        if target.shape != prediction.shape:
            raise ValueError(f"MSELoss: prediction shape {prediction.shape} != target shape {target.shape}")
        ### BEGIN SOLUTION
        diff = prediction - target
        return (diff * diff).mean()
        ### END SOLUTION


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood on raw logits (batch, classes) and integer class ids.

    ``label_smoothing`` spreads that much probability mass evenly over all classes, a cheap
    regulariser for image classifiers. Records ``probs`` (the softmax of the logits) and
    ``target_dist`` (the smoothed one-hot targets) in ``ctx.saved`` for the gradient rule.
    """

    def __init__(self, label_smoothing: float = 0.0):
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, logits: Tensor, target) -> Tensor:
        labels = _target_array(target).astype(np.int64).reshape(-1)
        if logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
            raise ValueError(f"CrossEntropyLoss expects logits (batch, classes) and {logits.shape[:1]} labels, "
                             f"got logits {logits.shape} and {labels.shape[0]} labels")
        classes = logits.shape[1]
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ValueError(f"CrossEntropyLoss: class ids must be in [0, {classes}), got {labels.min()}..{labels.max()}")
        ### BEGIN SOLUTION
        z = logits.data - logits.data.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        target_dist = np.full_like(log_probs, self.label_smoothing / classes)
        target_dist[np.arange(labels.size), labels] += 1.0 - self.label_smoothing
        loss = -(target_dist * log_probs).sum() / labels.size
        return Tensor._from_op(np.asarray(loss, dtype=logits.dtype), (logits,), "cross_entropy",
                               probs=np.exp(log_probs), target_dist=target_dist)
        ### END SOLUTION


class BinaryCrossEntropyLoss(Loss):
    """-[y log p + (1-y) log(1-p)] on probabilities p in (0, 1), clipped away from 0 and 1.

    Records ``clipped`` (p after clipping) and ``target`` (y) in ``ctx.saved`` for the gradient
    rule.
    """

    eps = 1e-7

    def forward(self, prediction: Tensor, target) -> Tensor:
        y = _target_array(target).astype(prediction.dtype)
        if y.shape != prediction.shape:
            raise ValueError(f"BinaryCrossEntropyLoss: prediction shape {prediction.shape} != target shape {y.shape}")
        ### BEGIN SOLUTION
        p = np.clip(prediction.data, self.eps, 1 - self.eps)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        return Tensor._from_op(np.asarray(loss, dtype=prediction.dtype), (prediction,), "binary_cross_entropy",
                               clipped=p, target=y)
        ### END SOLUTION
