"""The walls between the sides of the tree, checked on every CI run (docs/ARCHITECTURE.md).

``lint-imports`` checks the contracts in pyproject.toml; the sandbox gets a stricter test of its
own, because "standard library and NumPy only" is an allow-list, which import-linter's
forbidden contracts cannot say.
"""
import ast
import os
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
SANDBOX = CHECKOUT / "sandbox"
ALLOWED = frozenset(sys.stdlib_module_names) | {"numpy", "sandbox"}
# The milestone driver trains the student's model: inside its functions, and only there, it
# imports the student's tinytorch and the course programs installed beside it in the runner.
STUDENT_CODE = {"milestone_driver.py": frozenset({"tinytorch", "milestones"})}


def imports(source, filename):
    """``(top-level package, line, inside a function)`` of every import in ``source``."""
    tree = ast.parse(source, filename=filename)
    in_function = {id(node) for fn in ast.walk(tree)
                   if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for node in ast.walk(fn)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["sandbox" if node.level else node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0], node.lineno, id(node) in in_function


def outside_imports(source, filename):
    """``file:line: package`` of each import the sandbox may not make."""
    extra = STUDENT_CODE.get(Path(filename).name, frozenset())
    return [f"{filename}:{line}: {name}" for name, line, nested in imports(source, filename)
            if name not in ALLOWED and not (nested and name in extra)]


def test_sandbox_modules_import_only_the_standard_library_and_numpy():
    modules = sorted(SANDBOX.glob("*.py"))
    assert {"runner.py", "wire.py", "milestone_driver.py"} <= {m.name for m in modules}
    bad = [hit for m in modules for hit in outside_imports(m.read_text(), str(m))]
    assert not bad, "sandbox code imports outside the standard library and NumPy:\n" + "\n".join(bad)


def test_the_sandbox_check_catches_a_third_party_or_student_import():
    source = "import json\nimport requests\ndef f():\n    from tinytorch import Tensor\n"
    assert outside_imports(source, "sandbox/runner.py") == [
        "sandbox/runner.py:2: requests", "sandbox/runner.py:4: tinytorch"]
    assert outside_imports(source, "sandbox/milestone_driver.py") == [
        "sandbox/milestone_driver.py:2: requests"]
    assert outside_imports("from tinytorch import Tensor\n", "sandbox/milestone_driver.py") == [
        "sandbox/milestone_driver.py:1: tinytorch"]


def test_import_contracts_hold():
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    done = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                           " lint_imports_command()", "--no-cache"],
                          cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "0 broken" in done.stdout, done.stdout[-4000:] + done.stderr
