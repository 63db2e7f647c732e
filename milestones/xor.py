"""Milestone: XOR, the problem a single-layer perceptron cannot solve (Minsky & Papert, 1969).

A hidden layer with a non-linearity bends the decision boundary; this program trains
2 -> 8 -> 1 (Tanh, then Sigmoid) with Adam on the four XOR points until every one is
classified correctly, prints its progress, and exits with status 1 if it does not get there.

    python -m milestones.xor [--seed N] [--max-epochs N]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tinytorch import BinaryCrossEntropyLoss, Linear, Sequential, Sigmoid, Tanh, manual_seed
from tinytorch.core.optimizers import Adam
from tinytorch.core.training import Trainer

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TARGETS = np.array([[0], [1], [1], [0]], dtype=np.float32)


def build_model(hidden: int = 8) -> Sequential:
    return Sequential(Linear(2, hidden), Tanh(), Linear(hidden, 1), Sigmoid())


def train(seed: int, max_epochs: int, report_every: int = 10) -> float:
    """Full-batch training until 100% accuracy and a confident fit; returns the final accuracy."""
    manual_seed(seed)
    model = build_model()
    trainer = Trainer(model, Adam(model.parameters(), lr=0.05), BinaryCrossEntropyLoss())
    batches = [(INPUTS, TARGETS)]
    for epoch in range(1, max_epochs + 1):
        loss, _ = trainer.train_epoch(batches)
        loss, accuracy = trainer.evaluate(batches)
        if epoch % report_every == 0 or (accuracy == 1.0 and loss < 0.05):
            print(f"epoch {epoch:4d}  loss {loss:.4f}  accuracy {accuracy:.0%}", flush=True)
        if accuracy == 1.0 and loss < 0.05:
            break
    return accuracy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=2000)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    accuracy = train(args.seed, args.max_epochs)
    print(f"final accuracy {accuracy:.0%} in {time.perf_counter() - start:.2f} s")
    if accuracy < 1.0:
        print("XOR milestone FAILED: the network did not classify all four points", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
