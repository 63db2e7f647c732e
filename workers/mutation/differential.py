"""Runs inside the package under test (copied in as ``tinytorch/_tt_differential.py``): the
reference function, wrapped, also calls the mutant's version on the same arguments and on
randomly perturbed copies of them, and raises :class:`MutantDiffers` at the first
difference in result, exception type, or the state left in the arguments.

A survivor whose suite still passes with this wrapper behaves like the reference on every
input the suite gives plus these random variations: "probably equivalent".  Standard library
and NumPy only, as the runner.
"""

import copy
import functools
import inspect
import random
import threading

import numpy as np

TRIALS = 8           # the suite's own arguments, then seven random variations of them
MAX_COMPARED = 200   # calls compared per process; later calls just run the reference
MAX_DEPTH = 6
_state = threading.local()


class MutantDiffers(AssertionError):
    """The mutant's function gave another answer than the reference's."""


def differential(mutant):
    """Decorator for the reference function: compare with ``mutant`` on each call."""
    def wrap(reference):
        @functools.wraps(reference)
        def both(*args, **kwargs):
            compared = getattr(_state, "compared", 0)
            if not getattr(_state, "busy", False) and compared < MAX_COMPARED:
                _state.busy, _state.compared = True, compared + 1
                try:
                    _compare(reference, mutant, args, kwargs)
                finally:
                    _state.busy = False
            return reference(*args, **kwargs)
        return both
    return wrap


def _compare(reference, mutant, args, kwargs):
    rng = np.random.default_rng(getattr(_state, "compared", 0))
    for trial in range(TRIALS):
        try:
            inputs = copy.deepcopy((args, kwargs))
            if trial:
                inputs = _perturbed(inputs, rng, scale=(1.0, 0.1, 10.0, 1e3)[trial % 4], seen={})
            twin = copy.deepcopy(inputs)
        except Exception as exc:  # noqa: BLE001 - arguments we cannot copy: cannot judge
            raise MutantDiffers(f"cannot copy the arguments to compare: {exc!r}") from None
        want = _outcome(reference, inputs)
        got = _outcome(mutant, twin)
        if not _same(want, got, 0):
            raise MutantDiffers(f"the mutant differs from the reference (trial {trial})")


def _outcome(function, inputs):
    """(result or exception type, arguments afterwards), with the same random streams: the
    global ones and the module's own generators (e.g. a module-level ``_rng``)."""
    states = np.random.get_state(), random.getstate()
    generators = [g for g in getattr(inspect.unwrap(function), "__globals__", {}).values()
                  if isinstance(g, np.random.Generator)]
    saved = [g.bit_generator.state for g in generators]
    try:
        result = function(*inputs[0], **inputs[1])
    except Exception as exc:  # noqa: BLE001 - an exception is an outcome to compare
        result = type(exc)
    finally:
        np.random.set_state(states[0])
        random.setstate(states[1])
        for generator, state in zip(generators, saved):
            generator.bit_generator.state = state
    return result, inputs


def _perturbed(value, rng, scale, seen):
    """``value`` with every float (array element) changed at random, inside containers and
    objects; the copies are ours, so objects are changed in place."""
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
        noise = rng.standard_normal(value.shape)
        return (value * (1 + 0.1 * noise) + scale * noise).astype(value.dtype)
    if isinstance(value, float):
        return value * (1 + 0.1 * float(rng.standard_normal()))
    if isinstance(value, (list, tuple)):
        return type(value)(_perturbed(v, rng, scale, seen) for v in value) \
            if type(value) in (list, tuple) else value
    if isinstance(value, dict):
        return {k: _perturbed(v, rng, scale, seen) for k, v in value.items()}
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict) and id(value) not in seen and len(seen) < 10_000:
        seen[id(value)] = value
        for key, item in list(attributes.items()):
            attributes[key] = _perturbed(item, rng, scale, seen)
    return value


def _same(a, b, depth):
    if depth > MAX_DEPTH:
        return True
    arrays = (np.ndarray, np.generic)   # NumPy scalars (np.int64, np.bool_...) too
    if isinstance(a, arrays) or isinstance(b, arrays):
        return isinstance(a, arrays) and isinstance(b, arrays) and \
            _arrays_same(np.asarray(a), np.asarray(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, complex)):
        return bool(np.isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, (int, str, bytes, bool, type(None), type)):
        return a == b
    if isinstance(a, np.random.Generator):   # no __dict__, and == is identity
        return _same(a.bit_generator.state, b.bit_generator.state, depth + 1)
    attributes = getattr(a, "__dict__", None)
    if isinstance(attributes, dict):
        return _same(attributes, b.__dict__, depth + 1)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - no comparison: same type is all we can say
        return True


def _arrays_same(a, b):
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if np.issubdtype(a.dtype, np.inexact):
        return bool(np.allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=True))
    return bool(np.array_equal(a, b))
