"""Milestone: TinyGPT, a character-level transformer that learns to write like Shakespeare.

Trains ``tinytorch.GPT`` on a text file (Tiny Shakespeare by default) for a fixed wall-clock
budget, holding out the LAST 10% of the text for validation, prints training and validation
loss (nats per character) as it goes, then samples text with the KV cache.

    python -m milestones.tinygpt [--data PATH] [--minutes M] [--max-steps N] [--embed-dim 128] ...

The learning rate warms up over the first steps, then follows half a cosine over the time
budget (or the step limit, whichever runs out first; down to a tenth), so a short run still
ends with small, careful steps.
"""

from __future__ import annotations

import os

# One BLAS thread: on a machine whose cores are shared, multi-threaded OpenBLAS spins and can
# run several times slower. Must be set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from tinytorch import GPT, CharTokenizer, CrossEntropyLoss, Tensor, generate, manual_seed, no_grad  # noqa: E402
from tinytorch.core.optimizers import AdamW  # noqa: E402
from tinytorch.core.training import clip_grad_norm  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"


@dataclass(frozen=True)
class Config:
    embed_dim: int = 128
    num_layers: int = 4
    num_heads: int = 4
    context: int = 128  # training sequence length, and the model's max_seq_len
    batch_size: int = 32
    lr: float = 3e-3
    warmup_steps: int = 50
    eval_every: int = 100  # optimizer steps between validation estimates
    eval_batches: int = 8
    seed: int = 0


@dataclass(frozen=True)
class Corpus:
    tokenizer: CharTokenizer
    train_ids: np.ndarray
    val_ids: np.ndarray


@dataclass(frozen=True)
class Evaluation:
    step: int
    seconds: float  # wall time since training started, evaluations included
    cpu_seconds: float  # this process's CPU time over the same span: what other users' load does not inflate
    train_loss: float  # mean over the steps since the previous evaluation
    val_loss: float
    lr: float

    def __str__(self) -> str:
        return (f"step {self.step:5d}  time {self.seconds:7.1f}s (cpu {self.cpu_seconds:7.1f}s)  "
                f"train {self.train_loss:.3f}  val {self.val_loss:.3f}  lr {self.lr:.1e}")


def load_corpus(path: Path, val_fraction: float = 0.1) -> Corpus:
    """Character ids of the whole file; the last ``val_fraction`` is validation."""
    text = Path(path).read_text(encoding="utf-8")
    tokenizer = CharTokenizer(text)
    ids = np.array(tokenizer.encode(text), dtype=np.int64)
    split = int(len(ids) * (1 - val_fraction))
    return Corpus(tokenizer, ids[:split], ids[split:])


def build_model(vocab_size: int, cfg: Config) -> GPT:
    manual_seed(cfg.seed)
    return GPT(vocab_size, cfg.embed_dim, cfg.num_layers, cfg.num_heads, max_seq_len=cfg.context)


def batches(ids: np.ndarray, cfg: Config, rng: np.random.Generator):
    """Endless (inputs, next-character targets) pairs of shape (batch, context) at random offsets."""
    if len(ids) <= cfg.context + 1:
        raise ValueError(f"{len(ids)} characters are too few for a context of {cfg.context}")
    window = np.arange(cfg.context + 1)
    while True:
        rows = ids[rng.integers(0, len(ids) - cfg.context - 1, cfg.batch_size)[:, None] + window]
        yield rows[:, :-1], rows[:, 1:]


def sequence_loss(model: GPT, x: np.ndarray, y: np.ndarray) -> Tensor:
    """Mean cross-entropy over every position: logits (B, T, V) flattened to (B*T, V)."""
    logits = model(x)
    return CrossEntropyLoss()(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def validation_loss(model: GPT, val_batches: list) -> float:
    model.eval()
    with no_grad():
        loss = float(np.mean([sequence_loss(model, x, y).item() for x, y in val_batches]))
    model.train()
    return loss


def train(model: GPT, corpus: Corpus, cfg: Config, minutes: float, max_steps: int | None = None):
    """Train until the time budget (or ``max_steps``) is spent; yield an ``Evaluation`` before the
    first step, every ``eval_every`` steps and at the end."""
    rng = np.random.default_rng(cfg.seed)
    val_stream = batches(corpus.val_ids, cfg, np.random.default_rng(cfg.seed + 1))
    val_batches = [next(val_stream) for _ in range(cfg.eval_batches)]  # the same ones every time
    optimizer = AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    budget = minutes * 60.0
    start, cpu_start, step, recent = time.perf_counter(), time.process_time(), 0, []
    initial = validation_loss(model, val_batches)
    yield Evaluation(0, time.perf_counter() - start, time.process_time() - cpu_start, initial, initial, 0.0)
    for x, y in batches(corpus.train_ids, cfg, rng):
        elapsed = time.perf_counter() - start
        used = max(elapsed / budget, step / max_steps if max_steps else 0.0)
        optimizer.lr = learning_rate(cfg, step, used)
        loss = sequence_loss(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        recent.append(loss.item())
        step += 1
        done = time.perf_counter() - start >= budget or step == max_steps
        if step % cfg.eval_every == 0 or done:
            val = validation_loss(model, val_batches)
            yield Evaluation(step, time.perf_counter() - start, time.process_time() - cpu_start,
                             float(np.mean(recent)), val, optimizer.lr)
            recent = []
        if done:
            return


def learning_rate(cfg: Config, step: int, budget_used: float) -> float:
    """Linear warmup, then half a cosine from ``lr`` to ``lr / 10`` as the budget is used up."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(budget_used, 1.0))))


def sample(model: GPT, tokenizer: CharTokenizer, prompt: str, length: int, seed: int = 0) -> str:
    """``prompt`` and ``length`` more characters, sampled (with the KV cache) at temperature 0.8 from the top 20."""
    return tokenizer.decode(generate(model, tokenizer.encode(prompt), length, temperature=0.8, top_k=20, seed=seed))


def parse_args(argv=None) -> tuple[argparse.Namespace, Config]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a UTF-8 text file")
    parser.add_argument("--minutes", type=float, default=5.0, help="training wall-clock budget")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps, if sooner")
    parser.add_argument("--samples", type=int, default=2, help="how many samples to print at the end")
    parser.add_argument("--sample-chars", type=int, default=300)
    defaults = Config()
    for name, value in vars(defaults).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"--data {args.data}: no such file")
    if args.minutes <= 0 or (args.max_steps is not None and args.max_steps < 1):
        parser.error("--minutes and --max-steps must be positive")
    return args, Config(**{name: getattr(args, name) for name in vars(defaults)})


def main(argv=None) -> int:
    args, cfg = parse_args(argv)
    corpus = load_corpus(args.data)
    model = build_model(corpus.tokenizer.vocab_size, cfg)
    n_params = sum(p.size for p in model.parameters())
    print(f"{args.data.name}: {len(corpus.train_ids)} train / {len(corpus.val_ids)} validation characters, "
          f"vocabulary {corpus.tokenizer.vocab_size} (chance level: ln {corpus.tokenizer.vocab_size} = "
          f"{math.log(corpus.tokenizer.vocab_size):.2f} nats/char)", flush=True)
    print(f"{model}: {n_params:,} parameters; training for {args.minutes:g} minutes", flush=True)
    for last in train(model, corpus, cfg, args.minutes, args.max_steps):
        print(last, flush=True)
    print(f"final validation loss {last.val_loss:.3f} nats/char after {last.step} steps", flush=True)
    for i in range(args.samples):
        print(f"--- sample {i + 1} (temperature 0.8, top-k 20) ---")
        print(sample(model, corpus.tokenizer, "\n", args.sample_chars, seed=cfg.seed + i)[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
