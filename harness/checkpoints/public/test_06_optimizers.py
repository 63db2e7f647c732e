"""Module 06 - Optimizers: public checks (shipped to students with the starter).

No backward here (that is module 07): each check sets ``p.grad`` by hand, steps the
student's optimizer, and compares the parameters with the update computed here in float64
with the formulas PyTorch uses.  The hidden checks import the update functions from here.
"""

import math

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import _sizes, floats
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


def stepped(student, optimizer, grads=GRADS, start=START):
    """Parameters after the student's ``optimizer`` (a constructor call on [p]) took a step
    with each gradient from ``start``."""
    student.exec(f"{IMPORT}\np = Tensor({start.tolist()}, requires_grad=True)\n"
                 f"opt = {optimizer}\n"
                 f"for g in {[g.tolist() for g in grads]}:\n"
                 "    p.grad = np.array(g, dtype=np.float32)\n    opt.step()")
    return student.array("p")


def job_steps(rng, count):
    """A start and ``count`` gradients of this job, of one random 2-D shape (float32 values)."""
    shape = tuple(_sizes(rng, 2))
    return (floats(rng, shape).astype(np.float64),
            [floats(rng, shape).astype(np.float64) for _ in range(count)])


def assert_stepped(student, rng, optimizer, update, what, count=3):
    """``optimizer``'s steps on START and GRADS[:count], then on this job's start and
    gradients, each compared with ``update(start, grads)`` computed here."""
    start, grads = job_steps(rng, count)
    for begin, steps, label in ((START, GRADS[:count], what),
                                (start, grads, f"{what} from a start of shape {start.shape}")):
        assert_array(stepped(student, optimizer, steps, begin), update(begin, steps), what=label)


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
def test_sgd_step(student, rng):
    assert_stepped(student, rng, "SGD([p], lr=0.1)", lambda p, grads: sgd_steps(p, grads, 0.1),
                   "p after one SGD step", count=1)


@check("optimizers.sgd.momentum", "SGD(momentum=0.9) keeps a velocity v = 0.9 v + g, as "
       "PyTorch does", "public")
def test_sgd_momentum(student, rng):
    assert_stepped(student, rng, "SGD([p], lr=0.1, momentum=0.9)",
                   lambda p, grads: sgd_steps(p, grads, 0.1, momentum=0.9), "p after three steps")


@check("optimizers.adam.steps", "Adam's first three steps match the bias-corrected update",
       "public")
def test_adam_steps(student, rng):
    assert_stepped(student, rng, "Adam([p], lr=0.01)",
                   lambda p, grads: adam_steps(p, grads, 0.01), "p after three Adam steps")


@check("optimizers.adamw.decoupled", "AdamW shrinks parameters by lr * weight_decay apart "
       "from the Adam step", "public")
def test_adamw_decoupled(student, rng):
    assert_stepped(student, rng, "AdamW([p], lr=0.01, weight_decay=0.5)",
                   lambda p, grads: adam_steps(p, grads, 0.01, weight_decay=0.5, decoupled=True),
                   "p after three AdamW steps")


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
def test_step_lr(student, rng):
    assert_array(learning_rates(student, "StepLR(opt, step_size=3, gamma=0.5)", 7),
                 [0.1 * 0.5 ** (k // 3) for k in range(8)], what="the learning rates")
    size, gamma = int(rng.integers(2, 6)), round(float(rng.uniform(0.1, 0.9)), 3)
    scheduler = f"StepLR(opt, step_size={size}, gamma={gamma})"
    assert_array(learning_rates(student, scheduler, 3 * size),
                 [0.1 * gamma ** (k // size) for k in range(3 * size + 1)],
                 what=f"the learning rates of {scheduler}")


@check("optimizers.schedule.cosine", "CosineAnnealingLR follows half a cosine to eta_min, "
       "then stays there", "public")
def test_cosine(student, rng):
    assert_array(learning_rates(student, "CosineAnnealingLR(opt, T_max=4, eta_min=0.01)", 6),
                 [cosine(0.1, 0.01, k, 4) for k in range(7)], what="the learning rates")
    t_max, eta_min = int(rng.integers(3, 12)), round(float(rng.uniform(0.001, 0.05)), 4)
    scheduler = f"CosineAnnealingLR(opt, T_max={t_max}, eta_min={eta_min})"
    assert_array(learning_rates(student, scheduler, t_max + 2),
                 [cosine(0.1, eta_min, k, t_max) for k in range(t_max + 3)],
                 what=f"the learning rates of {scheduler}")
