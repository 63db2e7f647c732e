"""Probably equivalent survivors: the reference's function, wrapped, compares itself with the
mutant's on the suite's arguments and random variations of them."""

import numpy as np
import pytest

from workers.mutation.differential import MutantDiffers, differential
from workers.mutation.equivalence import HELPER_MODULE, differential_files, line_tripwire
from workers.mutation.operators import generate
from workers.mutation.run import (EQUIVALENT, SURVIVED, module_mutants, performance_checks,
                                  run_mutant)
from workers.package_files import files_of_checkout, tar_of
from harness.backends.local import LocalBackend
from harness.checkpoints.registry import declared_checks
from harness.suite import REFERENCE_ROOT, run_suite

SOURCE = '''"""A module."""
from __future__ import annotations

import numpy as np


class Scale:
    @staticmethod
    def apply(x, k):
        ### BEGIN SOLUTION
        return x * k
        ### END SOLUTION
'''


def scale(x, k):
    return x * k


def test_an_equivalent_mutant_passes_through():
    wrapped = differential(lambda x, k: k * x)(scale)
    assert np.array_equal(wrapped(np.arange(3.0), 2.0), [0.0, 2.0, 4.0])


def test_a_mutant_that_differs_only_on_other_inputs_is_caught():
    """On the suite's own input (zeros) both agree; a random variation tells them apart."""
    wrapped = differential(lambda x, k: x * k + x * x)(scale)
    with pytest.raises(MutantDiffers):
        wrapped(np.zeros(3), 2.0)


def test_an_in_place_update_of_an_argument_is_caught():
    def in_place(x, k):
        x *= k
        return x
    with pytest.raises(MutantDiffers):
        differential(in_place)(scale)(np.ones(3), 2.0)


def test_the_differential_file_wraps_the_reference_function():
    (mutant,) = [m for m in generate(SOURCE, "tinytorch/core/scale.py")
                 if m.operator == "arithmetic"]
    files = differential_files(SOURCE, mutant)
    text = files["tinytorch/core/scale.py"]
    assert f"tinytorch/{HELPER_MODULE}.py" in files
    assert text.index("from __future__") < text.index("import differential as _tt_differential")
    assert "def _tt_mutant_apply(x, k):" in text and "return x / k" in text
    assert "@staticmethod\n    @_tt_differential(_tt_mutant_apply)\n    def apply" in text
    compile(text, "scale.py", "exec")


def test_a_truly_equivalent_generated_mutant_is_reported_as_such():
    """Sigmoid's two branches agree at 0, so ``x >= 0`` -> ``x > 0`` cannot be caught."""
    (mutant,) = [m for m in module_mutants("03_activations", curated=False)
                 if m.operator == "comparison" and "x.data >= 0" in m.description]
    result = run_mutant("03_activations", mutant, files_of_checkout(REFERENCE_ROOT), "local")
    assert result.status == EQUIVALENT


def test_a_function_the_suite_never_calls_is_untested_not_equivalent():
    """The tripwire version of a function raises on any call: the suite passes with it only
    when it never calls the function."""
    (mutant,) = [m for m in generate(SOURCE, "tinytorch/core/scale.py")
                 if m.operator == "arithmetic"]
    text = differential_files(SOURCE, mutant, tripwire=True)["tinytorch/core/scale.py"]
    assert 'def _tt_mutant_apply(x, k):\n        raise RuntimeError("mutation tripwire' in text
    assert "return x * k" in text   # the reference's own body stays


_RNG = np.random.default_rng(0)


def noisy(x):
    return x + _RNG.random(x.shape)


def test_both_versions_draw_the_same_numbers_from_a_module_generator():
    """A module-level generator is rewound between the two calls, so random draws alone do
    not tell two versions apart."""
    def same_noise(x):
        return _RNG.random(x.shape) + x
    differential(same_noise)(noisy)(np.zeros(4))


def test_the_line_tripwire_raises_just_before_the_mutated_line():
    text = line_tripwire(SOURCE, 11)
    assert 'raise RuntimeError("mutation tripwire")\n        return x * k' in text
    assert line_tripwire("x = (1,\n     2)\n", 2) is None   # inside an expression


SETUP = "tinytorch/core/setup.py"
UNTAKEN = ('    ### BEGIN SOLUTION\n    try:\n        from threadpoolctl',
           '    ### BEGIN SOLUTION\n    if os.environ.get("TT_NEVER_SET"):\n'
           '        return os.environ["TT_NEVER_SET"]\n    try:\n        from threadpoolctl')


def test_a_branch_the_suite_never_takes_is_untested_not_equivalent():
    """A branch of blas_info that 01_setup's suite never takes (an environment variable it
    never sets): deleting its ``return`` is invisible, and reported as such."""
    files = files_of_checkout(REFERENCE_ROOT)
    text = files[SETUP].decode()
    assert text.count(UNTAKEN[0]) == 1
    files[SETUP] = text.replace(*UNTAKEN).encode()
    (mutant,) = [m for m in generate(files[SETUP].decode(), SETUP)
                 if m.operator == "statement_deleted" and m.description.startswith(
                     "`return os.environ")]
    result = run_mutant("01_setup", mutant, files, "local")
    assert result.status == SURVIVED and "never reaches line" in result.detail


def test_numpy_scalars_are_compared_by_value():
    """A sampler returns ``np.int64``: a different token is a difference."""
    def argmax(p):
        return np.argmax(p)
    with pytest.raises(MutantDiffers):
        differential(lambda p: np.argmin(p))(argmax)(np.array([0.1, 0.7, 0.2]))


def draw(logits, rng):
    return int(np.argmax(logits + rng.random(logits.shape)))


def test_a_generator_argument_is_compared_by_its_state():
    """Each version gets its own copy of a Generator argument: equal draws leave equal states
    (equivalent), and drawing more leaves another state (differs)."""
    logits = np.array([0.1, 0.7, 0.2])
    same = differential(lambda p, g: int(np.argmax(g.random(p.shape) + p)))(draw)
    same(logits, np.random.default_rng(0))
    one_more = differential(lambda p, g: int(np.argmax(p + g.random(p.shape) + 0 * g.random())))
    with pytest.raises(MutantDiffers):
        one_more(draw)(logits, np.random.default_rng(0))


def test_the_correctness_pass_really_leaves_out_the_timed_checks():
    """Mutants are first judged without the checks timed against the reference (and the
    equivalence pass never runs them): their node ids must name the hidden suite's checks as
    pytest does, or nothing is left out."""
    timed = performance_checks("16_kernels")
    assert timed and all(node.startswith("workers/checkpoints/hidden/") for node in timed)
    results = run_suite("16_kernels", tar_of(files_of_checkout(REFERENCE_ROOT)), LocalBackend(),
                        deselect=timed, job_seed=3)
    ran = {check["id"] for check in results["checks"]}
    assert ran and all(check["outcome"] == "passed" for check in results["checks"])
    assert not {check_id for check_id in ran if check_id.endswith((".speed", ".memory"))}
    assert len(ran) == len(declared_checks("16_kernels")) - len(timed)
