"""The curated corpus (``mutants/<module>.yaml``): every bug in it is caught by its module's
suite, and a malformed entry is refused with its file, line and field."""

import textwrap

import pytest

from autograder.yaml_files import ConfigError
from harness.checkpoints.registry import modules_with_suites
from workers.module_files import files_of
from workers.mutation.corpus import CORPUS_DIR, load_corpus
from workers.mutation.run import KILLED, SURVIVED, module_mutants, run_tasks

ACTIVATIONS = "tinytorch/core/activations.py"


def curated_tasks():
    return [(module_id, mutant) for module_id in modules_with_suites()
            for mutant in module_mutants(module_id, generated=False)]


def test_every_curated_mutant_is_killed_by_its_own_module():
    """The course's promise: each of these realistic bugs costs points in its module.  One
    pool for all modules; each mutant's suite stops at its first failing check and skips
    timing checks unless the others let it through."""
    results = run_tasks(curated_tasks(), jobs=2)
    survivors = [f"{r.mutant.file}: {r.mutant.id} ({r.status} {r.detail})"
                 for r in results if r.status != KILLED]
    assert not survivors, "curated mutants not caught:\n" + "\n".join(survivors)


def write_corpus(folder, text):
    (folder / "03_activations.yaml").write_text(textwrap.dedent(text))
    return folder


def load(folder):
    files = files_of("03_activations")
    texts = {path: (CORPUS_DIR.parent / path).read_text() for path in files}
    return load_corpus("03_activations", files, texts.__getitem__, folder)


def test_the_runner_tells_a_caught_bug_from_a_missed_one(tmp_path):
    """A bug the suite catches is killed; a change no check can see (relu's operands of
    ``np.maximum`` swapped: the same function) survives and is reported so."""
    corpus = write_corpus(tmp_path, """\
        - id: relu_as_abs
          description: relu returns |x|
          file: tinytorch/core/activations.py
          find: "np.maximum(x.data, 0)"
          replace: "np.abs(x.data)"
        - id: relu_operands_swapped
          description: relu computes np.maximum(0, x)
          file: tinytorch/core/activations.py
          find: "np.maximum(x.data, 0)"
          replace: "np.maximum(0, x.data)"
        """)
    mutants = load(corpus)
    assert [m.operator for m in mutants] == ["curated", "curated"]
    results = run_tasks([("03_activations", m) for m in mutants], jobs=2)
    assert [r.status for r in results] == [KILLED, SURVIVED]
    assert results[0].killed_by.startswith("activations.relu")
    assert "+        return Tensor._from_op(np.maximum(0, x.data)" in results[1].diff


@pytest.mark.parametrize("entry, where, message", [
    ('- {id: a, description: d, file: tinytorch/core/tensor.py, find: x, replace: y}',
     ":1: [0].file:", "not a file of 03_activations"),
    ('- {id: a, description: d, file: ' + ACTIVATIONS + ', find: "return", replace: y}',
     ":1: [0].find:", "it must occur exactly once"),
    ('- {id: a, description: d, file: ' + ACTIVATIONS + ', find: "import numpy as np",'
     ' replace: y}', ":1: [0].find:", "outside every solution block"),
    ('- {id: Bad-Id, description: d, file: ' + ACTIVATIONS + ', find: x, replace: y}',
     ":1: [0].id:", "should match pattern"),
    ('- {id: a, description: d, file: ' + ACTIVATIONS + ', find: x, replace: x}',
     ":1: [0]", "changes nothing"),
    ('- {id: a, description: d, file: ' + ACTIVATIONS + ', find: x}', ":1: [0].replace:",
     "required"),
])
def test_a_malformed_entry_is_refused_with_its_place(tmp_path, entry, where, message):
    with pytest.raises(ConfigError) as raised:
        load(write_corpus(tmp_path, entry))
    assert where in str(raised.value) and message in str(raised.value), str(raised.value)
