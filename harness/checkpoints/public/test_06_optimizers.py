"""Module 06 - Optimizers: public checks (shipped to students with the starter).

No backward here (that is module 07): each check sets ``p.grad`` by hand, steps the
student's optimizer, and compares the parameters with the update computed here in float64
with the formulas PyTorch uses.  The hidden checks import the update functions from here.
"""

import math

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.plugin import describe

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.optimizers import SGD, Adam, AdamW, StepLR, CosineAnnealingLR, "
          "LinearWarmup, WarmupCosine")
START = np.array([[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]])
GRADS = [np.array([[0.1, -0.2, 0.3], [1.0, 0.0, -2.0]]),
         np.array([[0.2, 0.2, -0.1], [0.5, -1.0, 1.0]]),
         np.array([[-0.3, 0.1, 0.0], [0.25, 0.5, 0.75]])]


def sgd_steps(p, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    velocity = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            velocity = g if velocity is None else momentum * velocity + g
            g = g + momentum * velocity if nesterov else velocity
        p = p - lr * g
    return p


def adam_steps(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    (b1, b2), m, v = betas, 0.0, 0.0
    for t, g in enumerate(grads, 1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def stepped(student, optimizer, grads=GRADS):
    """Parameters after the student's ``optimizer`` (a constructor call on [p]) took a step
    with each gradient."""
    student.exec(f"{IMPORT}\np = Tensor({START.tolist()}, requires_grad=True)\n"
                 f"opt = {optimizer}\n"
                 f"for g in {[g.tolist() for g in grads]}:\n"
                 "    p.grad = np.array(g, dtype=np.float32)\n    opt.step()")
    return student.array("p")


def learning_rates(student, scheduler, steps):
    """``[lr]`` at creation and after each ``scheduler.step()``, base rate 0.1."""
    student.exec(f"{IMPORT}\nopt = SGD([Tensor([1.0], requires_grad=True)], lr=0.1)\n"
                 f"schedule = {scheduler}\nlrs = [opt.lr]\n"
                 f"for _ in range({steps}):\n    schedule.step()\n    lrs.append(opt.lr)")
    return np.array(student.eval("[float(lr) for lr in lrs]"))


def cosine(start, end, t, span):
    return end + (start - end) * (1 + math.cos(math.pi * min(t, span) / span)) / 2


@check("optimizers.sgd.step", "SGD(lr=0.1) moves each parameter by -0.1 * its gradient",
       "public")
def test_sgd_step(student):
    assert_array(stepped(student, "SGD([p], lr=0.1)", GRADS[:1]), START - 0.1 * GRADS[0],
                 what="p after one SGD step")


@check("optimizers.sgd.momentum", "SGD(momentum=0.9) keeps a velocity v = 0.9 v + g, as "
       "PyTorch does", "public")
def test_sgd_momentum(student):
    assert_array(stepped(student, "SGD([p], lr=0.1, momentum=0.9)"),
                 sgd_steps(START, GRADS, 0.1, momentum=0.9), what="p after three steps")


@check("optimizers.adam.steps", "Adam's first three steps match the bias-corrected update",
       "public")
def test_adam_steps(student):
    assert_array(stepped(student, "Adam([p], lr=0.01)"), adam_steps(START, GRADS, 0.01),
                 what="p after three Adam steps")


@check("optimizers.adamw.decoupled", "AdamW shrinks parameters by lr * weight_decay apart "
       "from the Adam step", "public")
def test_adamw_decoupled(student):
    assert_array(stepped(student, "AdamW([p], lr=0.01, weight_decay=0.5)"),
                 adam_steps(START, GRADS, 0.01, weight_decay=0.5, decoupled=True),
                 what="p after three AdamW steps")


@check("optimizers.adam.memory", "Adam's state is two arrays (m and v) the size of the "
       "parameters; more state earns less", "public")
def test_adam_memory(student, rng):
    # The state comes back as arrays and is sized here; m and v must be among them, with the
    # values two steps on this job's gradients give (so made-up state cannot pass).
    shapes = [(64, 32), (32,)]
    grads = [[rng.normal(size=shape).astype(np.float32) for shape in shapes] for _ in range(2)]
    for step, step_grads in enumerate(grads):
        for index, grad in enumerate(step_grads):
            student.put(f"g{step}_{index}", grad)
    student.exec(f"{IMPORT}\nparams = [Tensor(np.ones({shapes[0]}), requires_grad=True), "
                 f"Tensor(np.ones({shapes[1]}), requires_grad=True)]\nopt = Adam(params, lr=0.01)\n"
                 "for step in range(2):\n    for index, q in enumerate(params):\n"
                 "        q.grad = globals()[f'g{step}_{index}']\n    opt.step()\n"
                 "own = {id(a) for q in params for a in (q.data, q.grad)}\n"
                 "found, seen, todo = {}, set(), [vars(opt)]\n"
                 "while todo:\n    item = todo.pop()\n"
                 "    if isinstance(item, Tensor):\n        todo.append(item.data)\n"
                 "    elif isinstance(item, np.ndarray):\n"
                 "        if id(item) not in own:\n            found[id(item)] = item\n"
                 "    elif isinstance(item, (dict, list, tuple)) and id(item) not in seen:\n"
                 "        seen.add(id(item))\n"
                 "        todo.extend(item.values() if isinstance(item, dict) else item)\n"
                 "state = list(found.values())")
    state = student.eval("state")
    if type(state) is not list or not all(type(a) is np.ndarray for a in state):
        raise AssertionError(f"the optimizer's state should be arrays, got {describe(state)}")
    missing = [f"{moment} of the parameter of shape {grads[0][index].shape}"
               for index, (moment, expected) in enumerate_moments(grads)
               if not any(a.shape == expected.shape and np.allclose(a, expected, rtol=1e-4,
                                                                    atol=1e-7) for a in state)]
    if missing:
        raise AssertionError("after two Adam steps the optimizer's state holds no array with "
                             f"the values of {', '.join(missing)}: keep m and v (one array "
                             "each per parameter, same dtype) in the optimizer's state")
    state_bytes = sum(a.nbytes for a in state)
    param_bytes = sum(np.dtype(np.float32).itemsize * int(np.prod(s)) for s in shapes)
    student.figure("memory_ratio", round(state_bytes / (2 * param_bytes), 3))


def enumerate_moments(grads, betas=(0.9, 0.999)):
    """``(index, ("m" or "v", expected array))`` of each parameter after two steps."""
    b1, b2 = betas
    for index, (g0, g1) in enumerate(zip(*grads)):
        yield index, ("m", (1 - b1) * (b1 * g0 + g1))
        yield index, ("v", (1 - b2) * (b2 * g0 ** 2 + g1 ** 2))


@check("optimizers.schedule.step_lr", "StepLR(step_size=3, gamma=0.5) halves the rate every "
       "3 steps", "public")
def test_step_lr(student):
    assert_array(learning_rates(student, "StepLR(opt, step_size=3, gamma=0.5)", 7),
                 [0.1 * 0.5 ** (k // 3) for k in range(8)], what="the learning rates")


@check("optimizers.schedule.cosine", "CosineAnnealingLR follows half a cosine to eta_min, "
       "then stays there", "public")
def test_cosine(student):
    assert_array(learning_rates(student, "CosineAnnealingLR(opt, T_max=4, eta_min=0.01)", 6),
                 [cosine(0.1, 0.01, k, 4) for k in range(7)], what="the learning rates")
