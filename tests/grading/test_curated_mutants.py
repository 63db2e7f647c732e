"""The curated mutant corpus of modules 02-09 (``mutants/<module>.yaml``) stays usable.

Each entry is a realistic student bug: an exact edit inside one solution block of its own
module's file.  A reference refactor that moves or changes the text would silently disarm a
mutant, so every entry must still match exactly once, inside a solution block, and give a
file that compiles and differs from the reference.  (Whether the suites kill them is measured
by ``autograder suite mutate``.)
"""

import re

import pytest
import yaml

from tests.grading.submission_tars import CHECKOUT, MODULE_IDS, module_path

MODULES = MODULE_IDS[1:9]   # 02_tensor .. 09_spatial
FIELDS = {"id", "description", "file", "find", "replace"}
SNAKE = re.compile(r"[a-z][a-z0-9_]*\Z")


def solution_block_of(text, start, end):
    """Index of the solution block holding ``text[start:end]`` whole, or None."""
    for index, block in enumerate(re.finditer(r"### BEGIN SOLUTION\n.*?### END SOLUTION",
                                              text, re.S)):
        if block.start() <= start and end <= block.end():
            return index
    return None


@pytest.mark.parametrize("module", MODULES)
def test_each_curated_mutant_is_one_edit_inside_a_solution_block_of_its_module(module):
    mutants = yaml.safe_load((CHECKOUT / "mutants" / f"{module}.yaml").read_text())
    assert len(mutants) >= 8
    ids = [m["id"] for m in mutants]
    assert len(set(ids)) == len(ids), "mutant ids repeat"
    for mutant in mutants:
        name = mutant["id"]
        assert set(mutant) == FIELDS, name
        assert SNAKE.match(name), name
        assert mutant["description"].strip() and "\n" not in mutant["description"], name
        assert mutant["file"] == module_path(module), name
        text = (CHECKOUT / mutant["file"]).read_text()
        assert text.count(mutant["find"]) == 1, f"{name}: find must occur exactly once"
        start = text.index(mutant["find"])
        assert solution_block_of(text, start, start + len(mutant["find"])) is not None, name
        mutated = text.replace(mutant["find"], mutant["replace"])
        assert mutated != text, name
        compile(mutated, mutant["file"], "exec")
