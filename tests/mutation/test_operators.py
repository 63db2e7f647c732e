"""Each mutation operator makes the change it names, only inside solution blocks."""

import textwrap

import pytest

from workers.mutation.operators import OPERATORS, generate, solution_ranges

SNIPPET = textwrap.dedent('''\
    import numpy as np


    def outside(x):
        return x + 1


    class Layer:
        def forward(self, x, n):
            ### BEGIN SOLUTION
            total = x.sum(axis=-1, keepdims=True) * 2.0
            if n < 3 and not self.frozen:
                total += x[0] - x[1:n]
            for i in range(1, n):
                total = total + x.T
            scaled = np.copy(total)
            return scaled @ x
            ### END SOLUTION
    ''')


def changed_lines(mutant):
    """The mutated lines, stripped: what the operator did."""
    before, after = SNIPPET.splitlines(), mutant.source.splitlines()
    return [new.strip() for old, new in zip(before, after) if old != new]


@pytest.fixture(scope="module")
def mutants():
    return generate(SNIPPET, "tinytorch/core/layers.py")


def of(mutants, operator):
    return {line for m in mutants if m.operator == operator for line in changed_lines(m)}


@pytest.mark.parametrize("operator, expected", [
    ("arithmetic", "total = x.sum(axis=-1, keepdims=True) / 2.0"),
    ("arithmetic", "total -= x[0] - x[1:n]"),
    ("arithmetic", "return scaled * x"),
    ("comparison", "if n <= 3 and not self.frozen:"),
    ("logic", "if n < 3 or not self.frozen:"),
    ("logic", "if n < 3 and self.frozen:"),
    ("off_by_one", "total += x[1] - x[1:n]"),
    ("off_by_one", "total += x[0] - x[2:n]"),
    ("off_by_one", "total += x[0] - x[1:n - 1]"),
    ("off_by_one", "for i in range(1, n - 1):"),
    ("off_by_one", "for i in range(2, n):"),
    ("argument_dropped", "total = x.sum(axis=-1, ) * 2.0"),
    ("argument_dropped", "total = x.sum(keepdims=True) * 2.0"),
    ("axes_swapped", "total = x.sum(axis=0, keepdims=True) * 2.0"),
    ("axes_swapped", "total = total + x"),
    ("constant", "total = x.sum(axis=-1, keepdims=True) * 4.0"),
    ("constant", "if n < 4 and not self.frozen:"),
    ("statement_deleted", "pass"),
    ("return_intermediate", "return scaled"),
    ("copy_inplace", "scaled = total"),
    ("copy_inplace", "total = total + (x[0] - x[1:n])"),
    ("copy_inplace", "total += x.T"),
])
def test_operator_makes_its_change(mutants, operator, expected):
    assert expected in of(mutants, operator)


def test_every_operator_is_exercised_and_each_mutant_compiles(mutants):
    assert {m.operator for m in mutants} == set(OPERATORS)
    for mutant in mutants:
        compile(mutant.source, mutant.file, "exec")


def test_code_outside_solution_blocks_is_never_mutated(mutants):
    first, last = solution_ranges(SNIPPET)[0]
    assert (first, last) == (11, 17)
    for mutant in mutants:
        assert first <= mutant.line <= last
        assert mutant.source.splitlines()[:first - 1] == SNIPPET.splitlines()[:first - 1]


def test_mutants_are_distinct_named_and_located(mutants):
    assert len({m.source for m in mutants}) == len(mutants)
    assert len({m.id for m in mutants}) == len(mutants)
    deleted = [m for m in mutants if m.operator == "statement_deleted"]
    assert {m.function for m in mutants} == {("Layer", "forward")}
    assert any(m.description == "`scaled = np.copy(total)` -> `pass`" for m in deleted)
    assert mutants[0].id.endswith("@layers.py:11")


def test_a_file_without_solution_blocks_has_no_mutants():
    assert generate("def f(x):\n    return x + 1\n", "tinytorch/core/setup.py") == []
