"""Module 06 - Optimizers: hidden checks (graders only): options, edges, warmup and speed."""

import numpy as np

from workers.checkpoints import assert_array, check, ratio_to_reference
from workers.checkpoints.perf import Workload
from workers.checkpoints.public.test_06_optimizers import (GRADS, IMPORT, START, adam_steps,
                                                          cosine, learning_rates, sgd_steps,
                                                          stepped)


@check("optimizers.sgd.nesterov", "SGD(momentum=0.9, nesterov=True) steps along g + 0.9 v",
       "hidden")
def test_sgd_nesterov(student):
    assert_array(stepped(student, "SGD([p], lr=0.1, momentum=0.9, nesterov=True)"),
                 sgd_steps(START, GRADS, 0.1, momentum=0.9, nesterov=True),
                 what="p after three Nesterov steps")


@check("optimizers.sgd.weight_decay", "SGD(weight_decay=0.1) adds 0.1 * p to the gradient",
       "hidden")
def test_sgd_weight_decay(student):
    assert_array(stepped(student, "SGD([p], lr=0.1, momentum=0.5, weight_decay=0.1)"),
                 sgd_steps(START, GRADS, 0.1, momentum=0.5, weight_decay=0.1),
                 what="p after three steps with weight decay")


@check("optimizers.adam.first_step", "Adam's first step moves each parameter by about lr, "
       "whatever the gradient's scale", "hidden")
def test_adam_first_step(student):
    tiny = [GRADS[0] * 1e-3]
    assert_array(stepped(student, "Adam([p], lr=0.01)", tiny), adam_steps(START, tiny, 0.01),
                 what="p after one Adam step with gradients of about 1e-4")


@check("optimizers.adam.weight_decay", "Adam(weight_decay=0.1) adds 0.1 * p to the gradient "
       "(L2)", "hidden")
def test_adam_weight_decay(student):
    assert_array(stepped(student, "Adam([p], lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)"),
                 adam_steps(START, GRADS, 0.01, betas=(0.8, 0.99), weight_decay=0.1),
                 what="p after three Adam steps with weight decay")


@check("optimizers.step.skips_missing_grad", "step() updates parameters that have a gradient "
       "and leaves the others alone", "hidden")
def test_skips_missing_grad(student):
    student.exec(f"{IMPORT}\na = Tensor([1.0, 2.0], requires_grad=True)\n"
                 "b = Tensor([3.0, 4.0], requires_grad=True)\nopt = Adam([a, b], lr=0.1)\n"
                 "a.grad = np.array([1.0, -1.0], dtype=np.float32)\nopt.step()")
    assert_array(student.array("a"), adam_steps(np.array([1.0, 2.0]), [np.array([1.0, -1.0])],
                                                0.1), what="a (it had a gradient)")
    assert_array(student.array("b"), [3.0, 4.0], what="b (its grad was None)")


@check("optimizers.schedule.warmup", "LinearWarmup ramps up to the base rate; WarmupCosine "
       "then decays it", "hidden")
def test_warmup(student):
    assert_array(learning_rates(student, "LinearWarmup(opt, warmup_steps=4)", 6),
                 [0.1 * min(k + 1, 4) / 4 for k in range(7)], what="LinearWarmup's rates")
    expected = [0.1 * (k + 1) / 2 if k < 2 else cosine(0.1, 0.0, k - 2, 4) for k in range(7)]
    assert_array(learning_rates(student, "WarmupCosine(opt, warmup_steps=2, total_steps=6)", 6),
                 expected, what="WarmupCosine's rates")


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
def test_settings_rejected(student):
    stepped(student, "SGD([p], lr=0.1)", GRADS[:1])
    for bad in ("SGD([p], lr=-0.1)", "Adam([p], betas=(1.0, 0.999))",
                "SGD([p], lr=0.1, nesterov=True)", "Adam([], lr=0.1)"):
        student.raises(bad, "ValueError")
