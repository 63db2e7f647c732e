"""The package that tells a surviving mutant from a probably equivalent one.

The mutated file is rebuilt from the reference with the mutated function beside the
reference's, the reference's wrapped by :func:`workers.mutation.differential.differential`.
The module's suite then drives it: every call the suite makes compares both versions on the
suite's own arguments and on random variations of them (see ``differential.py``).
"""

from pathlib import Path

import libcst as cst

HELPER_MODULE = "_tt_differential"
HELPER_SOURCE = Path(__file__).with_name("differential.py").read_text()
_PREFIX = "_tt_mutant_"


class _Swap(cst.CSTTransformer):
    """Replaces the function at ``path`` with ``[mutant's renamed, reference's wrapped]``."""

    def __init__(self, path, mutant_def):
        super().__init__()
        self.path, self.mutant_def, self.scopes, self.done = path, mutant_def, [], False

    def visit_ClassDef(self, node):
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original, updated):
        self.scopes.pop()
        return updated

    def visit_FunctionDef(self, node):
        self.scopes.append(node.name.value)
        return tuple(self.scopes) != self.path   # no need to look inside the target

    def leave_FunctionDef(self, original, updated):
        here = tuple(self.scopes)
        self.scopes.pop()
        if here != self.path:
            return updated
        self.done = True
        renamed = _PREFIX + updated.name.value
        mutant = self.mutant_def.with_changes(name=cst.Name(renamed), decorators=[])
        check = cst.Decorator(cst.parse_expression(f"_tt_differential({renamed})"))
        return cst.FlattenSentinel([mutant, updated.with_changes(
            decorators=[*updated.decorators, check])])


def _find(module, path):
    """The FunctionDef at ``path`` (class names, then the function's) in ``module``."""
    body = module.body
    for n, name in enumerate(path):
        for node in body:
            if isinstance(node, (cst.ClassDef, cst.FunctionDef)) and node.name.value == name:
                if n == len(path) - 1:
                    return node
                body = node.body.body
                break
        else:
            break
    raise LookupError(f"no function {'.'.join(path)} in the mutated file")


def _after_header(module):
    """Index of the first statement after the docstring and ``from __future__`` imports."""
    index = 0
    for index, statement in enumerate(module.body):
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        docstring = isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        future = isinstance(small, cst.ImportFrom) and getattr(small.module, "value", "") \
            == "__future__"
        if not (docstring or future):
            return index
    return index + 1


_TRIPWIRE = cst.IndentedBlock(body=[cst.parse_statement(
    'raise RuntimeError("mutation tripwire: the suite calls this function")\n')])


def line_tripwire(reference_text, line):
    """The reference's text with a ``raise`` just before ``line``: the suite fails with it if
    and only if it reaches that line.  ``None`` where a statement cannot go (inside a
    multi-line expression, before ``else:``...)."""
    lines = reference_text.splitlines(keepends=True)
    indent = lines[line - 1][:len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    text = "".join([*lines[:line - 1], f'{indent}raise RuntimeError("mutation tripwire")\n',
                    *lines[line - 1:]])
    try:
        compile(text, "<tripwire>", "exec")
    except SyntaxError:
        return None
    return text


def differential_files(reference_text, mutant, package="tinytorch", tripwire=False):
    """``{path: text}`` to lay over the reference package: the differential version of the
    mutated file, and the helper module it imports.

    ``tripwire``: the mutant's function only raises, so the suite fails if and only if it
    calls the function: a function the suite never calls is not shown equivalent by a
    passing differential run, only untested.
    """
    if not mutant.function:
        raise LookupError(f"{mutant.id}: the mutated code is not inside a function")
    reference = cst.parse_module(reference_text)
    mutant_def = _find(cst.parse_module(mutant.source), mutant.function)
    if tripwire:
        mutant_def = mutant_def.with_changes(body=_TRIPWIRE)
    swap = _Swap(tuple(mutant.function), mutant_def)
    combined = reference.visit(swap)
    if not swap.done:
        raise LookupError(f"no function {'.'.join(mutant.function)} in {mutant.file}")
    at = _after_header(combined)
    helper = cst.parse_statement(
        f"from {package}.{HELPER_MODULE} import differential as _tt_differential\n")
    combined = combined.with_changes(body=[*combined.body[:at], helper, *combined.body[at:]])
    return {mutant.file: combined.code, f"{package}/{HELPER_MODULE}.py": HELPER_SOURCE}
