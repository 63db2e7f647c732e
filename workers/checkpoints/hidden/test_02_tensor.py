"""Module 02 - Tensor: hidden checks (graders only): edge cases and performance.

After its fixed examples, each check tries the same behaviour on this job's own inputs
(``rng``), so replaying answers recorded in another job fails."""

import numpy as np

from harness.checkpoints import assert_results, check, ratio_to_reference
from harness.checkpoints.inputs import (Cases, _sizes, axis_tuple_cases, fixed, floats, literal,
                                        reduction_cases)
from harness.checkpoints.perf import Workload
from harness.checkpoints.public.test_02_tensor import grid, job_cases, nonzero
from harness.checkpoints.recorded import assert_recorded

IMPORT = "from tinytorch.core.tensor import Tensor"


def _define(student, **arrays):
    """Create Tensors named like the keyword arguments in the student's namespace."""
    student.exec("\n".join([IMPORT] + [f"{name} = Tensor(np.array({value.tolist()}))"
                                       for name, value in arrays.items()]))


@check("tensor.add.broadcast_both", "a (3, 1) plus a (1, 4) tensor broadcasts to (3, 4)",
       "hidden")
def test_add_broadcast_both(student, rng):
    col, row = np.array([[1.0], [2.0], [3.0]]), np.array([[10.0, 20.0, 30.0, 40.0]])
    _define(student, col=col, row=row)
    assert_results(student, [("col + row", col + row), ("row - col", row - col)])
    rows, cols = _sizes(rng, 2)
    col, row = grid(rng, (rows, 1)), grid(rng, (1, cols))
    job_cases(student, {"col": col, "row": row}, [("{col} + {row}", col + row),
                                                  ("{row} - {col}", row - col)])


@check("tensor.arith.reflected", "numbers on the left work too: 2 - a, 2 / a, 3 * a, 1 + a",
       "hidden")
def test_arith_reflected(student, rng):
    a = np.array([[1.0, 2.0], [4.0, -8.0]])
    _define(student, a=a)
    assert_results(student, [("2 - a", 2 - a), ("2 / a", 2 / a), ("3 * a", 3 * a),
                             ("1 + a", 1 + a)])
    a = nonzero(rng, tuple(_sizes(rng, 2)))
    minus, over, times, plus = (int(n) for n in rng.integers(1, 10, size=4))
    job_cases(student, {"a": a}, [(f"{minus} - {{a}}", minus - a), (f"{over} / {{a}}", over / a),
                                  (f"{times} * {{a}}", times * a), (f"{plus} + {{a}}", plus + a)])


@check("tensor.ops.no_mutation", "operations return new tensors and leave their inputs alone",
       "hidden")
def test_ops_no_mutation(student, rng):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    _define(student, a=a, b=b)
    student.exec("_ = [a + b, a * b, a - b, a / b, a ** 2, a.exp(), a.sum(), a.reshape(3, 1)]")
    assert_results(student, [("a", a), ("b", b)])
    size = _sizes(rng, 1)[0]
    a, b = grid(rng, size), nonzero(rng, size)
    cases = Cases(IMPORT)
    x, y = cases.tensor(a), cases.tensor(b)
    cases.run(f"_ = [{x} + {y}, {x} * {y}, {x} - {y}, {x} / {y}, {x} ** 2, {x}.exp(), {x}.sum(), "
              f"{x}.reshape({size}, 1)]")
    cases.expect(x, a, "this job's a after the ops")
    cases.expect(y, b, "this job's b after the ops")
    cases.check(student)


@check("tensor.matmul.batched", "a (2, 3, 4) @ (4, 5) matmul broadcasts the batch dimension",
       "hidden")
def test_matmul_batched(student, rng):
    fixed_rng = np.random.default_rng(2)
    left, right = fixed_rng.normal(size=(2, 3, 4)), fixed_rng.normal(size=(4, 5))
    _define(student, left=left, right=right)
    assert_results(student, [("left @ right", left @ right)], rtol=1e-4, atol=1e-5)
    b, m, k, n = _sizes(rng, 4)
    left, right = grid(rng, (b, m, k)), grid(rng, (k, n))
    job_cases(student, {"left": left, "right": right}, [("{left} @ {right}", left @ right)],
              rtol=1e-4, atol=1e-5)


@check("tensor.max.all_negative", "max() is right when every element is negative", "hidden")
def test_max_all_negative(student, rng):
    x = np.array([[-3.0, -1.5, -7.0], [-2.0, -9.0, -0.5]])
    _define(student, x=x)
    assert_results(student, [("x.max()", x.max()),
                             ("x.max(axis=1, keepdims=True)", x.max(axis=1, keepdims=True))])
    x = -grid(rng, tuple(_sizes(rng, 2)), 1, 40)
    job_cases(student, {"x": x}, [("{x}.max()", x.max()), ("{x}.max(axis=1, keepdims=True)",
                                                            x.max(axis=1, keepdims=True))])


@check("tensor.mean.keepdims", "mean(axis=0, keepdims=True) keeps a dimension of size 1",
       "hidden")
def test_mean_keepdims(student, rng):
    x = np.arange(12.0).reshape(3, 4)
    _define(student, x=x)
    assert_results(student, [("x.mean(axis=0, keepdims=True)", x.mean(axis=0, keepdims=True))])
    x = grid(rng, tuple(_sizes(rng, 2)))
    job_cases(student, {"x": x}, [("{x}.mean(axis=0, keepdims=True)",
                                   x.mean(axis=0, keepdims=True))])


@check("tensor.reshape.bad_size", "reshape() to a different number of elements raises ValueError",
       "hidden")
def test_reshape_bad_size(student, rng):
    _define(student, x=np.zeros((2, 3)))
    student.raises("x.reshape(4, 4)", "ValueError")
    m, n = _sizes(rng, 2)
    student.raises(f"{IMPORT}\nTensor(np.zeros(({m}, {n}))).reshape({n}, {m + 1})", "ValueError")


@check("tensor.transpose.dims", "transpose(0, 2) swaps exactly those two dimensions", "hidden")
def test_transpose_dims(student, rng):
    x = np.arange(24.0).reshape(2, 3, 4)
    _define(student, x=x)
    assert_results(student, [("x.transpose(0, 2)", np.swapaxes(x, 0, 2)),
                             ("x.transpose()", np.swapaxes(x, -2, -1))])
    x = grid(rng, tuple(_sizes(rng, 3)))
    job_cases(student, {"x": x}, [("{x}.transpose(0, 2)", np.swapaxes(x, 0, 2)),
                                  ("{x}.transpose()", np.swapaxes(x, -2, -1))])


@check("tensor.getitem.index_array", "indexing with an integer array or Tensor picks rows",
       "hidden")
def test_getitem_index_array(student, rng):
    x = np.arange(12.0).reshape(4, 3)
    _define(student, x=x)
    assert_results(student, [("x[np.array([3, 0])]", x[[3, 0]]),
                             ("x[Tensor([2, 1])]", x[[2, 1]])])
    rows, cols = _sizes(rng, 2)
    x = grid(rng, (rows, cols))
    picks, tensor_picks = (rng.integers(rows, size=3).tolist() for _ in range(2))
    job_cases(student, {"x": x}, [(f"{{x}}[np.array({picks})]", x[picks]),
                                  (f"{{x}}[Tensor({tensor_picks})]", x[tensor_picks])])


@check("tensor.pow.tensor_exponent", "a ** Tensor(...) raises TypeError (numbers only)", "hidden")
def test_pow_tensor_exponent(student, rng):
    _define(student, x=np.array([1.0, 2.0]))
    student.raises("x ** Tensor([2.0, 2.0])", "TypeError")
    shape = tuple(_sizes(rng, 2))
    student.raises(f"{IMPORT}\nTensor({literal(grid(rng, shape, 1, 40))}) ** "
                   f"Tensor({literal(grid(rng, shape, 1, 12))})", "TypeError")


@check("tensor.matmul.vectorised", "a @ b is about as fast as the reference (no Python loops)",
       "hidden")
def test_matmul_vectorised(student, reference, rng):
    work = Workload(IMPORT, lambda rng: {name: rng.normal(size=(256, 256)).astype(np.float32)
                                         for name in ("l", "r")},
                    "Tensor(l) @ Tensor(r)", what="Tensor(a) @ Tensor(b) of two (256, 256)",
                    rtol=1e-3, atol=1e-3)   # proof of work: any float32 summation order passes
    ratio = ratio_to_reference(student, reference, rng, work)
    assert ratio <= 5.0, f"a @ b took {ratio:.1f}x the reference's time (at most 5x passes)"


@check("tensor.reduce.axes", "sum(), mean() and max() reduce any axis of a 3-D tensor "
       "(negative too, a tuple of axes, or all) with and without keepdims", "hidden")
def test_reduce_axes(student, rng):
    for generator in (fixed(23), rng):
        cases = Cases(IMPORT)
        for shape, axis, keepdims in reduction_cases(generator) + axis_tuple_cases(generator):
            x = floats(generator, shape)
            name = cases.tensor(x)
            for op in ("sum", "mean", "max"):
                cases.expect(f"{name}.{op}(axis={axis}, keepdims={keepdims})",
                             getattr(x.astype(np.float64), op)(axis=axis, keepdims=keepdims),
                             f"a tensor of shape {shape}", dtype=np.float32)
        cases.check(student, rtol=1e-5, atol=1e-5)


DTYPE_OPS = {"{x} + {y}": lambda x, y: x + y, "{x} - {y}": lambda x, y: x - y,
             "{x} * {y}": lambda x, y: x * y, "{x} / {y}": lambda x, y: x / y,
             "-{x}": lambda x, y: -x, "{x} ** 3": lambda x, y: x ** 3,
             "{x} ** 0.5": lambda x, y: x ** 0.5, "{x} @ {y}.T": lambda x, y: x @ y.T,
             "{x}.exp()": lambda x, y: np.exp(x), "{x}.log()": lambda x, y: np.log(x),
             "{x}.sqrt()": lambda x, y: np.sqrt(x), "{x}.sum()": lambda x, y: x.sum(),
             "{x}.mean(axis=0)": lambda x, y: x.mean(axis=0),
             "{x}.max(axis=1, keepdims=True)": lambda x, y: x.max(axis=1, keepdims=True),
             "{x}.reshape(-1)": lambda x, y: x.reshape(-1), "{x}.transpose()": lambda x, y: x.T,
             "{x}[1:, ::2]": lambda x, y: x[1:, ::2]}


@check("tensor.dtype.kept", "Tensor(..., dtype=np.float64) stays float64 through every op, and "
       "float32 tensors never turn into float64", "hidden")
def test_dtype_kept(student, rng):
    cases = Cases(IMPORT)
    for dtype in (np.float64, np.float32):
        x, y = (np.abs(floats(rng, (3, 4), dtype=dtype)) + dtype(0.5) for _ in range(2))
        names = {"x": cases.tensor(x), "y": cases.tensor(y)}
        for form, numpy_op in DTYPE_OPS.items():
            cases.expect(form.format(**names), numpy_op(x, y), f"a {np.dtype(dtype).name} tensor",
                         dtype=dtype)
    cases.check(student, rtol=1e-5, atol=1e-6)


@check("tensor.math.extremes", "exp(), log(), sqrt() and / match NumPy on extreme float32 "
       "inputs (exp of -1000, log of 1e-30, division by 1e-20)", "hidden")
def test_math_extremes(student, rng):
    cases = Cases(IMPORT)
    low = np.float32(10.0) ** rng.uniform(-30, -20, size=4).astype(np.float32)
    x = np.concatenate([[-1000.0, -100.0, 0.0, 80.0], rng.uniform(-1000, 80, 4)]).astype(np.float32)
    p = np.concatenate([low, [1e-30, 1.0, 1e30, 3e38]]).astype(np.float32)
    x_name, p_name = cases.tensor(x), cases.tensor(p)
    wide_x, wide_p = x.astype(np.float64), p.astype(np.float64)
    cases.expect(f"{x_name}.exp()", np.exp(wide_x), "exp of values from -1000 to 80")
    cases.expect(f"{p_name}.log()", np.log(wide_p), "log of values from 1e-30 to 3e38")
    cases.expect(f"{p_name}.sqrt()", np.sqrt(wide_p), "sqrt of values from 1e-30 to 3e38")
    cases.expect(f"1.0 / {p_name}[:5]", 1.0 / wide_p[:5], "1 / tiny values")
    cases.check(student, dtype=np.float32, rtol=1e-5, atol=1e-30)   # float32 denormals round


@check("tensor.shape_ops.dims", "transpose(dim0, dim1) with negative dims, reshape with -1 "
       "anywhere and NumPy-style slicing work on 4-D tensors", "hidden")
def test_shape_ops_dims(student, rng):
    for generator in (fixed(24), rng):
        shape = tuple(int(n) for n in generator.choice(np.arange(2, 7), size=4, replace=False))
        x = floats(generator, shape)
        cases = Cases(IMPORT)
        name = cases.tensor(x)
        for dim0, dim1 in ((0, 3), (1, -1), (-3, -2), (2, 0)):
            cases.expect(f"{name}.transpose({dim0}, {dim1})", np.swapaxes(x, dim0, dim1),
                         f"a tensor of shape {shape}")
        for target in ((-1, shape[3]), (shape[0], -1, shape[2]), (shape[0] * shape[1], -1)):
            cases.expect(f"{name}.reshape{target}", x.reshape(target), f"a tensor of shape {shape}")
        for index, expected in (("[:, ::-1]", x[:, ::-1]), ("[..., 1]", x[..., 1]),
                                ("[-1, 1:, :, ::2]", x[-1, 1:, :, ::2]), ("[None, 0]", x[None, 0])):
            cases.expect(f"{name}{index}", expected, f"a tensor of shape {shape}")
        cases.check(student, dtype=np.float32, rtol=0, atol=0)


RECORDED_OPS = [("a + b", "add", ["a", "b"]), ("a - b", "sub", ["a", "b"]),
                ("a * b", "mul", ["a", "b"]), ("a / b", "div", ["a", "b"]),
                ("2 - a", "sub", ["?", "a"]), ("-a", "neg", ["a"]), ("a ** 3", "pow", ["a"]),
                ("a @ m", "matmul", ["a", "m"]), ("m.T @ b.T", "matmul", ["?", "?"]),
                ("b.exp()", "exp", ["b"]), ("b.log()", "log", ["b"]), ("b.sqrt()", "sqrt", ["b"]),
                ("a.sum(axis=0)", "sum", ["a"]), ("a.mean()", "mean", ["a"]),
                ("a.max(axis=1, keepdims=True)", "max", ["a"]), ("a.reshape(-1)", "reshape", ["a"]),
                ("a.transpose()", "transpose", ["a"]), ("a[1:, 0]", "getitem", ["a"])]


SAVED_ARGUMENTS = [(f"a.{op}({args})", ["axis", "keepdims"], values) for op in ("sum", "mean", "max")
                   for args, values in (("axis=0", [0, False]), ("axis=1, keepdims=True", [1, True]),
                                        ("keepdims=True", [None, True]), ("", [None, False]))]
SAVED_ARGUMENTS += [("a.transpose(1, 0)", ["dim0", "dim1"], [1, 0])]


@check("tensor.ops.recorded", "every op on tensors that require grad records itself for autograd "
       "(through Tensor._from_op: its own op name, its inputs in order, and the arguments its "
       "docstring says it saves)", "hidden")
def test_ops_recorded(student, rng):
    a, m = floats(rng, (3, 4)), floats(rng, (4, 2))
    b = np.abs(floats(rng, (3, 4))) + np.float32(0.5)
    setup = (f"{IMPORT}\nleaves = {{name: Tensor(np.array(value, dtype=np.float32), "
             f"requires_grad=True) for name, value in "
             f"{ {'a': a.tolist(), 'b': b.tolist(), 'm': m.tolist()} }.items()}}\n"
             "a, b, m = leaves['a'], leaves['b'], leaves['m']")
    assert_recorded(student, setup, [(f"_recorded({expr}, leaves)", [op, parents],
                                      "[op, parents] recorded") for expr, op, parents in RECORDED_OPS]
                    + [(f"_saved({expr}, {keys})", values, f"ctx.saved {keys}")
                       for expr, keys, values in SAVED_ARGUMENTS])


@check("tensor.init.from_tensor", "Tensor(t) of a Tensor holds t's numbers; "
       "Tensor(t, dtype=np.float64) converts them", "hidden")
def test_init_from_tensor(student, rng):
    x = floats(rng, (2, 3))
    cases = Cases(IMPORT)
    name = cases.tensor(x)
    cases.expect(f"Tensor({name})", x, "a Tensor of a float32 Tensor", dtype=np.float32)
    cases.expect(f"Tensor({name}, dtype=np.float64)", x.astype(np.float64),
                 "a float64 Tensor of a float32 Tensor", dtype=np.float64)
    cases.check(student, rtol=0, atol=0)
