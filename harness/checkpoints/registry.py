"""Every check has a stable id, a one-line description and a visibility.

Rubrics refer to checks by id, so ids must be known without running anything: the
:func:`check` decorator takes literal strings, and :func:`declared_checks` reads them from the
suite files with :mod:`ast` (no import, no runner).
"""

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent   # public suites and pytest.ini (ships to students)
# Hidden suites are server-only, so they live under workers/ (absent from a starter repo).
SUITE_ROOTS = (SUITES_DIR, SUITES_DIR.parent.parent / "workers" / "checkpoints")
VISIBILITIES = ("public", "hidden")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")


class SuiteDefinitionError(ValueError):
    """A suite file declares its checks wrongly (names file and line)."""


@dataclass(frozen=True)
class CheckInfo:
    id: str
    description: str
    visibility: str


def check(id, description, visibility):
    """Mark a pytest function as the check ``id`` (e.g. ``"tensor.add.broadcast"``)."""
    info = _validated(id, description, visibility, where=id)

    def mark(fn):
        fn.checkpoint = info
        return fn
    return mark


def _validated(id, description, visibility, where):
    if not isinstance(id, str) or not _ID.match(id):
        raise SuiteDefinitionError(f"{where}: check id {id!r} must be dotted lower-case words")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise SuiteDefinitionError(f"{where}: check {id} needs a one-line description")
    if visibility not in VISIBILITIES:
        raise SuiteDefinitionError(f"{where}: check {id} visibility must be one of "
                                   f"{VISIBILITIES}, got {visibility!r}")
    return CheckInfo(id, description.strip(), visibility)


def suite_roots(root):
    """``root`` as a tuple of folders: one folder or several (each holding ``<visibility>/``)."""
    return (Path(root),) if isinstance(root, (str, Path)) else tuple(map(Path, root))


def suites_rootdir(root):
    """The folder the suites' pytest node ids are relative to: the one that holds every
    suite root, so that no check is named outside it (pytest names a test in a file outside
    its rootdir ``::test_name``, the same for every file)."""
    return Path(os.path.commonpath([str(folder.resolve()) for folder in suite_roots(root)]))


def suite_files(module_id, visibility=VISIBILITIES, root=SUITE_ROOTS):
    """The pytest files of a module (``<visibility>/test_<module_id>[_*].py``), public first."""
    files = []
    for vis in visibility:
        for folder in (base / vis for base in suite_roots(root)):
            files += sorted(folder.glob(f"test_{module_id}.py")) + sorted(
                folder.glob(f"test_{module_id}_*.py"))
    return files


def modules_with_suites(visibility=VISIBILITIES, root=SUITE_ROOTS):
    """Module ids that have at least one suite file, e.g. ``["02_tensor"]``."""
    found = set()
    for vis in visibility:
        for path in (p for base in suite_roots(root) for p in (base / vis).glob("test_*.py")):
            match = re.match(r"test_(\d\d_[a-z0-9]+|[a-z0-9]+)", path.stem)
            if match:
                found.add(match.group(1))
    return sorted(found)


def declared_checks(module_id, visibility=VISIBILITIES, root=SUITE_ROOTS):
    """The checks a module's suite declares, in file order, read without importing it."""
    checks, seen = [], {}
    for path in suite_files(module_id, visibility, root):
        folder_visibility = path.parent.name
        for info, line, fixtures in _checks_in_file(path):
            where = f"{path}:{line}"
            if info.visibility != folder_visibility:
                raise SuiteDefinitionError(f"{where}: check {info.id} is {info.visibility} but "
                                           f"lives in {folder_visibility}/")
            if info.visibility == "public" and "reference" in fixtures:
                raise SuiteDefinitionError(f"{where}: public check {info.id} uses the reference, "
                                           "which students do not have: make it hidden")
            if info.id in seen:
                raise SuiteDefinitionError(f"{where}: check id {info.id} already used at "
                                           f"{seen[info.id]}")
            seen[info.id] = where
            checks.append(info)
    return checks


def _checks_in_file(path):
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        decorators = [d for d in node.decorator_list
                      if isinstance(d, ast.Call) and getattr(d.func, "id", None) == "check"]
        if len(decorators) != 1:
            raise SuiteDefinitionError(f"{path}:{node.lineno}: {node.name} needs exactly one "
                                       "@check(id, description, visibility)")
        call = decorators[0]
        args = list(call.args) + [kw.value for kw in call.keywords]
        if len(args) != 3 or not all(isinstance(a, ast.Constant) for a in args):
            raise SuiteDefinitionError(f"{path}:{call.lineno}: @check takes three literal "
                                       "strings (id, description, visibility)")
        values = [a.value for a in args]
        if call.keywords:
            named = {kw.arg: kw.value.value for kw in call.keywords}
            positional = dict(zip(("id", "description", "visibility"), values[:len(call.args)]))
            named.update(positional)
            values = [named.get(k) for k in ("id", "description", "visibility")]
        fixtures = {arg.arg for arg in node.args.args}
        yield _validated(*values, where=f"{path}:{call.lineno}"), call.lineno, fixtures
