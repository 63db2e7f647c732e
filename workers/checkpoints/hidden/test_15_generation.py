"""Module 15 - Generation: hidden checks (graders only): KV-cache speed, seeds, batches."""

import numpy as np

from workers.checkpoints import assert_array, check, ratio_to_reference
from workers.checkpoints.perf import Workload
from workers.checkpoints.public.test_13_attention import literal
from workers.checkpoints.public.test_14_transformers import random_gpt
from workers.checkpoints.public.test_15_generation import IMPORT, build_gpt

# Long enough that recomputing the sequence dominates (at 40 tokens of width 64, Python
# overhead did and the reference's speedup fell to 1.5x); the reference gets about 3x here.
SPEED_MODEL = dict(vocab=32, dim=96, layers=2, max_len=160)
CACHED = "generate(model, prompt, 120, temperature=0)"


def load_weights(session, params):
    """Send the weights (as arrays, not code) and copy them into ``model``'s parameters."""
    for index, (path, value) in enumerate(params.items()):
        session.put(f"_w{index}", value)
    session.exec("\n".join(f"model.{path}.data[...] = _w{index}"
                           for index, path in enumerate(params)))


@check("generation.kv_cache.speed", "generating 120 tokens with the KV cache is faster than "
       "without it and close to the reference's speed", "hidden")
def test_kv_cache_speed(student, reference, rng):
    # the same weights in both runners, a fresh prompt per repetition: greedy ids must agree
    setup = f"{IMPORT}\nmodel = GPT(32, 96, 2, 2, 160)\nmodel.eval()"
    weights = random_gpt(int(rng.integers(2**31)), **SPEED_MODEL)
    for session in (student, reference):
        session.exec(setup)
        load_weights(session, weights)
    work = Workload("", lambda rng: {"prompt": rng.integers(1, 32, size=8)},
                    f"np.asarray({CACHED})", what="120 greedy tokens with the cache")
    ratio = ratio_to_reference(student, reference, rng, work, repeat=3)
    # the cache's worth, against the reference without one (never the student's own times)
    reference.put("prompt", rng.integers(1, 32, size=8))
    uncached = min(reference.timed_eval(CACHED.replace(")", ", use_cache=False)"))[1]
                   for _ in range(2))
    speedup = uncached / (ratio * student.figures["reference_s"])
    student.figure("cache_speedup", round(speedup, 2))
    assert speedup >= 1.5, (f"with the cache, generation was only {speedup:.2f}x faster than "
                            "the reference without one (1.5x or more passes; the reference "
                            "with its cache gets about 3x)")
    assert ratio <= 5.0, f"cached generation took {ratio:.1f}x the reference's time (5x passes)"


@check("generation.sample.seeded", "generate with the same seed gives the same tokens; another "
       "seed gives others", "hidden")
def test_sample_seeded(student):
    build_gpt(student, 28, max_len=32)
    runs = [student.array(f"np.asarray(generate(model, np.array([1]), 25, temperature=2.0, "
                          f"seed={seed}))") for seed in (3, 3, 4)]
    assert_array(runs[1], runs[0], what="a second run with seed=3")
    if np.array_equal(runs[2], runs[0]):
        raise AssertionError("seed=4 gave exactly the tokens of seed=3 (25 tokens, temperature 2)")


@check("generation.sample.rows", "sample_next samples each row of a batch from that row's own "
       "logits", "hidden")
def test_sample_rows(student):
    logits = np.array([[9.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 9.0], [0.0, 9.0, 0.0, 0.0]] * 50)
    student.exec(f"{IMPORT}\ntokens = sample_next({literal(logits)}, np.random.default_rng(1), "
                 "temperature=0.5)")
    assert_array(student.array("np.asarray(tokens)"), logits.argmax(axis=1),
                 what="tokens sampled at temperature 0.5 from rows that strongly favour one token")


@check("generation.kv_cache.batch", "cached greedy generation of a batch equals generating "
       "each sequence on its own", "hidden")
def test_kv_cache_batch(student):
    build_gpt(student, 29)
    prompts = np.array([[5, 6, 7], [12, 0, 3], [9, 9, 9]])
    together = student.array(f"np.asarray(generate(model, {literal(prompts)}, 4, temperature=0))")
    alone = [student.array(f"np.asarray(generate(model, {literal(p)}, 4, temperature=0))")
             for p in prompts]
    assert_array(together, np.stack(alone), what="a batch of 3 prompts, cached, greedy")
