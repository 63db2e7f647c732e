"""TinyGPT on Tiny Shakespeare: how fast TinyTorch learns, and what the KV cache buys.

    python -m bench.tinygpt [--data PATH] [--minutes 15] [--target 2.0]    (from the repository root)
    python -m bench.tinygpt --profile 20      # ms per training step per op, wall and CPU

Prints, for a character-level GPT trained with the milestone's loop (``milestones.tinygpt``):
the wall time (and this process's CPU time) until the validation loss first reaches
``--target`` nats/char (evaluations included), the best validation loss within the budget, a
300-character sample, and tokens per second of greedy generation of 256 new tokens with and
without the KV cache (same output, checked). The load average is printed at the start and the
end: on a shared machine wall times are only comparable at similar load; CPU times less so
affected. The peak RSS is printed last.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # see milestones/tinygpt.py; before NumPy loads

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench.op_profile import OpProfile  # noqa: E402
from milestones.tinygpt import (DEFAULT_DATA, Config, batches, build_model, load_corpus, sample,  # noqa: E402
                                sequence_loss, train)
from tinytorch.core.optimizers import AdamW  # noqa: E402
from tinytorch.core.training import clip_grad_norm  # noqa: E402
from tinytorch import generate  # noqa: E402

# Context 256 so that 256 new tokens after a one-character prompt fit in the cache. Small
# batches: early on, the number of updates matters more than tokens per update (with 16x256
# batches the loss sat near 2.45 for the few hundred steps 15 minutes allow).
BENCH_CONFIG = Config(embed_dim=128, num_layers=4, num_heads=4, context=256, batch_size=4, lr=2e-3, eval_every=100)
NEW_TOKENS = 256


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def generation_speed(model, prompt: list[int]) -> tuple[float, float, bool]:
    """Tokens/s with and without the cache for NEW_TOKENS greedy tokens, and whether outputs agree."""
    outputs, speeds = {}, {}
    for use_cache in (True, False):
        start = time.perf_counter()
        outputs[use_cache] = generate(model, prompt, NEW_TOKENS, temperature=0, use_cache=use_cache)
        speeds[use_cache] = NEW_TOKENS / (time.perf_counter() - start)
    return speeds[True], speeds[False], bool(np.array_equal(outputs[True], outputs[False]))


def profile_steps(model, corpus, steps: int) -> None:
    """Time ``steps`` training steps (the milestone's step, after 3 warm-up steps) per op; print the table."""
    stream = batches(corpus.train_ids, BENCH_CONFIG, np.random.default_rng(0))
    optimizer = AdamW(model.parameters(), lr=BENCH_CONFIG.lr, weight_decay=0.01)
    profile = OpProfile()
    for step in range(-3, steps):
        if step == 0:
            profile.start()
        x, y = next(stream)
        loss = sequence_loss(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        if step >= 0:
            profile.mark("bwd (engine)")
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
        if step >= 0:
            profile.mark("optimizer, clipping, next batch")
    profile.stop()
    print(profile.report(steps))
    tokens = BENCH_CONFIG.batch_size * BENCH_CONFIG.context
    print(f"{tokens * steps / sum(profile.wall.values()):.0f} tokens per wall second, "
          f"{tokens * steps / sum(profile.cpu.values()):.0f} per CPU second")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--target", type=float, default=2.0, help="validation loss in nats per character")
    parser.add_argument("--profile", type=int, metavar="STEPS", default=0,
                        help="instead of training, time STEPS steps per op and print the table")
    args = parser.parse_args()

    print(f"load average at start: {load_average()}", flush=True)
    corpus = load_corpus(args.data)
    model = build_model(corpus.tokenizer.vocab_size, BENCH_CONFIG)
    print(f"{model}, {sum(p.size for p in model.parameters()):,} parameters, {BENCH_CONFIG}", flush=True)
    if args.profile:
        profile_steps(model, corpus, args.profile)
        return
    reached, best = None, None
    for last in train(model, corpus, BENCH_CONFIG, args.minutes):
        print(last, flush=True)
        if reached is None and last.val_loss <= args.target:
            reached = last
        if best is None or last.val_loss < best.val_loss:
            best = last

    print(f"\nload average after training: {load_average()}")
    if reached:
        print(f"time to validation loss {args.target}: {reached.seconds:.0f} s wall, {reached.cpu_seconds:.0f} s CPU "
              f"(step {reached.step}, val {reached.val_loss:.3f})")
    else:
        print(f"time to validation loss {args.target}: not reached within {args.minutes:g} minutes")
    print(f"best validation loss within {args.minutes:g} minutes: {best.val_loss:.3f} nats/char "
          f"(step {best.step}, {best.seconds:.0f} s)")
    tokens = last.step * BENCH_CONFIG.batch_size * BENCH_CONFIG.context
    print(f"training throughput: {tokens / last.seconds:.0f} tokens per wall second, "
          f"{tokens / last.cpu_seconds:.0f} per CPU second ({last.step} steps of "
          f"{BENCH_CONFIG.batch_size}x{BENCH_CONFIG.context} tokens, evaluations included)")
    print("--- 300-character sample (temperature 0.8, top-k 20) ---")
    print(sample(model, corpus.tokenizer, "\n", 300, seed=0)[1:])
    print("---")
    cached, uncached, same = generation_speed(model, corpus.tokenizer.encode("\n"))
    print(f"generation of {NEW_TOKENS} new tokens: {cached:.0f} tok/s with KV cache, {uncached:.0f} tok/s "
          f"without: {cached / uncached:.1f}x; identical greedy output: {'yes' if same else 'NO'}")
    print(f"load average at end: {load_average()}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
