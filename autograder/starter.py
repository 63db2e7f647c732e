"""Writes the student starter repo from the reference ``tinytorch/``.

Every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block becomes a ``raise
NotImplementedError`` at the block's indentation; docstrings and TODO hints before the block
stay.  The starter also carries what the self-check needs (the runner, the local backend, the
checkpoint plugin and the *public* checks, never the hidden ones), a README and a .gitignore.

    python -m autograder.starter OUT_DIR
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import click

REPO_ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUBBED_PACKAGES = ("tinytorch", "milestones")
# What the self-check runs on: the sandbox, harness and contract packages, whole folders (the
# hidden suites live under workers/, which never leaves).
SELF_CHECK_PACKAGES = ("sandbox", "harness", "contract")
GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n.venv/\n/data/\n"
README = """\
# TinyTorch: your repo

You are rebuilding a small PyTorch in NumPy, one module at a time. Every function that
says `raise NotImplementedError` is yours to write: read its docstring (the TODO hints
are there), then replace the `raise` line with your code.

## Set up

    python3 -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt

## Check your work

    python -m tinytorch check 02          # one module (02_tensor)
    python -m tinytorch check             # every module with public checks

The self-check runs the public checks on your code and prints each one with its result
and the module's score. The grader runs the same checks plus hidden ones (edge cases,
performance against the reference), so passing here is necessary but not sufficient.

## Hand in

    git add -A && git commit -m "module 02" && git push

Each push is graded; results appear on the course site. Do not edit `sandbox/` or `harness/`: the
grader uses its own copy.
"""


class StarterError(ValueError):
    """The reference cannot be turned into a starter (names file and line)."""


def strip_solutions(source, filename="<source>"):
    """Replace every solution block by a ``raise NotImplementedError`` at its indentation."""
    owners = _function_names(source, filename)
    out, opened = [], None
    for lineno, line in enumerate(source.splitlines(keepends=True), 1):
        text = line.strip()
        if text.startswith(BEGIN):
            if opened is not None:
                raise StarterError(f"{filename}:{lineno}: BEGIN SOLUTION inside the block "
                                   f"opened at line {opened}")
            indent = line[:len(line) - len(line.lstrip())]
            owner = owners.get(lineno)
            if owner is None:
                raise StarterError(f"{filename}:{lineno}: a solution block must be inside a "
                                   "function body")
            out.append(f'{indent}raise NotImplementedError("{owner}: your code here")\n')
            opened = lineno
        elif text.startswith(END):
            if opened is None:
                raise StarterError(f"{filename}:{lineno}: END SOLUTION without a BEGIN")
            opened = None
        elif opened is None:
            out.append(line)
    if opened is not None:
        raise StarterError(f"{filename}:{opened}: BEGIN SOLUTION is never closed")
    stubbed = "".join(out)
    try:
        ast.parse(stubbed, filename)
    except SyntaxError as exc:
        raise StarterError(f"{filename}:{exc.lineno}: the stubbed code does not parse: "
                           f"{exc.msg}") from None
    return stubbed


def _function_names(source, filename):
    """Line number -> qualified name of the innermost function containing it."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise StarterError(f"{filename}:{exc.lineno}: {exc.msg}") from None
    names = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                for line in range(child.lineno + 1, child.end_lineno + 1):
                    names[line] = name  # inner functions are visited later and win
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def generate_starter(out_dir, source_root=REPO_ROOT):
    """Write the starter repo into ``out_dir`` (which must not exist or be empty)."""
    out, source_root = Path(out_dir), Path(source_root)
    if out.exists() and any(out.iterdir()):
        raise StarterError(f"{out} is not empty; refusing to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    for package in STUBBED_PACKAGES:
        if (source_root / package).is_dir():
            _copy_stubbed(source_root / package, out / package)
    for package in SELF_CHECK_PACKAGES:
        for path in sorted((source_root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                _copy(path, out / path.relative_to(source_root))
    (out / "requirements.txt").write_text("numpy>=1.24\npytest>=7.4\n")
    (out / "README.md").write_text(README)
    (out / ".gitignore").write_text(GITIGNORE)
    return out


def _copy_stubbed(src, dest):
    for path in sorted(src.rglob("*")):
        if "__pycache__" in path.parts or path.is_dir() or path.suffix == ".pyc":
            continue
        target = dest / path.relative_to(src)
        if path.suffix == ".py":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(strip_solutions(path.read_text(), str(path)))
        else:
            _copy(path, target)


def _copy(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)


def verify_imports(starter_dir, python=sys.executable):
    """Import every module of the starter's ``tinytorch`` in a fresh interpreter (from the
    starter, never from an installed copy); raises StarterError naming what failed."""
    script = (
        "import importlib, pkgutil, sys\n"
        f"sys.path.insert(0, {str(Path(starter_dir).resolve())!r})\n"
        "import tinytorch\n"
        f"assert tinytorch.__file__.startswith({str(Path(starter_dir).resolve())!r}), "
        "tinytorch.__file__\n"
        "for info in pkgutil.walk_packages(tinytorch.__path__, 'tinytorch.'):\n"
        "    if not info.name.endswith('.__main__'):  # an entry point runs, it is not imported\n"
        "        importlib.import_module(info.name)\n")
    result = subprocess.run([python, "-B", "-E", "-s", "-c", script], capture_output=True, text=True,
                            cwd=starter_dir, timeout=120)
    if result.returncode != 0:
        raise StarterError(f"the starter does not import cleanly:\n{result.stderr[-2000:]}")


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--source", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=REPO_ROOT, show_default=True, help="checkout holding the reference")
def main(out_dir, source):
    """Write the student starter repo into OUT_DIR."""
    try:
        generate_starter(out_dir, source)
        verify_imports(out_dir)
    except StarterError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"starter written to {out_dir}")


if __name__ == "__main__":
    main()
