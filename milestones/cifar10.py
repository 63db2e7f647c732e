"""Milestone: a CNN built from tinytorch alone learns CIFAR-10.

    python -m milestones.cifar10 --data ../shared/data/cifar10-jpg.tar.gz --minutes 15
    python -m milestones.cifar10 --data DIR_or_TARBALL --limit 500 --epochs 2   # smoke run

The target is 75% test accuracy within 15 minutes on two CPU cores, in NumPy. What makes that
possible is the course's whole toolbox, not one trick: a small residual network (ResNet-9
shaped: most convolutions run at 16x16 or less, where they are cheap), BatchNorm after every
convolution, He initialisation, SGD with Nesterov momentum and weight decay under a warmup +
cosine learning-rate schedule, label smoothing, random crops and flips, and small batches
whose activations fit in cache (the element-wise work, not the matmuls, is the bottleneck).

Cost of one training step: ``model.train_flops_per_image`` (about 3x the forward's matmul FLOPs:
forward, then the input and weight gradients) times the batch size. At the default width 24
that is 22.6 MFLOP forward per image, about 67 MFLOP per image trained.
"""

from __future__ import annotations

import os

# One BLAS thread when run from the command line: the net's GEMMs are narrow (24-96 output
# channels), and on a shared machine a second OpenBLAS thread spins; with two threads a step
# cost 2.1x the CPU time at 1.7x the wall time under load. Only takes effect before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402

from tinytorch.core.activations import ReLU  # noqa: E402
from tinytorch.core.autograd import no_grad  # noqa: E402
from tinytorch.core.dataloader import (CIFAR10_MEAN, CIFAR10_STD, Compose, DataLoader, Normalize,  # noqa: E402
                                       RandomCrop, RandomHorizontalFlip, TensorDataset, load_cifar10)
from tinytorch.core.layers import Linear, Module, manual_seed  # noqa: E402
from tinytorch.core.losses import CrossEntropyLoss  # noqa: E402
from tinytorch.core.optimizers import SGD, WarmupCosine  # noqa: E402
from tinytorch.core.spatial import BatchNorm2d, Conv2d, MaxPool2d  # noqa: E402
from tinytorch.core.tensor import Tensor  # noqa: E402

__all__ = ["ConvBlock", "Residual", "CifarNet", "Recipe", "recipe", "RunResult", "train", "evaluate",
           "keep_freed_memory", "main"]


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory instead of returning it to the OS.

    Each training step allocates the same large temporaries again; by default glibc hands
    arrays above 32 MB back to the kernel and the next step pays for fresh zeroed pages (page
    faults) on every one of them. Returns False where there is no glibc (nothing changes).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_trim_threshold, 1 << 30) and libc.mallopt(m_mmap_threshold, 1 << 30))


class ConvBlock(Module):
    """3x3 convolution (no bias: BatchNorm's shift replaces it) -> BatchNorm -> ReLU, optional 2x2 max-pool.

    When pooling, the pool runs before the ReLU: max and ReLU commute, so the result is the
    same, and ReLU then touches a quarter of the numbers.
    """

    def __init__(self, c_in: int, c_out: int, pool: bool = False):
        self.conv = Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = BatchNorm2d(c_out)
        self.relu = ReLU()
        self.pool = MaxPool2d(2) if pool else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.bn(self.conv(x))
        return self.relu(self.pool(x) if self.pool is not None else x)


class Residual(Module):
    """x + block2(block1(x)): the identity path lets gradients skip the two convolutions."""

    def __init__(self, channels: int):
        self.block1, self.block2 = ConvBlock(channels, channels), ConvBlock(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block2(self.block1(x))


class CifarNet(Module):
    """ResNet-9 shaped: conv(w) @32 -> pool -> residual @16 -> conv(2w) -> pool -> conv(4w) -> pool
    -> residual @4 -> global max -> Linear. ``flops_per_image`` is its forward cost (matmul FLOPs)."""

    def __init__(self, width: int = 32, classes: int = 10):
        w = width
        self.stages = [ConvBlock(3, w, pool=True), Residual(w), ConvBlock(w, 2 * w, pool=True),
                       ConvBlock(2 * w, 4 * w, pool=True), Residual(4 * w)]
        self.head = Linear(4 * w, classes)
        first, res1, down2, down3, res3 = self.stages
        convs = [(first.conv, 32), (res1.block1.conv, 16), (res1.block2.conv, 16), (down2.conv, 16),
                 (down3.conv, 8), (res3.block1.conv, 4), (res3.block2.conv, 4)]
        conv_flops = [conv.flops(hw, hw) for conv, hw in convs]
        self.flops_per_image = sum(conv_flops) + 2 * 4 * w * classes
        # backward costs two forwards, except the first conv, whose input (the image) needs no gradient
        self.train_flops_per_image = 3 * self.flops_per_image - conv_flops[0]

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return self.head(x.max(axis=(2, 3)))


@dataclass
class RunResult:
    """What a run measured; ``history`` holds one dict per epoch."""

    history: list = field(default_factory=list)
    train_seconds: float = 0.0
    seconds_to_target: float | None = None
    cpu_seconds_to_target: float | None = None  # this process's CPU time: less affected by other load
    final_accuracy: float = 0.0
    flops: float = 0.0  # multiply-adds * 2 spent in Conv2d/Linear during training steps


def evaluate(model: Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> float:
    """Test accuracy in eval mode (BatchNorm running statistics), without building a graph."""
    model.eval()
    normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD)
    correct = 0
    with no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(Tensor(normalize(images[start:start + batch_size])))
            correct += int((logits.data.argmax(axis=1) == labels[start:start + batch_size]).sum())
    model.train()
    return correct / max(len(images), 1)


@dataclass
class Recipe:
    """Everything a training run needs besides the loop: the network and how it learns."""

    model: CifarNet
    loader: DataLoader
    optimizer: SGD
    scheduler: WarmupCosine
    loss_fn: CrossEntropyLoss


def recipe(train_images: np.ndarray, train_labels: np.ndarray, *, epochs: int, batch_size: int = 64,
           width: int = 24, lr: float = 0.08, weight_decay: float = 5e-4, label_smoothing: float = 0.2,
           seed: int = 0) -> Recipe:
    """The milestone's network, augmented batches, SGD (Nesterov) and warmup + cosine schedule.

    The schedule spans ``epochs`` full passes: warmup for the first sixth, then cosine decay.
    """
    manual_seed(seed)
    model = CifarNet(width)
    loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=batch_size, shuffle=True,
                        drop_last=True, seed=seed,
                        transform=Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
                                           Normalize(CIFAR10_MEAN, CIFAR10_STD)]))
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    total_steps = max(epochs * len(loader), 2)
    scheduler = WarmupCosine(optimizer, warmup_steps=max(total_steps // 6, 1), total_steps=total_steps)
    return Recipe(model, loader, optimizer, scheduler, CrossEntropyLoss(label_smoothing=label_smoothing))


def train(train_set: tuple, test_set: tuple, *, epochs: int, minutes: float | None = None, batch_size: int = 64,
          width: int = 24, lr: float = 0.08, target: float = 0.75, seed: int = 0, log=print) -> RunResult:
    """Train by ``recipe`` on uint8 NCHW arrays and score the test set after each epoch.

    ``minutes`` (if given) stops training early once spent, even mid-epoch.
    """
    r = recipe(*train_set, epochs=epochs, batch_size=batch_size, width=width, lr=lr, seed=seed)
    model, loader, optimizer, scheduler, loss_fn = r.model, r.loader, r.optimizer, r.scheduler, r.loss_fn
    result = RunResult()
    deadline = time.perf_counter() + minutes * 60 if minutes else float("inf")
    log(f"CifarNet(width={width}): {sum(p.size for p in model.parameters()):,} parameters, "
        f"{model.flops_per_image / 1e6:.1f} MFLOP/image forward; {len(train_set[1])} train / "
        f"{len(test_set[1])} test images; {epochs} epochs of {len(loader)} steps, batch {batch_size}")
    started, cpu_started = time.perf_counter(), time.process_time()
    for epoch in range(1, epochs + 1):
        epoch_start, epoch_cpu, losses, out_of_time = time.perf_counter(), time.process_time(), [], False
        for x, y in loader:
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            result.flops += model.train_flops_per_image * len(y)
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        train_time, train_cpu = time.perf_counter() - epoch_start, time.process_time() - epoch_cpu
        accuracy = evaluate(model, *test_set)
        elapsed = time.perf_counter() - started
        result.history.append({"epoch": epoch, "train_s": train_time, "train_cpu_s": train_cpu, "elapsed_s": elapsed,
                               "loss": float(np.mean(losses)), "test_accuracy": accuracy})
        log(f"epoch {epoch:2d}  train {train_time:6.1f}s ({train_cpu:6.1f} CPU-s)  loss {np.mean(losses):.4f}  "
            f"test accuracy {accuracy:.4f}  elapsed {elapsed:6.1f}s")
        if accuracy >= target and result.seconds_to_target is None:
            result.seconds_to_target = elapsed
            result.cpu_seconds_to_target = time.process_time() - cpu_started
        result.final_accuracy = accuracy
        if out_of_time:
            log(f"stopped: the {minutes}-minute budget is spent")
            break
    result.train_seconds = time.perf_counter() - started
    return result


def load_data(source: str, limit: int | None, cache_dir: str | None, log=print) -> tuple[tuple, tuple]:
    """(train images, labels), (test images, labels); ``limit`` keeps a class-balanced prefix of each."""
    started = time.perf_counter()
    train_set = load_cifar10(source, "train", cache_dir=cache_dir)
    test_set = load_cifar10(source, "test", cache_dir=cache_dir)
    if limit:
        train_set, test_set = (_balanced_subset(*s, limit) for s in (train_set, test_set))
    log(f"data: {source} loaded in {time.perf_counter() - started:.1f}s")
    return train_set, test_set


def _balanced_subset(images: np.ndarray, labels: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` images in an order that interleaves classes, so every class is present."""
    rank = np.empty(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(len(where))
    keep = np.lexsort((labels, rank))[:limit]
    return images[keep], labels[keep]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m milestones.cifar10", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="cifar-10-batches-py dir, image-folder dir, or .tar.gz")
    parser.add_argument("--minutes", type=float, default=15.0, help="stop training after this many minutes")
    parser.add_argument("--limit", type=int, default=None, help="use only this many train and test images")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=24, help="channels of the first stage")
    parser.add_argument("--lr", type=float, default=0.08, help="peak learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=0.75, help="test accuracy the run must reach (exit 1 if not)")
    parser.add_argument("--cache-dir", default=None, help="keep decoded arrays here as .npy")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    keep_freed_memory()
    train_set, test_set = load_data(args.data, args.limit, args.cache_dir)
    result = train(train_set, test_set, epochs=args.epochs, minutes=args.minutes, batch_size=args.batch_size,
                   width=args.width, lr=args.lr, target=args.target, seed=args.seed)
    print(f"final test accuracy {result.final_accuracy:.4f} after {result.train_seconds:.1f}s of training")
    if result.seconds_to_target is None:
        print(f"FAILED: test accuracy never reached {args.target:.2f}", file=sys.stderr)
        return 1
    print(f"reached {args.target:.2f} test accuracy after {result.seconds_to_target:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
