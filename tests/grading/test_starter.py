"""Starter generation on small fixtures and on the real tinytorch, and the self-check."""

import subprocess
import sys
import textwrap

import pytest

from autograder.starter import BEGIN, StarterError, strip_solutions, verify_imports
from tests.grading.submission_tars import CHECKOUT
from harness.checkpoints.registry import declared_checks

FIXTURE = textwrap.dedent('''\
    class Box:
        def area(self, w, h):
            """Width times height.

            TODO: multiply the two sides.
            """
            check = w >= 0
            ### BEGIN SOLUTION
            return w * h
            ### END SOLUTION

        def clipped(self, x):
            if x > 0:
                ### BEGIN SOLUTION
                return min(x, 1)
                ### END SOLUTION
            return 0
    ''')


def test_blocks_become_a_raise_at_their_indentation_keeping_docstrings():
    stubbed = strip_solutions(FIXTURE)
    assert "TODO: multiply the two sides." in stubbed and "check = w >= 0" in stubbed
    assert '        raise NotImplementedError("Box.area: your code here")\n' in stubbed
    assert ('            raise NotImplementedError("Box.clipped: your code here")\n'
            "        return 0\n") in stubbed
    assert "w * h" not in stubbed and "min(x, 1)" not in stubbed and BEGIN not in stubbed
    namespace = {}
    exec(compile(stubbed, "<starter>", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="Box.area"):
        namespace["Box"]().area(2, 3)
    assert namespace["Box"]().clipped(-1) == 0


@pytest.mark.parametrize("source, reason", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", r"<t>:2: BEGIN SOLUTION is never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", r"<t>:3: END SOLUTION without a BEGIN"),
    ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n", r"<t>:1: .*inside a function body"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
     "    ### END SOLUTION\n", r"<t>:3: BEGIN SOLUTION inside the block opened at line 2"),
])
def test_malformed_fences_name_file_and_line(source, reason):
    with pytest.raises(StarterError, match=reason):
        strip_solutions(source, "<t>")


def test_real_starter_has_no_solutions_no_hidden_checks_and_imports(starter_dir):
    sources = list((starter_dir / "tinytorch").rglob("*.py"))
    assert len(sources) >= 10
    assert not any(BEGIN in p.read_text() for p in sources)
    assert "raise NotImplementedError" in (starter_dir / "tinytorch/core/tensor.py").read_text()
    assert not (starter_dir / "workers").exists()   # the hidden suites are server-only
    assert (starter_dir / "harness/checkpoints/public/test_02_tensor.py").is_file()
    assert not list(starter_dir.rglob("__pycache__"))
    assert (starter_dir / "README.md").is_file() and (starter_dir / ".gitignore").is_file()
    verify_imports(starter_dir)


def test_starter_refuses_to_overwrite_a_non_empty_directory(starter_dir):
    from autograder.starter import generate_starter
    with pytest.raises(StarterError, match="not empty"):
        generate_starter(starter_dir)


def selfcheck(repo, *args):
    return subprocess.run([sys.executable, "-m", "harness.selfcheck", *args, "--no-color"],
                          cwd=repo, capture_output=True, text=True, timeout=120)


def test_self_check_in_the_starter_reports_zero_and_explains(starter_dir):
    done = selfcheck(starter_dir, "02")
    assert done.returncode == 1, done.stderr
    public = sum(c.visibility == "public" for c in declared_checks("02_tensor"))
    assert f"score 0% (0 of {public} public checks passed)" in done.stdout
    assert "FAIL tensor.add.broadcast" in done.stdout
    assert "raised NotImplementedError" in done.stdout
    assert "| Tensor.__init__: your code here" in done.stdout


def test_self_check_runs_every_public_suite_shipped_in_the_starter(starter_dir):
    shipped = sorted(p.stem[len("test_"):] for p in
                     (starter_dir / "harness/checkpoints/public").glob("test_*.py"))
    done = selfcheck(starter_dir)
    assert done.returncode == 1 and "could not run" not in done.stdout, done.stdout[-2000:]
    assert [line.split()[1] for line in done.stdout.splitlines()
            if line.startswith("Module ")] == shipped
    assert done.stdout.count("score 0%") == len(shipped)


def test_self_check_on_the_reference_passes(starter_dir):
    done = selfcheck(CHECKOUT, "tensor", "--repo", str(CHECKOUT))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "score 100%" in done.stdout and "hidden" not in done.stdout
