"""Module 06 - Optimizers: hidden checks (graders only): options, edges, warmup and speed."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check, ratio_to_reference
from harness.checkpoints.inputs import floats, results, literal
from harness.checkpoints.perf import Workload
from harness.checkpoints.public.test_06_optimizers import (GRADS, IMPORT, START, adam_steps,
                                                          assert_stepped, cosine, job_steps,
                                                          learning_rates, sgd_steps, stepped)


@check("optimizers.sgd.nesterov", "SGD(momentum=0.9, nesterov=True) steps along g + 0.9 v",
       "hidden")
def test_sgd_nesterov(student, rng):
    assert_stepped(student, rng, "SGD([p], lr=0.1, momentum=0.9, nesterov=True)",
                   lambda p, grads: sgd_steps(p, grads, 0.1, momentum=0.9, nesterov=True),
                   "p after three Nesterov steps")


@check("optimizers.sgd.weight_decay", "SGD(weight_decay=0.1) adds 0.1 * p to the gradient",
       "hidden")
def test_sgd_weight_decay(student, rng):
    assert_stepped(student, rng, "SGD([p], lr=0.1, momentum=0.5, weight_decay=0.1)",
                   lambda p, grads: sgd_steps(p, grads, 0.1, momentum=0.5, weight_decay=0.1),
                   "p after three steps with weight decay")


@check("optimizers.adam.first_step", "Adam's first step moves each parameter by about lr, "
       "whatever the gradient's scale", "hidden")
def test_adam_first_step(student, rng):
    start, grads = job_steps(rng, 1)
    scale = 10.0 ** -rng.uniform(2, 5)
    for begin, tiny, what in ((START, [GRADS[0] * 1e-3], "about 1e-4"),
                              (start, [grads[0] * scale], f"about {scale:.0e}")):
        assert_array(stepped(student, "Adam([p], lr=0.01)", tiny, begin),
                     adam_steps(begin, tiny, 0.01),
                     what=f"p after one Adam step with gradients of {what}")


@check("optimizers.adam.weight_decay", "Adam(weight_decay=0.1) adds 0.1 * p to the gradient "
       "(L2)", "hidden")
def test_adam_weight_decay(student, rng):
    assert_stepped(student, rng, "Adam([p], lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)",
                   lambda p, grads: adam_steps(p, grads, 0.01, betas=(0.8, 0.99),
                                               weight_decay=0.1),
                   "p after three Adam steps with weight decay")


def _skips(student, a, b, grad):
    """One Adam step on [a, b] where only ``a`` has a gradient."""
    student.exec(f"{IMPORT}\na = Tensor({a.tolist()}, requires_grad=True)\n"
                 f"b = Tensor({b.tolist()}, requires_grad=True)\nopt = Adam([a, b], lr=0.1)\n"
                 f"a.grad = np.array({grad.tolist()}, dtype=np.float32)\nopt.step()")
    assert_array(student.array("a"), adam_steps(a, [grad], 0.1), what="a (it had a gradient)")
    assert_array(student.array("b"), b, what="b (its grad was None)")


@check("optimizers.step.skips_missing_grad", "step() updates parameters that have a gradient "
       "and leaves the others alone", "hidden")
def test_skips_missing_grad(student, rng):
    _skips(student, np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([1.0, -1.0]))
    start, (b, grad) = job_steps(rng, 2)
    _skips(student, start, b, grad)


def _warmup_rates(student, linear, warmup, total):
    """LinearWarmup(linear) and WarmupCosine(warmup, total) over ``total`` steps."""
    assert_array(learning_rates(student, f"LinearWarmup(opt, warmup_steps={linear})", total),
                 [0.1 * min(k + 1, linear) / linear for k in range(total + 1)],
                 what=f"LinearWarmup's rates (warmup_steps={linear})")
    expected = [0.1 * (k + 1) / warmup if k < warmup else cosine(0.1, 0.0, k - warmup,
                                                                    total - warmup)
                for k in range(total + 1)]
    schedule = f"WarmupCosine(opt, warmup_steps={warmup}, total_steps={total})"
    assert_array(learning_rates(student, schedule, total), expected,
                 what=f"WarmupCosine's rates (warmup_steps={warmup}, total_steps={total})")


@check("optimizers.schedule.warmup", "LinearWarmup ramps up to the base rate; WarmupCosine "
       "then decays it", "hidden")
def test_warmup(student, rng):
    _warmup_rates(student, 4, 2, 6)
    linear, warmup = (int(n) for n in rng.integers(2, 7, size=2))
    _warmup_rates(student, linear, warmup, warmup + int(rng.integers(2, 9)))


@check("optimizers.adam.vectorised", "an Adam step on a million parameters is about as fast "
       "as the reference", "hidden")
def test_adam_vectorised(student, reference, rng):
    # a fresh optimizer per repetition: its first step allocates the moments, as in training
    work = Workload(IMPORT, lambda rng: {
        "start": rng.normal(size=(1000, 1000)).astype(np.float32),
        "grad": rng.normal(0, 0.01, (1000, 1000)).astype(np.float32)},
        "(opt.step(), p.data)[1]", prepare="p = Tensor(start, requires_grad=True)\n"
        "p.grad = grad\nopt = Adam([p])", what="the parameters after an Adam step")
    ratio = ratio_to_reference(student, reference, rng, work)
    assert ratio <= 5.0, f"an Adam step took {ratio:.1f}x the reference's time (at most 5x passes)"


@check("optimizers.settings.rejected", "a negative lr, beta 1.0, Nesterov without momentum or "
       "no parameters raise ValueError", "hidden")
def test_settings_rejected(student, rng):
    stepped(student, "SGD([p], lr=0.1)", GRADS[:1])
    for bad in ("SGD([p], lr=-0.1)", "Adam([p], betas=(1.0, 0.999))",
                "SGD([p], lr=0.1, nesterov=True)", "Adam([], lr=0.1)"):
        student.raises(bad, "ValueError")
    start, grads = job_steps(rng, 1)
    stepped(student, "SGD([p], lr=0.1)", grads, start)
    beta2 = round(float(rng.uniform(0.9, 0.9999)), 4)
    for bad in (f"SGD([p], lr={-_rate(rng)})", f"Adam([p], betas=(1.0, {beta2}))",
                f"SGD([p], lr={_rate(rng)}, nesterov=True)", f"Adam([], lr={_rate(rng)})"):
        student.raises(bad, "ValueError")


def _rate(rng):
    """A learning rate of this job."""
    return round(float(rng.uniform(0.001, 1.0)), 4)


LOOP_SHAPES = [(3, 4), (4,), (2, 1, 3)]
LOOP_OPTIMIZERS = {   # constructor in the runner: update computed here
    "SGD(params, lr=0.05, momentum=0.9)": lambda p, g: sgd_steps(p, g, 0.05, momentum=0.9),
    "SGD(params, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)":
        lambda p, g: sgd_steps(p, g, 0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
    "Adam(params, lr=0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05)":
        lambda p, g: adam_steps(p, g, 0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05),
    "AdamW(params, lr=0.02, weight_decay=0.1)":
        lambda p, g: adam_steps(p, g, 0.02, weight_decay=0.1, decoupled=True)}


def parameters(arrays):
    """Runner code: ``params``, leaf tensors of ``arrays`` (runner code for a list of arrays),
    each with a zeroed ``.grad`` array."""
    return (f"params = [Tensor(a, requires_grad=True) for a in {arrays}]\n"
            "for q in params:\n    q.grad = np.zeros(q.shape, dtype=np.float32)\n")


def steps_in_place(steps):
    """Runner code: one ``opt.step()`` per entry of ``steps``, each gradient written in place
    into the same ``.grad`` arrays, as a training loop that reuses its buffers does."""
    listed = ", ".join("[" + ", ".join(literal(g) for g in step) + "]" for step in steps)
    return (f"for step in [{listed}]:\n    for q, g in zip(params, step):\n"
            "        q.grad[...] = g\n    opt.step()\n")


def run_loop(student, starts, steps, optimizer):
    """The student's parameters after ``optimizer`` took ``steps`` (see steps_in_place)."""
    listed = "[" + ", ".join(literal(a) for a in starts) + "]"
    student.exec(f"{IMPORT}\n{parameters(listed)}opt = {optimizer}\n{steps_in_place(steps)}")
    return results(student, "params", len(starts))


@check("optimizers.loop.reused_grads", "SGD, Nesterov, Adam (other betas and eps) and AdamW "
       "stay right over 5 steps on several parameters whose .grad arrays are reused each step, "
       "and leave those gradients as they were (weight decay is not added into .grad)",
       "hidden")
def test_loop_reused_grads(student, rng):
    starts = [floats(rng, shape) for shape in LOOP_SHAPES]
    steps = [[floats(rng, shape) for shape in LOOP_SHAPES] for _ in range(5)]
    for optimizer, update in LOOP_OPTIMIZERS.items():
        got = run_loop(student, starts, steps, optimizer)
        for index, (start, value) in enumerate(zip(starts, got)):
            want = update(start.astype(np.float64), [step[index] for step in steps])
            assert_array(value, want, rtol=1e-4, atol=1e-5, dtype=np.float32,
                         what=f"parameter {index} (shape {start.shape}) after 5 steps of "
                              f"{optimizer}")
        for index, value in enumerate(results(student, "[q.grad for q in params]", len(starts))):
            assert_array(value, steps[-1][index], rtol=0, atol=0, dtype=np.float32,
                         what=f"parameter {index}'s .grad after the last step of {optimizer} "
                              "(step() must not change the gradients)")


@check("optimizers.state.resume", "an optimizer rebuilt from state_dict() continues exactly like "
       "the original; its state arrays keep the parameters' shape and dtype", "hidden")
def test_state_resume(student, rng):
    starts = [floats(rng, shape) for shape in LOOP_SHAPES]
    steps = [[floats(rng, shape) for shape in LOOP_SHAPES] for _ in range(4)]
    for optimizer in ("SGD(params, lr=0.05, momentum=0.9)", "Adam(params, lr=0.02)"):
        straight = run_loop(student, starts, steps, optimizer)
        student.exec("kinds = sorted({(str(a.dtype), a.shape == q.shape) for q, s in "
                     "zip(params, opt.state) for a in s.values()})")
        assert_equal(student.eval("[list(kind) for kind in kinds]"), [["float32", True]],
                     what=f"[dtype, same shape as the parameter] of the arrays in "
                          f"{optimizer.split('(')[0]}'s opt.state")
        run_loop(student, starts, steps[:2], optimizer)
        student.exec("saved = opt.state_dict()\n"
                     f"{parameters('[q.data.copy() for q in params]')}opt = {optimizer}\n"
                     f"opt.load_state_dict(*saved)\n{steps_in_place(steps[2:])}")
        for index, (want, value) in enumerate(zip(straight, results(student, "params", len(starts)))):
            assert_array(value, want, rtol=0, atol=0,
                         what=f"parameter {index} after 2 steps, state_dict(), a new "
                              f"{optimizer.split('(')[0]} loading it and 2 more steps")


@check("optimizers.schedule.settings", "StepLR, CosineAnnealingLR, LinearWarmup and WarmupCosine "
       "follow their formulas for other settings over 30 steps", "hidden")
def test_schedule_settings(student, rng):
    step_size, warmup = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    gamma, t_max, total = round(float(rng.uniform(0.2, 0.9)), 3), int(rng.integers(5, 20)), 25
    eta_min = round(float(rng.uniform(0.001, 0.05)), 4)
    expected = {
        f"StepLR(opt, step_size={step_size}, gamma={gamma})":
            [0.1 * gamma ** (k // step_size) for k in range(31)],
        f"CosineAnnealingLR(opt, T_max={t_max}, eta_min={eta_min})":
            [cosine(0.1, eta_min, k, t_max) for k in range(31)],
        f"LinearWarmup(opt, warmup_steps={warmup})":
            [0.1 * min(k + 1, warmup) / warmup for k in range(31)],
        f"WarmupCosine(opt, warmup_steps={warmup}, total_steps={total}, eta_min={eta_min})":
            [0.1 * (k + 1) / warmup if k < warmup else cosine(0.1, eta_min, k - warmup,
                                                                total - warmup)
             for k in range(31)]}
    for scheduler, rates in expected.items():
        assert_array(learning_rates(student, scheduler, 30), rates, rtol=1e-9, atol=1e-12,
                     what=f"the rates of {scheduler} at creation and after 30 steps")
