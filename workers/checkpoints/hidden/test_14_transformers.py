"""Module 14 - Transformers: hidden checks (graders only): gradients, no peeking, edge cases."""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import literal
from workers.checkpoints.hidden.test_13_attention import assert_gradients, assert_no_peeking
from harness.checkpoints.inputs_more import LIST_CACHE
from harness.checkpoints.plugin import describe
from harness.checkpoints.public.test_07_autograd import grads
from harness.checkpoints.public.test_13_attention import assign
from harness.checkpoints.public.test_14_transformers import (IMPORT, block, gpt, layer_norm,
                                                              prefixed, random_block, random_gpt)


@check("transformers.layer_norm.gradients", "gradients of layer_norm w.r.t. x, gamma and beta "
       "match finite differences", "hidden")
def test_layer_norm_gradients(student, rng):
    drawn = tuple(int(n) for n in rng.integers(1, 6, 3))
    for generator, shape in ((np.random.default_rng(20), (2, 3, 4)), (rng, drawn)):
        x, gamma, beta, upstream = (generator.normal(size=s)
                                    for s in (shape, shape[-1], shape[-1], shape))
        student.exec(f"{IMPORT}\nx, gamma, beta = (Tensor(a, dtype=np.float64, "
                     f"requires_grad=True) for a in ({literal(x)}, {literal(gamma)}, "
                     f"{literal(beta)}))\n(layer_norm(x, gamma, beta) * "
                     f"Tensor({literal(upstream)}, dtype=np.float64)).sum().backward()")
        assert_gradients(student, lambda x, gamma, beta: float((layer_norm(x, gamma, beta)
                                                                * upstream).sum()),
                         {"x": x, "gamma": gamma, "beta": beta},
                         f"sum(layer_norm(x, gamma, beta) * G) for x of shape {shape}",
                         rtol=1e-5, atol=1e-7)


@check("transformers.layer_norm.constant_row", "a constant row normalises to beta, without "
       "dividing by zero", "hidden")
def test_layer_norm_constant_row(student, rng):
    """The rows hold multiples of 1/4, so their float32 mean is exact and the variance 0."""
    rows, cols = (int(n) for n in rng.integers((1, 2), (5, 9)))
    drawn = (rows, cols, float(rng.integers(-200, 201)) / 4, rng.normal(size=cols),
             rng.normal(size=cols))
    for rows, cols, value, gamma, beta in ((2, 3, 7.0, np.ones(3), np.array([0.5, -1.0, 2.0])),
                                           drawn):
        student.exec(f"{IMPORT}\nwith np.errstate(all='raise'):\n"
                     f"    y = layer_norm(Tensor(np.full(({rows}, {cols}), {value!r})), "
                     f"Tensor({literal(gamma)}), Tensor({literal(beta)}))")
        assert_array(student.array("y"), np.tile(beta, (rows, 1)), atol=1e-5,
                     what=f"layer_norm of rows that are all {value:g}")


def _gpt(student, seed):
    student.exec(f"{IMPORT}\nmodel = GPT(13, 8, 2, 2, 8)")
    assign(student, prefixed("model", random_gpt(seed, vocab=13, dim=8, layers=2, max_len=8)))


@check("transformers.gpt.causal", "GPT never peeks: changing token 4 leaves the logits of "
       "positions 0-3 unchanged", "hidden")
def test_gpt_causal(student, rng):
    fixed = np.array([[1, 2, 3, 4, 5, 6, 7], [12, 0, 11, 1, 10, 2, 9]])
    steps = int(rng.integers(2, 9))
    drawn, position = rng.integers(0, 13, (2, steps)), int(rng.integers(1, steps))
    new = (drawn[:, position] + rng.integers(1, 13, 2)) % 13      # a different token per row
    for seed, ids, position, new in ((21, fixed, 4, [8, 3]),
                                     (int(rng.integers(2**31)), drawn, position, new)):
        changed = ids.copy()
        changed[:, position] = new
        _gpt(student, seed)
        assert_no_peeking(student.array(f"model({literal(ids)})"),
                          student.array(f"model({literal(changed)})"), position)


@check("transformers.gpt.backward", "a backward pass through GPT gives every parameter the "
       "gradient that finite differences of the forward pass give", "hidden")
def test_gpt_backward(student, rng):
    """Each parameter's gradient, at a few entries drawn per job, against central differences
    of a NumPy GPT computed here: never the student's answers compared with each other."""
    params = random_gpt(int(rng.integers(1000)), vocab=13, dim=8, layers=2, max_len=8)
    ids, upstream = rng.integers(0, 13, (2, 6)), rng.normal(size=(2, 6, 13))
    student.exec(f"{IMPORT}\nmodel = GPT(13, 8, 2, 2, 8)")
    assign(student, prefixed("model", params))
    student.exec("for p in model.parameters(): p.grad = None\n"
                 f"(model({literal(ids)}) * Tensor({literal(upstream.astype(np.float32))}))"
                 ".sum().backward()")
    wide = {path: value.astype(np.float64) for path, value in params.items()}
    got = grads(student, *(f"model.{path}" for path in wide))
    for (path, value), grad in zip(wide.items(), got):
        if type(grad) is not np.ndarray or grad.shape != value.shape:
            raise AssertionError(f"model.{path}.grad should have shape {value.shape}, got "
                                 f"{describe(grad)}")
        for index in map(tuple, rng.integers(0, value.shape, size=(3, value.ndim))):
            want = _central_difference(wide, path, index, ids, upstream)
            if not np.isclose(grad[index], want, rtol=2e-2, atol=2e-3):
                raise AssertionError(f"model.{path}.grad{list(index)} is {grad[index]:.5g}; "
                                     f"finite differences of the forward give {want:.5g}")


def _central_difference(params, path, index, ids, upstream, eps=1e-5):
    """d sum(gpt(ids) * upstream) / d params[path][index], in float64 on this side."""
    def loss(shift):
        moved = dict(params)
        moved[path] = params[path].copy()
        moved[path][index] += shift
        return float((gpt(ids, moved, 2) * upstream).sum())
    return (loss(eps) - loss(-eps)) / (2 * eps)


@check("transformers.gpt.cached_steps", "GPT fed a sequence in chunks through a key/value cache "
       "(positions continuing after the cached tokens) gives the logits of the full sequence",
       "hidden")
def test_gpt_cached_steps(student, rng):
    params = random_gpt(int(rng.integers(1000)), vocab=13, dim=8, layers=2, max_len=8)
    ids = rng.integers(0, 13, (2, 8))
    student.exec(f"{IMPORT}\n{LIST_CACHE}model = GPT(13, 8, 2, 2, 8)")
    assign(student, prefixed("model", params))
    student.exec(f"ids = {literal(ids)}\ncache = ListCache(2)\n"
                 "chunks = [model(ids[:, a:b], cache=cache) for a, b in "
                 "((0, 3), (3, 5), (5, 6), (6, 8))]")
    expected = gpt(ids, {p: v.astype(np.float64) for p, v in params.items()}, 2)
    for number, (a, b) in enumerate(((0, 3), (3, 5), (5, 6), (6, 8))):
        assert_array(student.array(f"chunks[{number}]"), expected[:, a:b], rtol=1e-4, atol=1e-4,
                     what=f"the logits of tokens {a}-{b - 1} fed after {a} cached tokens")


def tiny_variance_rows(rng):
    """(..., 6) float64 rows: spreads from 1e-6 (below eps) to 1e3, offsets up to +-1e3,
    with size-1 leading dims."""
    spreads = np.array([1e-6, 1e-4, 1e-2, 1.0, 1e3])[:, None]
    offsets = rng.uniform(-1e3, 1e3, (5, 1))
    return [(offsets + spreads * rng.normal(size=(5, 6))).reshape(shape)
            for shape in ((5, 6), (5, 1, 6), (1, 5, 6))]


@check("transformers.layer_norm.tiny_variance", "layer_norm is exact for rows whose variance "
       "is far below or above eps, around offsets up to 1e3, in float64 and float32", "hidden")
def test_layer_norm_tiny_variance(student, rng):
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    student.exec(f"{IMPORT}\ngamma, beta = Tensor({literal(gamma)}, dtype=np.float64), "
                 f"Tensor({literal(beta)}, dtype=np.float64)")
    for x in tiny_variance_rows(rng):
        assert_array(student.array(f"layer_norm(Tensor({literal(x)}, dtype=np.float64), "
                                   "gamma, beta)"),
                     layer_norm(x, gamma, beta), dtype=np.float64, rtol=1e-5, atol=1e-5,
                     what=f"layer_norm of float64 rows of shape {x.shape} with standard "
                     "deviations 1e-6, 1e-4, 1e-2, 1 and 1e3")
    far = (rng.uniform(-1e3, 1e3, (5, 1)) + rng.normal(size=(5, 6))).astype(np.float32)
    assert_array(student.array(f"layer_norm(Tensor({literal(far)}), Tensor({literal(gamma)}), "
                               f"Tensor({literal(beta)}))"),
                 layer_norm(far.astype(np.float64), gamma.astype(np.float32),
                            beta.astype(np.float32)),
                 dtype=np.float32, rtol=1e-3, atol=2e-3,
                 what="layer_norm of float32 rows of spread 1 around offsets up to 1e3 (the "
                 "variance of x - mean, not E[x^2] - E[x]^2, which cancels in float32)")


@check("transformers.options", "layer_norm honours eps, MLP its hidden_dim, TransformerBlock its "
       "mlp_ratio, and dropout is off in eval mode and on the branches only in training", "hidden")
def test_options(student, rng):
    x, gamma, beta = rng.normal(0, 0.3, (2, 3, 8)), rng.normal(size=8), rng.normal(size=8)
    eps = float(rng.choice([0.1, 0.5, 2.0]))
    student.exec(f"{IMPORT}\ny = layer_norm(Tensor({literal(x)}, dtype=np.float64), "
                 f"Tensor({literal(gamma)}), Tensor({literal(beta)}), eps={eps})")
    assert_array(student.array("y"), layer_norm(x, gamma, beta, eps), rtol=1e-5, atol=1e-6,
                 what=f"layer_norm(x, gamma, beta, eps={eps}) for x of spread 0.3")
    student.exec("mlp = MLP(4, hidden_dim=6)")
    assert_equal(student.eval("[list(p.shape) for p in mlp.parameters()]"),
                 [[4, 6], [6], [6, 4], [4]], what="the parameter shapes of MLP(4, hidden_dim=6)")
    params = random_block(int(rng.integers(1000)))
    params.update({"mlp.fc1.weight": params["mlp.fc1.weight"][:, :16],
                   "mlp.fc1.bias": params["mlp.fc1.bias"][:16],
                   "mlp.fc2.weight": params["mlp.fc2.weight"][:16]})
    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    student.exec("blk = TransformerBlock(8, 2, mlp_ratio=2, dropout=0.5)\nblk.eval()")
    assign(student, prefixed("blk", params))
    student.exec(f"x = Tensor({literal(x)})\nevaluated = blk(x)\nblk.train()\n"
                 "trained = [blk(x) for _ in range(2)]")
    assert_array(student.array("evaluated"),
                 block(x.astype(np.float64), {p: v.astype(np.float64) for p, v in params.items()}),
                 rtol=1e-4, atol=1e-4,
                 what="TransformerBlock(8, 2, mlp_ratio=2, dropout=0.5) in eval mode")
    if np.allclose(student.array("trained[0]"), student.array("trained[1]")):
        raise AssertionError("TransformerBlock(..., dropout=0.5) in training mode gave the same "
                             "output twice: dropout should drop random activations")
    zero_branches = {f"blk.{path}": np.zeros_like(params[path]) for path in
                     ("attn.out_proj.weight", "attn.out_proj.bias", "mlp.fc2.weight",
                      "mlp.fc2.bias")}
    assign(student, zero_branches)
    assert_array(student.array("blk(x)"), x, rtol=0, atol=1e-6,
                 what="TransformerBlock(..., dropout=0.5) in training mode with both branches "
                 "zeroed (dropout acts on the branches, never on the residual x)")
