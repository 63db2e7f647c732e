"""Module 03 - Activations: public checks (shipped to students with the starter).

Forward values only, compared here with NumPy formulas in float64; gradients are module 07's.
"""

import numpy as np

from harness.checkpoints import assert_array, check
from harness.checkpoints.inputs import Cases, _sizes, extreme_rows, fixed, floats

IMPORT = ("from tinytorch.core.tensor import Tensor\n"
          "from tinytorch.core.activations import ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax")
X = [[-3.0, -0.5, 0.0], [0.25, 1.5, 4.0]]


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


ELEMENTWISE = {"ReLU()": lambda x: np.maximum(x, 0), "Sigmoid()": lambda x: 1 / (1 + np.exp(-x)),
               "Tanh()": np.tanh, "GELU()": gelu, "Softmax()": softmax,
               "LogSoftmax()": log_softmax}


def _values(student, rng, layer):
    """``layer`` on the fixed X (a failure reruns the same), then on a batch of this job's own
    values and shape (a reply tabled from another job earns nothing)."""
    student.exec(f"{IMPORT}\nx = Tensor({X})")
    assert_array(student.array(f"{layer}(x)"), ELEMENTWISE[layer](np.array(X)), dtype=np.float32,
                 what=f"{layer}(x)")
    cases = Cases(IMPORT)
    x = floats(rng, tuple(_sizes(rng, 2)), scale=3.0)
    cases.expect(f"{layer}({cases.tensor(x)})", ELEMENTWISE[layer](x.astype(np.float64)),
                 f"{layer} of an input of shape {x.shape}")
    cases.check(student, dtype=np.float32)


@check("activations.relu.values", "ReLU() keeps positive numbers and turns the rest into 0",
       "public")
def test_relu_values(student, rng):
    _values(student, rng, "ReLU()")


@check("activations.sigmoid.values", "Sigmoid() computes 1 / (1 + e^-x)", "public")
def test_sigmoid_values(student, rng):
    _values(student, rng, "Sigmoid()")


@check("activations.tanh.values", "Tanh() computes tanh(x)", "public")
def test_tanh_values(student, rng):
    _values(student, rng, "Tanh()")


@check("activations.gelu.values", "GELU() uses the tanh approximation "
       "0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))", "public")
def test_gelu_values(student, rng):
    _values(student, rng, "GELU()")


@check("activations.softmax.values", "Softmax() turns each row into probabilities that sum "
       "to 1", "public")
def test_softmax_values(student, rng):
    _values(student, rng, "Softmax()")


@check("activations.softmax.stable", "Softmax() of logits like 1000 gives the right "
       "probabilities, not NaN", "public")
def test_softmax_stable(student, rng):
    big = [[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]
    student.exec(f"{IMPORT}\nx = Tensor({big})")
    assert_array(student.array("Softmax()(x)"), softmax(np.array(big)),
                 what="Softmax()(x) for x = [[1000, 1001, 1002], [-1000, 0, 1000]]")
    cases = Cases(IMPORT)
    rows = extreme_rows(rng, 4, 5)
    cases.expect(f"Softmax()({cases.tensor(rows)})", softmax(rows.astype(np.float64)),
                 f"Softmax()(x) for rows of logits near different levels:\n{np.round(rows, 1)}")
    cases.check(student)


@check("activations.log_softmax.values", "LogSoftmax() equals log(Softmax()) for ordinary "
       "inputs", "public")
def test_log_softmax_values(student, rng):
    _values(student, rng, "LogSoftmax()")


@check("activations.shapes.ranks", "every activation keeps the shape and float32 dtype of 1-D to "
       "4-D inputs, size-1 dimensions included", "public")
def test_shapes_ranks(student, rng):
    for generator in (fixed(31), rng):
        cases = Cases(IMPORT)
        for shape in ((5,), (1, 6), (4, 1), (2, 3, 4), (3, 1, 2, 5)):
            x = floats(generator, shape, scale=3.0)
            name = cases.tensor(x)
            for layer, reference in ELEMENTWISE.items():
                cases.expect(f"{layer}({name})", reference(x.astype(np.float64)),
                             f"an input of shape {shape}")
        cases.check(student, dtype=np.float32, rtol=1e-5, atol=1e-6)
