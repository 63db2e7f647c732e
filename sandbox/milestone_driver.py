"""The milestone driver that runs INSIDE the sandbox: trains with the student's ``tinytorch``
and returns predictions for evaluation inputs whose answers it never sees.

The trusted side (``workers/milestones/job.py``) sends this file and the milestone programs it
borrows models from as source text and installs them under their own names before anything
of the student's is imported, so a student cannot shadow them. It then calls
``run(name, data, plan, report)``: ``data`` holds the training set and the evaluation
inputs, ``plan`` the sizes, the training budget and the rubric's plateau rule,
``report(**numbers)`` streams progress (the trusted side kills the run on a NaN loss).

Training stops at the planned number of epochs, when ``plan["budget_s"]`` is spent, or when
the loss has stopped falling (``plan["early_stop"]``), then predicts in every case: a slow
student, or one whose model learned and then levelled off, is scored on what it learned.
Stopping early can only cost a student accuracy, so leaving that rule to this side is safe.
"""

from __future__ import annotations

import math
import time

import numpy as np


def run(name: str, data: dict, plan: dict, report) -> dict:
    """Train the named milestone and predict its evaluation inputs; plain data out."""
    data = {key: np.concatenate(value) if isinstance(value, list) else value
            for key, value in data.items()}
    if plan.get("blas_threads"):
        set_blas_threads(int(plan["blas_threads"]))
    return RUNS[name](data, plan, report)


BLAS_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                "openblas_set_num_threads64_", "openblas_set_num_threads")


def set_blas_threads(count: int) -> bool:
    """Set OpenBLAS's thread count after NumPy is loaded (the runner imports it first, so the
    environment variable is too late): under a CPU quota on a busy host, spinning BLAS
    threads made TinyGPT ~4x slower. False where no OpenBLAS is loaded."""
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return False
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for name in BLAS_SETTERS:
            setter = getattr(library, name, None)
            if setter is not None:
                setter(count)
                return True
    return False


def plateau(losses: list, patience_epochs: int | None, min_delta: float = 0.0) -> str | None:
    """Why training should stop: the epoch loss has not fallen ``min_delta`` below its best
    before the last ``patience_epochs`` epochs (a non-finite loss never counts as falling).
    None to go on."""
    if not patience_epochs or len(losses) <= patience_epochs:
        return None
    before = [loss for loss in losses[:-patience_epochs] if math.isfinite(loss)]
    recent = [loss for loss in losses[-patience_epochs:] if math.isfinite(loss)]
    if not before:
        return None
    best = min(before)
    if recent and min(recent) <= best - min_delta:
        return None
    return (f"the loss has not fallen below {best:.4g} - {min_delta:g} in the last "
            f"{patience_epochs} epochs")


class Fit:
    """The shared training loop: epochs of ``step(batch) -> (loss, correct, count)`` (count 0:
    no accuracy) under a time budget, reporting a point every ``report_every`` steps and at
    each epoch's end, ending early on the plan's plateau rule."""

    def __init__(self, plan: dict, report):
        self.budget_s = float(plan["budget_s"])
        self.report_every = int(plan.get("report_every", 20))
        self.early_stop = plan.get("early_stop") or {}
        self.report = report
        self.epochs_done, self.steps, self.out_of_time = 0, 0, False
        self.epoch_losses, self.stopped_early = [], None
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def run(self, step, epoch_batches, epochs: int | None, converged=None) -> None:
        """``epoch_batches(epoch)`` yields one epoch's batches; ``epochs=None`` trains until
        the budget is spent; ``converged(loss, accuracy)`` may end training early."""
        epoch = 0
        while epochs is None or epoch < epochs:
            epoch += 1
            losses, correct, count = [], 0, 0
            for batch in epoch_batches(epoch):
                loss, right, n = step(batch)
                losses.append(loss)
                correct, count, self.steps = correct + right, count + n, self.steps + 1
                if self.steps % self.report_every == 0:
                    self.report(epoch=epoch, step=self.steps, loss=loss,
                                accuracy=correct / count if count else None,
                                elapsed_s=self.elapsed())
                if self.elapsed() > self.budget_s:
                    self.out_of_time = True
                    break
            mean_loss, accuracy = float(np.mean(losses)), correct / count if count else None
            self.epochs_done = epoch
            self.epoch_losses.append(mean_loss)
            self.report(epoch=epoch, step=self.steps, epoch_loss=mean_loss, accuracy=accuracy,
                        elapsed_s=self.elapsed(), epoch_end=True)
            if self.out_of_time or (converged is not None and converged(mean_loss, accuracy)):
                return
            reason = plateau(self.epoch_losses, self.early_stop.get("patience_epochs"),
                             float(self.early_stop.get("min_delta") or 0.0))
            if reason:
                self.stopped_early = f"training stopped early at epoch {epoch}: {reason}"
                return

    def summary(self, epochs_planned: int | None) -> dict:
        return {"epochs_done": self.epochs_done, "epochs_planned": epochs_planned,
                "steps": self.steps, "out_of_time": self.out_of_time,
                "stopped_early": self.stopped_early, "train_s": self.elapsed()}


def _backprop(loss, optimizer) -> float:
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())


def run_xor(data: dict, plan: dict, report) -> dict:
    """Full-batch Adam on the four points until they are all right and the loss is small."""
    from milestones.xor import build_model
    from tinytorch import BinaryCrossEntropyLoss, Tensor, manual_seed, no_grad
    from tinytorch.core.optimizers import Adam

    manual_seed(int(plan["seed"]))
    model = build_model(int(plan.get("hidden", 8)))
    optimizer, loss_fn = Adam(model.parameters(), lr=float(plan.get("lr", 0.05))), \
        BinaryCrossEntropyLoss()
    x, y = data["train_x"].astype(np.float32), data["train_y"].astype(np.float32)

    def step(_):
        out = model(Tensor(x))
        right = int(((out.data > 0.5) == (y > 0.5)).sum())
        return _backprop(loss_fn(out, Tensor(y)), optimizer), right, len(y)

    fit = Fit(plan, report)
    fit.run(step, lambda epoch: [None], int(plan["epochs"]),
            converged=lambda loss, accuracy: accuracy == 1.0 and loss < 0.05)
    with no_grad():
        scores = model(Tensor(data["eval_x"].astype(np.float32))).data.reshape(-1)
    return {"predictions": (scores > 0.5).astype(np.int64), **fit.summary(int(plan["epochs"]))}


def run_cifar10(data: dict, plan: dict, report) -> dict:
    """The CIFAR-10 milestone's network and recipe, cut off by the budget; predicts in eval
    mode (BatchNorm running statistics) without building a graph."""
    from milestones.cifar10 import CifarNet, keep_freed_memory
    from tinytorch import CrossEntropyLoss, Tensor, manual_seed, no_grad
    from tinytorch.core.dataloader import (CIFAR10_MEAN, CIFAR10_STD, Compose, DataLoader,
                                           Normalize, RandomCrop, RandomHorizontalFlip,
                                           TensorDataset)
    from tinytorch.core.optimizers import SGD, WarmupCosine

    keep_freed_memory()
    seed, epochs = int(plan["seed"]), int(plan["epochs"])
    manual_seed(seed)
    model = CifarNet(int(plan.get("width", 24)))
    normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD)
    loader = DataLoader(TensorDataset(data["train_x"], data["train_y"]),
                        batch_size=int(plan.get("batch_size", 64)), shuffle=True, drop_last=True,
                        seed=seed, transform=Compose([RandomCrop(32, padding=4),
                                                      RandomHorizontalFlip(), normalize]))
    optimizer = SGD(model.parameters(), lr=float(plan.get("lr", 0.08)), momentum=0.9,
                    nesterov=True, weight_decay=5e-4)
    total = max(epochs * len(loader), 2)
    scheduler = WarmupCosine(optimizer, warmup_steps=max(total // 6, 1), total_steps=total)
    loss_fn = CrossEntropyLoss(label_smoothing=0.2)

    def step(batch):
        x, y = batch
        logits = model(x)
        loss = _backprop(loss_fn(logits, y), optimizer)
        scheduler.step()
        labels = y.data if hasattr(y, "data") else np.asarray(y)
        return loss, int((logits.data.argmax(axis=1) == labels).sum()), len(labels)

    fit = Fit(plan, report)
    fit.run(step, lambda epoch: loader, epochs)
    model.eval()
    eval_x, batch, predictions = data["eval_x"], int(plan.get("eval_batch", 500)), []
    with no_grad():
        for start in range(0, len(eval_x), batch):
            logits = model(Tensor(normalize(eval_x[start:start + batch])))
            predictions.append(logits.data.argmax(axis=1))
    return {"predictions": np.concatenate(predictions).astype(np.int64), **fit.summary(epochs)}


def run_tinygpt(data: dict, plan: dict, report) -> dict:
    """The TinyGPT milestone's model and schedule for the whole budget; returns, for each
    evaluation window, the log-probabilities of the character that follows it, and a sample."""
    from milestones.tinygpt import Config, batches, build_model, learning_rate, sequence_loss
    from tinytorch import generate, no_grad
    from tinytorch.core.optimizers import AdamW
    from tinytorch.core.training import clip_grad_norm

    fields = set(Config.__dataclass_fields__)
    cfg = Config(**{k: v for k, v in plan.items() if k in fields})
    vocab = data["vocab"]
    model = build_model(len(vocab), cfg)
    optimizer = AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    stream = batches(data["train_ids"].astype(np.int64), cfg, np.random.default_rng(cfg.seed))
    steps_per_epoch = int(plan.get("steps_per_epoch", 100))
    fit = Fit(plan, report)

    def step(batch):
        optimizer.lr = learning_rate(cfg, fit.steps, fit.elapsed() / fit.budget_s)
        loss = sequence_loss(model, *batch)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        return float(loss.item()), 0, 0    # no accuracy for a language model

    fit.run(step, lambda epoch: (next(stream) for _ in range(steps_per_epoch)), None)
    model.eval()
    windows, batch, log_probs = data["eval_x"].astype(np.int64), cfg.batch_size, []
    with no_grad():
        for start in range(0, len(windows), batch):
            last = model(windows[start:start + batch]).data[:, -1, :].astype(np.float64)
            shifted = last - last.max(axis=1, keepdims=True)
            log_probs.append(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))
    prompt = [int(i) for i in data["prompt_ids"]]
    ids = generate(model, prompt, int(plan.get("sample_chars", 300)), temperature=0.8, top_k=20,
                   seed=cfg.seed)
    sample = "".join(vocab[i] if 0 <= i < len(vocab) else "?" for i in ids)
    return {"log_probs": np.concatenate(log_probs).astype(np.float32), "sample": sample,
            **fit.summary(None)}


RUNS = {"xor": run_xor, "cifar10": run_cifar10, "tinygpt": run_tinygpt}
