"""Module 08 - Training: the loop that ties model, loss, optimizer and data together.

A loader is any iterable of ``(x, y)`` batches (NumPy arrays or Tensors), e.g. a list of
tuples or module 10's ``DataLoader``. ``Trainer.train_epoch`` runs forward, loss, backward,
optional gradient clipping, an optimizer step and a schedule step per batch;
``Trainer.evaluate`` runs forward only, under ``no_grad`` and in eval mode.

Checkpoints are one ``.npz`` file holding every array (model parameters and buffers,
optimizer moments) plus a ``meta.json`` entry (history, step counts, learning rate). They
are written to a temporary file and renamed into place, so a crash mid-save leaves the
previous checkpoint intact, and read with ``allow_pickle=False``, so loading a checkpoint
from someone else can never run their code.

Systems cost:
    memory  - a training step holds the graph of one batch: parameters + gradients +
              optimizer state + activations of every layer; evaluation under ``no_grad``
              keeps only the current layer's activations.
    compute - one step is about 3x a forward pass (forward + backward at ~2x); the loop
              itself adds only Python overhead per batch, not per example.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss
from tinytorch.core.tensor import Tensor

__all__ = ["Trainer", "clip_grad_norm", "accuracy", "atomic_write", "CheckpointError"]

_META = "meta.json"


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, unsafe or does not fit the model."""


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm before clipping (worth logging: spikes announce divergence).
    """
    grads = [p.grad for p in params if p.grad is not None]
    ### BEGIN SOLUTION
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
    if total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g *= scale
    return total
    ### END SOLUTION


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    ``os.replace`` is atomic on POSIX, so readers see the old file or the new one, never half
    of one; the fsync makes the new content durable before the rename points at it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def accuracy(output: Tensor, target) -> float:
    """Fraction correct: argmax over classes for (batch, classes) scores and integer labels;
    a 0.5 threshold when the output has the target's shape (probabilities, as for BCE).
    """
    scores = output.data if isinstance(output, Tensor) else np.asarray(output)
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    ### BEGIN SOLUTION
    if scores.shape == labels.shape:
        return float(np.mean((scores > 0.5) == (labels > 0.5)))
    return float(np.mean(scores.argmax(axis=-1) == labels.reshape(-1)))
    ### END SOLUTION


def _as_input(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``loss_fn``; records per-epoch metrics in ``history``.

    ``scheduler.step()`` runs after every optimizer step (``scheduler_interval="batch"``) or
    after every epoch (``"epoch"``).
    """

    def __init__(self, model, optimizer, loss_fn, scheduler=None, grad_clip_norm: float | None = None,
                 scheduler_interval: str = "batch"):
        if scheduler_interval not in ("batch", "epoch"):
            raise ValueError(f"scheduler_interval must be 'batch' or 'epoch', got {scheduler_interval!r}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.scheduler, self.grad_clip_norm = scheduler, grad_clip_norm
        self.scheduler_interval = scheduler_interval
        self.epoch = 0
        self.history: dict[str, list[float]] = {"train_loss": [], "train_accuracy": [], "lr": []}

    def _measure(self, x, y) -> tuple[Tensor, Tensor]:
        output = self.model(_as_input(x))
        return output, self.loss_fn(output, y)

    def _track_accuracy(self) -> bool:
        """Accuracy is meaningful for classification losses, not for regression (MSE)."""
        return isinstance(self.loss_fn, (CrossEntropyLoss, BinaryCrossEntropyLoss))

    def train_epoch(self, loader) -> tuple[float, float]:
        """One pass over ``loader``; returns (mean loss, accuracy) weighted by batch size."""
        self.model.train()
        total_loss = total_correct = seen = 0.0
        for x, y in loader:
            ### BEGIN SOLUTION
            output, loss = self._measure(x, y)
            self.optimizer.zero_grad()
            loss.backward()
            if self.grad_clip_norm is not None:
                clip_grad_norm(self.optimizer.params, self.grad_clip_norm)
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "batch":
                self.scheduler.step()
            ### END SOLUTION
            n = len(output.data)
            total_loss += float(loss.data) * n
            total_correct += accuracy(output, y) * n if self._track_accuracy() else 0.0
            seen += n
        if not seen:
            raise ValueError("train_epoch got an empty loader")
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()
        self.epoch += 1
        result = (total_loss / seen, total_correct / seen if self._track_accuracy() else float("nan"))
        self.history["train_loss"].append(result[0])
        self.history["train_accuracy"].append(result[1])
        self.history["lr"].append(self.optimizer.lr)
        return result

    def evaluate(self, loader) -> tuple[float, float]:
        """(mean loss, accuracy) over ``loader`` without gradients, in eval mode; restores the mode."""
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        total_loss = total_correct = seen = 0.0
        try:
            with no_grad():
                for x, y in loader:
                    output, loss = self._measure(x, y)
                    n = len(output.data)
                    total_loss += float(loss.data) * n
                    total_correct += accuracy(output, y) * n if self._track_accuracy() else 0.0
                    seen += n
        finally:
            self.model.train(was_training)
        if not seen:
            raise ValueError("evaluate got an empty loader")
        return total_loss / seen, total_correct / seen if self._track_accuracy() else float("nan")

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path) -> None:
        """Write model, optimizer, schedule and history to ``path`` atomically (temp file + rename)."""
        settings, optim_arrays = self.optimizer.state_dict()
        meta = {
            "format": "tinytorch-checkpoint-1",
            "epoch": self.epoch,
            "history": self.history,
            "optimizer": settings,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
        }
        arrays = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        arrays.update({f"optimizer/{k}": v for k, v in optim_arrays.items()})
        arrays[_META] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        atomic_write(path, lambda f: np.savez(f, **arrays))

    def load_checkpoint(self, path) -> None:
        """Restore what ``save_checkpoint`` wrote; refuses pickled objects and mismatched shapes."""
        arrays = _read_npz(path)
        if _META not in arrays:
            raise CheckpointError(f"{path}: not a TinyTorch checkpoint (no {_META} entry)")
        try:
            meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: {_META} is not valid JSON: {e}") from None
        model = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
        optim = {k[len("optimizer/"):]: v for k, v in arrays.items() if k.startswith("optimizer/")}
        backup = self._snapshot()
        try:
            self._restore(meta, model, optim)
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            self._restore(*backup)  # a checkpoint that does not fit changes nothing
            raise CheckpointError(f"{path}: checkpoint does not fit this trainer: {e}") from None

    def _snapshot(self) -> tuple[dict, dict, dict]:
        """Copies of everything ``_restore`` overwrites, in its argument order."""
        settings, optim = self.optimizer.state_dict()
        meta = {"epoch": self.epoch, "history": self.history, "optimizer": settings,
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None}
        model = {k: v.copy() for k, v in self.model.state_dict().items()}
        return meta, model, {k: v.copy() for k, v in optim.items()}

    def _restore(self, meta: dict, model: dict, optim: dict) -> None:
        self.model.load_state_dict(model)
        self.optimizer.load_state_dict(meta["optimizer"], optim)
        if self.scheduler is not None and meta.get("scheduler") is not None:
            self.scheduler.load_state_dict(meta["scheduler"])
        self.epoch, self.history = int(meta["epoch"]), dict(meta["history"])


def _read_npz(path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, loaded without ever unpickling."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as e:  # NumPy refuses object arrays and pickle files under allow_pickle=False
        raise CheckpointError(f"{path}: refusing to load: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: cannot read checkpoint: {e}") from None
