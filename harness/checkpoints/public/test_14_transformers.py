"""Module 14 - Transformers: public checks (shipped to students with the starter).

Every weight of a block or a GPT is set in the runner from arrays made here, and the expected
output is a NumPy forward pass of the same pre-norm architecture.
"""

import numpy as np

from harness.checkpoints import assert_array, assert_equal, check
from harness.checkpoints.inputs import literal
from harness.checkpoints.public.test_13_attention import (assign, multi_head, projections,
                                                           random_projections)

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.attention import causal_mask\n"
          "from tinytorch.core.transformers import layer_norm, LayerNorm, MLP, TransformerBlock, "
          "GPT")
HEADS = 2


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise the last axis with the biased (population) variance, then scale and shift."""
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def random_block(seed, dim=8):
    """Seeded float32 parameters of a TransformerBlock(dim, HEADS), by attribute path."""
    rng = np.random.default_rng(seed)

    def normal(scale, *shape):
        return rng.normal(0, scale, shape).astype(np.float32)

    params = projections("attn", random_projections(seed, dim))
    for ln in ("ln1", "ln2"):
        params.update({f"{ln}.gamma": 1 + normal(0.1, dim), f"{ln}.beta": normal(0.1, dim)})
    params.update({"mlp.fc1.weight": normal(0.3, dim, 4 * dim),
                   "mlp.fc1.bias": normal(0.1, 4 * dim),
                   "mlp.fc2.weight": normal(0.3, 4 * dim, dim), "mlp.fc2.bias": normal(0.1, dim)})
    return params


def block(x, params, mask=None):
    """NumPy pre-norm block: x + attn(ln1(x)), then + mlp(ln2(.))."""
    attn = {name: (params[f"attn.{name}.weight"], params[f"attn.{name}.bias"])
            for name in ("q_proj", "k_proj", "v_proj", "out_proj")}
    x = x + multi_head(layer_norm(x, params["ln1.gamma"], params["ln1.beta"]), attn, HEADS, mask)
    hidden = gelu(layer_norm(x, params["ln2.gamma"], params["ln2.beta"]) @ params["mlp.fc1.weight"]
                  + params["mlp.fc1.bias"])
    return x + hidden @ params["mlp.fc2.weight"] + params["mlp.fc2.bias"]


def random_gpt(seed, vocab, dim, layers, max_len):
    """Seeded parameters of GPT(vocab, dim, layers, HEADS, max_len), by attribute path."""
    rng = np.random.default_rng(seed)
    params = {"token_embedding.weight": rng.normal(0, 1, (vocab, dim)),
              "position_embedding.weight": rng.normal(0, 0.3, (max_len, dim)),
              "ln_f.gamma": 1 + rng.normal(0, 0.1, dim), "ln_f.beta": rng.normal(0, 0.1, dim),
              "head.weight": rng.normal(0, 0.3, (dim, vocab)),
              "head.bias": rng.normal(0, 0.1, vocab)}
    params = {path: value.astype(np.float32) for path, value in params.items()}
    for i in range(layers):
        params.update({f"blocks[{i}].{path}": value
                       for path, value in random_block(seed + 1 + i, dim).items()})
    return params


def gpt(ids, params, layers):
    """NumPy GPT forward: embeddings + positions, causal blocks, final norm, output head."""
    steps = ids.shape[1]
    x = params["token_embedding.weight"][ids] + params["position_embedding.weight"][:steps]
    for i in range(layers):
        prefix = f"blocks[{i}]."
        x = block(x, {p[len(prefix):]: v for p, v in params.items() if p.startswith(prefix)},
                  np.tril(np.ones((steps, steps), bool)))
    return layer_norm(x, params["ln_f.gamma"], params["ln_f.beta"]) @ params["head.weight"] \
        + params["head.bias"]


def prefixed(prefix, params):
    return {f"{prefix}.{path}": value for path, value in params.items()}


@check("transformers.layer_norm.values", "layer_norm(x, gamma, beta) normalises the last axis "
       "(population variance, eps 1e-5), then scales and shifts", "public")
def test_layer_norm_values(student, rng):
    drawn = tuple(int(n) for n in rng.integers(1, 7, 3))
    for generator, shape in ((np.random.default_rng(14), (2, 3, 5)), (rng, drawn)):
        x = generator.normal(2, 3, shape)
        gamma, beta = generator.normal(size=shape[-1]), generator.normal(size=shape[-1])
        student.exec(f"{IMPORT}\nx = Tensor({literal(x)}, dtype=np.float64)\n"
                     f"y = layer_norm(x, Tensor({literal(gamma)}), Tensor({literal(beta)}))")
        assert_array(student.array("y"), layer_norm(x, gamma, beta), dtype=np.float64,
                     rtol=1e-6, atol=1e-7,
                     what=f"layer_norm(x, gamma, beta) for a float64 x of shape {shape}")


@check("transformers.layernorm.module", "LayerNorm(6) starts as gamma 1, beta 0, normalises "
       "each position and rejects a wrong last dimension", "public")
def test_layernorm_module(student, rng):
    dim = int(rng.integers(2, 10))
    drawn = rng.normal(1, 2, (int(rng.integers(1, 4)), int(rng.integers(1, 5)), dim))
    for x in (np.random.default_rng(15).normal(1, 2, (2, 3, 6)), drawn):
        x, dim = x.astype(np.float32), x.shape[-1]
        student.exec(f"{IMPORT}\nln = LayerNorm({dim})\ny = ln(Tensor({literal(x)}))")
        assert_array(student.array("y"), layer_norm(x.astype(np.float64), 1, 0),
                     dtype=np.float32, rtol=1e-4, atol=1e-5, what=f"LayerNorm({dim})(x)")
        assert_equal(student.eval("[list(p.shape) for p in ln.parameters()]"), [[dim], [dim]],
                     what=f"the shapes of LayerNorm({dim}).parameters()")
        student.raises(f"ln(Tensor(np.ones((2, {dim - 1}))))", "ValueError")


def mlp_params(rng, dim):
    """float32 weights of MLP(dim): Linear(dim, 4 dim) then Linear(4 dim, dim)."""
    params = {"mlp.fc1.weight": rng.normal(0, 0.5, (dim, 4 * dim)),
              "mlp.fc1.bias": rng.normal(size=4 * dim),
              "mlp.fc2.weight": rng.normal(0, 0.5, (4 * dim, dim)),
              "mlp.fc2.bias": rng.normal(size=dim)}
    return {path: value.astype(np.float32) for path, value in params.items()}


@check("transformers.mlp.values", "MLP(4) is Linear(4, 16) -> GELU -> Linear(16, 4) applied at "
       "every position", "public")
def test_mlp_values(student, rng):
    for generator, dim, steps in ((np.random.default_rng(16), 4, 3),
                                  (rng, int(rng.integers(1, 7)), int(rng.integers(1, 5)))):
        params = mlp_params(generator, dim)
        x = generator.normal(size=(2, steps, dim)).astype(np.float32)
        student.exec(f"{IMPORT}\nmlp = MLP({dim})")
        assign(student, params)
        expected = gelu(x @ params["mlp.fc1.weight"] + params["mlp.fc1.bias"]) \
            @ params["mlp.fc2.weight"] + params["mlp.fc2.bias"]
        assert_array(student.array(f"mlp(Tensor({literal(x)}))"), expected, rtol=1e-4,
                     atol=1e-5, what=f"MLP({dim})(x) for x of shape {x.shape}")


@check("transformers.block.values", "TransformerBlock(8, 2) computes x + attn(ln1(x)), then "
       "+ mlp(ln2(.)), with the mask passed to attention", "public")
def test_block_values(student, rng):
    dim, steps = 2 * int(rng.integers(1, 6)), int(rng.integers(1, 7))
    drawn = (random_block(int(rng.integers(2**31)), dim),
             rng.normal(size=(int(rng.integers(1, 4)), steps, dim)))
    for params, x in ((random_block(17), np.random.default_rng(18).normal(size=(2, 4, 8))),
                      drawn):
        x, (steps, dim) = x.astype(np.float32), x.shape[1:]
        student.exec(f"{IMPORT}\nblk = TransformerBlock({dim}, 2)")
        assign(student, prefixed("blk", params))
        mask = np.tril(np.ones((steps, steps), bool))
        assert_array(student.array(f"blk(Tensor({literal(x)}), mask=causal_mask({steps}))"),
                     block(x.astype(np.float64), params, mask), rtol=1e-4, atol=1e-4,
                     what=f"TransformerBlock({dim}, 2)(x, mask=causal_mask({steps}))")


@check("transformers.gpt.values", "GPT(11, 8, 2, 2, 6) turns ids (2, 5) into the logits of "
       "embed -> causal blocks -> LayerNorm -> head", "public")
def test_gpt_values(student, rng):
    vocab, layers, max_len = (int(n) for n in rng.integers((3, 1, 2), (20, 3, 9)))
    ids = rng.integers(0, vocab, (int(rng.integers(1, 4)), int(rng.integers(1, max_len + 1))))
    for seed, (vocab, layers, max_len), ids in (
            (19, (11, 2, 6), np.array([[1, 5, 2, 9, 0], [3, 3, 10, 4, 7]])),
            (int(rng.integers(2**31)), (vocab, layers, max_len), ids)):
        params = random_gpt(seed, vocab=vocab, dim=8, layers=layers, max_len=max_len)
        made = f"GPT({vocab}, 8, {layers}, 2, {max_len})"
        student.exec(f"{IMPORT}\nmodel = {made}")
        assign(student, prefixed("model", params))
        logits = student.array(f"model({literal(ids)})")
        assert_array(logits,
                     gpt(ids, {p: v.astype(np.float64) for p, v in params.items()}, layers),
                     rtol=1e-4, atol=1e-4, what=f"{made} logits for ids of shape {ids.shape}")
