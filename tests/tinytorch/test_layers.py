"""Module 04: parameter discovery, modes, initialisation, seeding, state dicts, and layer gradients."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tinytorch.gradcheck import assert_gradients_match, random_tensor
from tinytorch import Dropout, Flatten, Linear, Module, ReLU, Sequential, Tensor, manual_seed
from tinytorch.core import layers


class Nested(Module):
    """Parameters hidden in every kind of container a student might use."""

    def __init__(self):
        self.first = Linear(2, 3)
        self.blocks = [Linear(3, 3), (Linear(3, 3),)]
        self.heads = {"a": Linear(3, 1), "b": {"deep": Linear(3, 1)}}
        self.alias = self.first                                       # same module twice
        self.scale = Tensor([1.0], requires_grad=True)
        self.scale_again = self.scale                                 # same tensor twice
        self.constant = Tensor([2.0])                                 # no gradient: not a parameter
        self.cached = self.scale * 2                                  # an op result: not a parameter
        self.myself = self                                            # a cycle
        self.loop = [self.first]
        self.loop.append(self.loop)                                   # a list that contains itself

    def forward(self, x):
        return x


def test_parameters_finds_nested_ones_once_each():
    model = Nested()
    params = model.parameters()
    expected = [model.scale]
    for linear in (model.first, model.blocks[0], model.blocks[1][0], model.heads["a"], model.heads["b"]["deep"]):
        expected += [linear.weight, linear.bias]
    assert len(params) == len(expected) == 11
    assert {id(p) for p in params} == {id(p) for p in expected}


def test_named_parameters_use_attribute_paths():
    names = [name for name, _ in Nested().named_parameters()]
    assert names[0] == "scale"
    assert {"first.weight", "blocks.0.bias", "blocks.1.0.weight", "heads.a.weight", "heads.b.deep.bias"} <= set(names)
    assert len(names) == len(set(names))


def test_train_and_eval_reach_every_submodule():
    model = Sequential(Linear(2, 2), [Dropout(0.5)], Sequential(Dropout(0.1)))
    model.layers.append({"late": Dropout(0.2)})
    model.eval()
    assert len(model.modules()) == 6
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_parameter():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    model(Tensor(np.ones((4, 2)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# -------------------------------------------------------------------- Linear
def test_linear_shapes_init_and_forward():
    layer = Linear(4, 3)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    assert len(Linear(4, 3, bias=False).parameters()) == 1


def test_linear_init_is_he_uniform():
    weight = Linear(512, 256).weight.data
    bound = np.sqrt(6 / 512)
    assert np.abs(weight).max() <= bound
    assert weight.std() == pytest.approx(np.sqrt(2 / 512), rel=0.05)
    assert abs(weight.mean()) < 0.01 * bound


def test_linear_rejects_a_wrong_input_width():
    with pytest.raises(ValueError, match=r"Linear\(4, 3\) got input with 5 features"):
        Linear(4, 3)(Tensor(np.ones((2, 5))))


def test_manual_seed_and_rng_make_initialisation_reproducible():
    manual_seed(3)
    a = Linear(5, 5).weight.data.copy()
    manual_seed(3)
    b = Linear(5, 5).weight.data
    c = Linear(5, 5).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    np.testing.assert_array_equal(Linear(5, 5, rng=np.random.default_rng(9)).weight.data,
                                  Linear(5, 5, rng=np.random.default_rng(9)).weight.data)


def _float64_linear(rng, n_in, n_out):
    layer = Linear(n_in, n_out)
    layer.weight, layer.bias = random_tensor(rng, n_in, n_out), random_tensor(rng, n_out)
    return layer


def test_linear_gradients():
    rng = np.random.default_rng(11)
    layer = _float64_linear(rng, 4, 3)

    def f(x, w, b):
        layer.weight, layer.bias = w, b
        return layer(x)

    assert_gradients_match(f, random_tensor(rng, 5, 4), layer.weight, layer.bias)


def test_sequential_with_dropout_in_eval_gradients():
    rng = np.random.default_rng(12)
    first, second = _float64_linear(rng, 4, 6), _float64_linear(rng, 6, 2)
    model = Sequential(first, ReLU(), Dropout(0.5), second).eval()

    def f(x, w1, b1, w2, b2):
        first.weight, first.bias, second.weight, second.bias = w1, b1, w2, b2
        return model(x)

    assert_gradients_match(f, random_tensor(rng, 3, 4), first.weight, first.bias, second.weight, second.bias)


# ------------------------------------------------------------- Dropout, Flatten
def test_dropout_is_inverted_in_training_and_identity_in_eval():
    layer = Dropout(0.25, rng=np.random.default_rng(0))
    x = Tensor(np.ones((200, 200)), requires_grad=True)
    out = layer(x)
    dropped = out.data == 0
    assert dropped.mean() == pytest.approx(0.25, abs=0.01)
    np.testing.assert_allclose(out.data[~dropped], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, out.data)  # the gradient flows only through kept units, scaled
    assert layer.eval()(x) is x


def test_dropout_rejects_p_of_one():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


def test_flatten_keeps_the_batch_dimension():
    x = Tensor(np.ones((2, 3, 4, 5)), requires_grad=True)
    out = Flatten()(x)
    assert out.shape == (2, 60)
    out.sum().backward()
    assert x.grad.shape == (2, 3, 4, 5)


def test_sequential_indexing():
    model = Sequential([Linear(2, 2), ReLU()])
    assert len(model) == 2 and isinstance(model[1], ReLU)


# ---------------------------------------------------------------- state dicts
class WithBuffer(Module):
    def __init__(self):
        self.linear = Linear(2, 2)
        self.register_buffer("running_mean", np.zeros(2, dtype=np.float32))


def test_state_dict_round_trip_includes_buffers_and_copies_in_place():
    source, target = WithBuffer(), WithBuffer()
    source.running_mean += 5
    weight_array = target.linear.weight.data
    target.load_state_dict({k: v.copy() for k, v in source.state_dict().items()})
    assert set(source.state_dict()) == {"linear.weight", "linear.bias", "running_mean"}
    np.testing.assert_array_equal(target.linear.weight.data, source.linear.weight.data)
    np.testing.assert_array_equal(target.running_mean, [5, 5])
    assert target.linear.weight.data is weight_array  # optimizers keep pointing at the live array


def test_load_state_dict_with_a_wrong_shape_changes_nothing():
    model = WithBuffer()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = {k: np.ones_like(v) for k, v in before.items()}
    bad["linear.bias"] = np.ones(3)
    with pytest.raises(ValueError, match=r"'linear.bias' is \(3,\), expected \(2,\)"):
        model.load_state_dict(bad)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_names_missing_and_unexpected_keys():
    state = WithBuffer().state_dict()
    state["extra"] = state.pop("running_mean")
    with pytest.raises(KeyError, match=r"missing \['running_mean'\], unexpected \['extra'\]"):
        WithBuffer().load_state_dict(state)


def test_register_buffer_rejects_non_arrays():
    with pytest.raises(TypeError, match="steps"):
        Module().register_buffer("steps", 3)


def test_layers_module_exports_what_it_defines():
    assert set(layers.__all__) <= set(vars(layers))
