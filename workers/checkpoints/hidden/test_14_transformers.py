"""Module 14 - Transformers: hidden checks (graders only): gradients, no peeking, edge cases."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from workers.checkpoints.hidden.test_13_attention import assert_gradients, assert_no_peeking
from harness.checkpoints.public.test_13_attention import assign, literal
from harness.checkpoints.public.test_14_transformers import (IMPORT, layer_norm, prefixed,
                                                              random_gpt)


@check("transformers.layer_norm.gradients", "gradients of layer_norm w.r.t. x, gamma and beta "
       "match finite differences", "hidden")
def test_layer_norm_gradients(student):
    rng = np.random.default_rng(20)
    x, gamma, beta, upstream = (rng.normal(size=s) for s in ((2, 3, 4), 4, 4, (2, 3, 4)))
    student.exec(f"{IMPORT}\nx, gamma, beta = (Tensor(a, dtype=np.float64, requires_grad=True) "
                 f"for a in ({literal(x)}, {literal(gamma)}, {literal(beta)}))\n"
                 f"(layer_norm(x, gamma, beta) * Tensor({literal(upstream)}, dtype=np.float64))"
                 ".sum().backward()")
    assert_gradients(student, lambda x, gamma, beta: float((layer_norm(x, gamma, beta)
                                                            * upstream).sum()),
                     {"x": x, "gamma": gamma, "beta": beta},
                     "sum(layer_norm(x, gamma, beta) * G)", rtol=1e-5, atol=1e-7)


@check("transformers.layer_norm.constant_row", "a constant row normalises to beta, without "
       "dividing by zero", "hidden")
def test_layer_norm_constant_row(student):
    beta = np.array([0.5, -1.0, 2.0])
    student.exec(f"{IMPORT}\nwith np.errstate(all='raise'):\n"
                 f"    y = layer_norm(Tensor(np.full((2, 3), 7.0)), Tensor(np.ones(3)), "
                 f"Tensor({literal(beta)}))")
    assert_array(student.array("y"), np.tile(beta, (2, 1)), atol=1e-5,
                 what="layer_norm of rows that are all 7")


def _gpt(student, seed):
    student.exec(f"{IMPORT}\nmodel = GPT(13, 8, 2, 2, 8)")
    assign(student, prefixed("model", random_gpt(seed, vocab=13, dim=8, layers=2, max_len=8)))


@check("transformers.gpt.causal", "GPT never peeks: changing token 4 leaves the logits of "
       "positions 0-3 unchanged", "hidden")
def test_gpt_causal(student):
    _gpt(student, 21)
    ids = np.array([[1, 2, 3, 4, 5, 6, 7], [12, 0, 11, 1, 10, 2, 9]])
    changed = ids.copy()
    changed[:, 4] = [8, 3]
    assert_no_peeking(student.array(f"model({literal(ids)})"),
                      student.array(f"model({literal(changed)})"), 4)


@check("transformers.gpt.backward", "a backward pass through GPT gives every parameter a "
       "gradient of its own shape", "hidden")
def test_gpt_backward(student):
    _gpt(student, 22)
    upstream = np.random.default_rng(23).normal(size=(2, 6, 13)).astype(np.float32)
    student.exec("params = model.parameters()\nfor p in params: p.grad = None\n"
                 f"(model({literal(np.arange(12).reshape(2, 6))}) * Tensor({literal(upstream)}))"
                 ".sum().backward()")
    shapes = student.eval("[list(p.shape) for p in params]")
    grads = student.eval("[None if p.grad is None else list(np.shape(p.grad)) for p in params]")
    assert_equal(grads, shapes, what="the gradient shapes of model.parameters()")
    if not student.eval("all(bool(np.any(p.grad != 0)) for p in params if p.ndim == 2 "
                        "and p is not model.token_embedding.weight)"):
        raise AssertionError("a weight matrix got an all-zero gradient")
