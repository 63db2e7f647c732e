"""The milestone driver that runs INSIDE the sandbox: trains with the student's ``tinytorch``
and returns the trained weights; the grader scores them itself.

The trusted side (``workers/milestones/job.py``) sends this file and the milestone programs it
borrows models from as source text and installs them under their own names before anything
of the student's is imported, so a student cannot shadow them. It then calls
``run(name, data, plan, report)``: ``data`` holds the training set (labels permuted per
job) and ``init``, the per-job initial weights the grader made; ``plan`` the sizes, the
training budget and the rubric's plateau rule; ``report(**numbers)`` streams progress (the
trusted side kills the run on a NaN loss). The run returns the final weights and a few
epoch-end snapshots as plain arrays: nothing it says about its own accuracy is believed.

The same file also runs in the grader's REFERENCE runner (the reference ``tinytorch``, no
student code): ``initial_weights`` builds the per-job initial model, ``evaluate`` loads
returned weights into the course's architecture and predicts the held-out inputs, and
``probe_losses`` gives the loss of each snapshot on training data, the curve the grader trusts.

Training stops at the planned number of epochs, when ``plan["budget_s"]`` is spent, or when
the loss has stopped falling (``plan["early_stop"]``), then returns the weights in every case:
a slow student, or one whose model learned and then levelled off, is scored on what it
learned. Stopping early can only cost a student accuracy, so leaving that rule here is safe.
"""

from __future__ import annotations

import math
import time

import numpy as np


MAX_SNAPSHOTS = 6     # epoch-end weights kept for the grader's curve (the wire caps a frame)


def run(name: str, data: dict, plan: dict, report) -> dict:
    """Train the named milestone from ``data["init"]``; the trained weights, plain data out."""
    data = _joined(data)
    if plan.get("blas_threads"):
        set_blas_threads(int(plan["blas_threads"]))
    return RUNS[name](data, plan, report)


def _joined(data: dict) -> dict:
    """Large arrays travel as lists of chunks (one frame each): join them."""
    return {key: np.concatenate(value) if isinstance(value, list) else value
            for key, value in data.items()}


def plain_state(model) -> dict:
    """The model's parameters and buffers as float32 copies (plain data for the wire)."""
    return {name: np.array(value, dtype=np.float32) for name, value in model.state_dict().items()}


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
        self.snapshots = []
        self.started = time.perf_counter()

    def snapshot(self, model) -> None:
        """Keep the weights at an epoch's end; past MAX_SNAPSHOTS keep every other one (and
        always the newest), so a long run still hands back its whole shape."""
        self.snapshots.append({"epoch": self.epochs_done, "step": self.steps,
                               "weights": plain_state(model)})
        if len(self.snapshots) > MAX_SNAPSHOTS:
            self.snapshots = self.snapshots[-2::-2][::-1] + self.snapshots[-1:]

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def run(self, model, step, epoch_batches, epochs: int | None, converged=None) -> None:
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
            self.snapshot(model)
            self.report(epoch=epoch, step=self.steps, epoch_loss=mean_loss, accuracy=accuracy,
                        elapsed_s=self.elapsed(), epoch_end=True)
            if self.out_of_time or (converged is not None and converged(mean_loss, accuracy)):
                return
            reason = plateau(self.epoch_losses, self.early_stop.get("patience_epochs"),
                             float(self.early_stop.get("min_delta") or 0.0))
            if reason:
                self.stopped_early = f"training stopped early at epoch {epoch}: {reason}"
                return

    def result(self, model, epochs_planned: int | None) -> dict:
        """What the run hands back: the trained weights, the snapshots, how it ended."""
        return {"weights": plain_state(model), "snapshots": self.snapshots,
                "epochs_done": self.epochs_done, "epochs_planned": epochs_planned,
                "steps": self.steps, "out_of_time": self.out_of_time,
                "stopped_early": self.stopped_early, "train_s": self.elapsed()}


def _backprop(loss, optimizer) -> float:
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.item())


def build(name: str, plan: dict, data: dict | None = None):
    """The course's architecture for a milestone, seeded with ``plan["seed"]``."""
    from tinytorch import manual_seed

    manual_seed(int(plan["seed"]))
    if name == "xor":
        from milestones.xor import build_model
        return build_model(int(plan.get("hidden", 8)))
    if name == "cifar10":
        from milestones.cifar10 import CifarNet
        return CifarNet(int(plan.get("width", 24)))
    from milestones.tinygpt import build_model
    return build_model(int(plan["vocab_size"]), gpt_config(plan))


def gpt_config(plan: dict):
    from milestones.tinygpt import Config

    fields = set(Config.__dataclass_fields__)
    return Config(**{key: value for key, value in plan.items() if key in fields})


def start_from(name: str, plan: dict, data: dict):
    """The course's model with the job's initial weights (the grader's, from ``data``)."""
    model = build(name, plan)
    model.load_state_dict(data["init"])
    return model


def run_xor(data: dict, plan: dict, report) -> dict:
    """Full-batch Adam on the four points until they are all right and the loss is small."""
    from tinytorch import BinaryCrossEntropyLoss, Tensor
    from tinytorch.core.optimizers import Adam

    model = start_from("xor", plan, data)
    optimizer, loss_fn = Adam(model.parameters(), lr=float(plan.get("lr", 0.05))), \
        BinaryCrossEntropyLoss()
    x, y = data["train_x"].astype(np.float32), data["train_y"].astype(np.float32)

    def step(_):
        out = model(Tensor(x))
        right = int(((out.data > 0.5) == (y > 0.5)).sum())
        return _backprop(loss_fn(out, Tensor(y)), optimizer), right, len(y)

    fit = Fit(plan, report)
    fit.run(model, step, lambda epoch: [None], int(plan["epochs"]),
            converged=lambda loss, accuracy: accuracy == 1.0 and loss < 0.05)
    return fit.result(model, int(plan["epochs"]))


def run_cifar10(data: dict, plan: dict, report) -> dict:
    """The CIFAR-10 milestone's network and recipe, cut off by the budget."""
    from milestones.cifar10 import keep_freed_memory
    from tinytorch import CrossEntropyLoss
    from tinytorch.core.dataloader import (Compose, DataLoader, RandomCrop,
                                           RandomHorizontalFlip, TensorDataset)
    from tinytorch.core.optimizers import SGD, WarmupCosine

    keep_freed_memory()
    seed, epochs = int(plan["seed"]), int(plan["epochs"])
    model = start_from("cifar10", plan, data)
    loader = DataLoader(TensorDataset(data["train_x"], data["train_y"]),
                        batch_size=int(plan.get("batch_size", 64)), shuffle=True, drop_last=True,
                        seed=seed, transform=Compose([RandomCrop(32, padding=4),
                                                      RandomHorizontalFlip(), cifar_normalize()]))
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
    fit.run(model, step, lambda epoch: loader, epochs)
    return fit.result(model, epochs)


def cifar_normalize():
    from tinytorch.core.dataloader import CIFAR10_MEAN, CIFAR10_STD, Normalize

    return Normalize(CIFAR10_MEAN, CIFAR10_STD)


def run_tinygpt(data: dict, plan: dict, report) -> dict:
    """The TinyGPT milestone's model and schedule for the whole budget."""
    from milestones.tinygpt import batches, learning_rate, sequence_loss
    from tinytorch.core.optimizers import AdamW
    from tinytorch.core.training import clip_grad_norm

    cfg = gpt_config(plan)
    model = start_from("tinygpt", plan, data)
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

    fit.run(model, step, lambda epoch: (next(stream) for _ in range(steps_per_epoch)), None)
    return fit.result(model, None)


RUNS = {"xor": run_xor, "cifar10": run_cifar10, "tinygpt": run_tinygpt}


# -- the grader's side, run in the REFERENCE runner only ---------------------------------------

def initial_weights(name: str, plan: dict) -> dict:
    """The job's initial model (seeded with the job's secret seed) as plain arrays."""
    return plain_state(build(name, plan))


def evaluate(name: str, weights: dict, data: dict, plan: dict) -> dict:
    """Load returned weights into the course's architecture and answer the held-out inputs:
    ``predictions`` (class ids) or ``log_probs`` of the next character and a ``sample``."""
    from tinytorch import Tensor, generate, no_grad

    data = _joined(data)
    model = build(name, plan)
    model.load_state_dict(weights)
    model.eval()
    with no_grad():
        if name == "xor":
            scores = model(Tensor(data["eval_x"].astype(np.float32))).data.reshape(-1)
            return {"predictions": (scores > 0.5).astype(np.int64)}
        if name == "cifar10":
            return {"predictions": np.concatenate(
                [logits.argmax(axis=1) for logits in _cifar_logits(model, data["eval_x"], plan)]
            ).astype(np.int64)}
        log_probs = [_next_log_probs(model, window) for window in
                     _batches(data["eval_x"].astype(np.int64), int(plan.get("batch_size", 32)))]
    cfg = gpt_config(plan)
    sample = generate(model, [int(i) for i in data["prompt_ids"]],
                      int(plan.get("sample_chars", 300)), temperature=0.8, top_k=20,
                      seed=cfg.seed)
    return {"log_probs": np.concatenate(log_probs).astype(np.float32),
            "sample_ids": np.array(sample, dtype=np.int64)}


def probe_losses(name: str, snapshots: list, data: dict, plan: dict) -> list:
    """Mean loss of each snapshot's weights on the grader's probe of training data: the
    training curve the grader can check (the run's own reports are claims)."""
    from tinytorch import Tensor, no_grad

    data = _joined(data)
    model = build(name, plan)
    model.eval()
    losses = []
    with no_grad():
        for weights in snapshots:
            model.load_state_dict(weights)
            if name == "xor":
                p = np.clip(model(Tensor(data["probe_x"])).data.reshape(-1), 1e-7, 1 - 1e-7)
                y = data["probe_y"].reshape(-1)
                losses.append(float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))))
            elif name == "cifar10":
                logits = np.concatenate(list(_cifar_logits(model, data["probe_x"], plan)))
                losses.append(_cross_entropy(logits, data["probe_y"]))
            else:
                windows = data["probe_x"].astype(np.int64)
                logits = model(windows[:, :-1]).data.astype(np.float64)
                losses.append(_cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                             windows[:, 1:].reshape(-1)))
    return losses


def _batches(array: np.ndarray, size: int):
    return (array[start:start + size] for start in range(0, len(array), size))


def _cifar_logits(model, images: np.ndarray, plan: dict):
    from tinytorch import Tensor

    normalize = cifar_normalize()
    for chunk in _batches(images, int(plan.get("eval_batch", 500))):
        yield model(Tensor(normalize(chunk))).data.astype(np.float64)


def _next_log_probs(model, windows: np.ndarray) -> np.ndarray:
    last = model(windows).data[:, -1, :].astype(np.float64)
    shifted = last - last.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels.astype(np.int64)].mean())
