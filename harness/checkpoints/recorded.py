"""What an op leaves for autograd, asked of the student's tensors in modules 02-05.

Module 07 turns the graph into gradients, but the graph is made by the ops of 02-05 through
``Tensor._from_op``.  A bug there (a result wrapped in a fresh ``Tensor(...)`` that cuts the
graph, a copied line still recording ``"add"``, parents swapped) is invisible to forward
checks, and module 07's isolated run uses the reference's files, so it would be charged
nowhere.  These probes read only what every starter already has outside its solution blocks
(``Tensor._ctx``, ``Context.op``, ``Context.parents`` and ``Context.saved``; op names are those
the starter's ``@gradient(...)`` rules register, saved names those the op's docstring gives), so
module N stays gradable while autograd is a stub.
"""

import numpy as np

from harness.checkpoints.expect import assert_array, assert_equal
from harness.checkpoints.inputs import results

PROBES = '''def _recorded(t, leaves):
    """[op name, [name of each parent among leaves, '?' for others]], or None if t has no ctx."""
    ctx = getattr(t, "_ctx", None)
    if ctx is None:
        return None
    return [str(ctx.op), [next((n for n, leaf in leaves.items() if leaf is p), "?")
                          for p in ctx.parents]]
def _saved(t, keys):
    """The values t's op saved under each of ``keys`` (named in the op's docstring)."""
    saved = t._ctx.saved
    return [saved[k] if k in saved else "missing" for k in keys]
def _reaches(t, leaves):
    """Sorted names of the leaves that t's recorded graph leads back to."""
    seen, stack, found = set(), [t], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.update(n for n, leaf in leaves.items() if leaf is node)
        ctx = getattr(node, "_ctx", None)
        if ctx is not None:
            stack.extend(ctx.parents)
    return sorted(found)
'''


def assert_recorded(student, setup, probes):
    """Run ``setup`` and the probe helpers, then evaluate each ``(expression, expected, what)``
    of ``probes`` (expressions call ``_recorded``, ``_saved`` or ``_reaches``) and compare it
    here: an ndarray ``expected`` to float32 precision (no absolute slack: a clip to 1e-7
    must show), anything else exactly."""
    student.exec(f"{setup}\n{PROBES}")
    got = results(student, "[" + ", ".join(expr for expr, _, _ in probes) + "]", len(probes))
    for value, (expr, expected, what) in zip(got, probes):
        if isinstance(expected, np.ndarray):
            assert_array(value, expected, what=f"{what} (`{expr}`)", rtol=1e-5, atol=0)
        else:
            assert_equal(value, expected, what=f"{what} (`{expr}`)")
