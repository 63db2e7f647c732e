"""Mutants of the reference's solution blocks, made on the syntax tree with libcst.

Only code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` is mutated: that is what a
student writes.  Each operator proposes, per matching node, a replacement node (one mutant per
replacement); :func:`generate` renders each as the whole mutated file, drops the ones that do
not change the code or repeat another, and names each by operator, file and line.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
OPERATORS = ("arithmetic", "comparison", "logic", "off_by_one", "argument_dropped",
             "axes_swapped", "constant", "statement_deleted", "return_intermediate",
             "copy_inplace")

_ARITHMETIC = {cst.Add: cst.Subtract, cst.Subtract: cst.Add, cst.Multiply: cst.Divide,
               cst.Divide: cst.Multiply, cst.FloorDivide: cst.Divide, cst.Modulo: cst.FloorDivide,
               cst.Power: cst.Multiply, cst.MatrixMultiply: cst.Multiply}
_AUGMENTED = {cst.AddAssign: cst.SubtractAssign, cst.SubtractAssign: cst.AddAssign,
              cst.MultiplyAssign: cst.DivideAssign, cst.DivideAssign: cst.MultiplyAssign}
_TO_BINARY = {cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract,
              cst.MultiplyAssign: cst.Multiply, cst.DivideAssign: cst.Divide,
              cst.FloorDivideAssign: cst.FloorDivide, cst.PowerAssign: cst.Power,
              cst.MatrixMultiplyAssign: cst.MatrixMultiply}
_TO_AUGMENTED = {binary: augmented for augmented, binary in _TO_BINARY.items()}
_COMPARISON = {cst.LessThan: cst.LessThanEqual, cst.LessThanEqual: cst.LessThan,
               cst.GreaterThan: cst.GreaterThanEqual, cst.GreaterThanEqual: cst.GreaterThan,
               cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.Is: cst.IsNot,
               cst.IsNot: cst.Is, cst.In: cst.NotIn, cst.NotIn: cst.In}
_DROPPABLE_KEYWORDS = {"keepdims", "keepdim", "axis", "axes", "dim", "dtype", "ddof"}
_AXIS_KEYWORDS = {"axis", "dim"}
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)


@dataclass(frozen=True)
class Mutant:
    id: str            # unique in its module, e.g. "arithmetic@tensor.py:108"
    operator: str      # one of OPERATORS, or "curated"
    file: str          # path of the mutated file in the package, e.g. tinytorch/core/tensor.py
    line: int
    description: str   # one line: what changed
    source: str        # the whole mutated file
    function: tuple = ()   # path to the enclosing top-level def, e.g. ("Tensor", "__add__")


def solution_ranges(text):
    """``[(first, last), ...]``: 1-based line ranges strictly inside solution markers."""
    ranges, start = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == BEGIN:
            start = number + 1
        elif line.strip() == END and start is not None:
            ranges.append((start, number - 1))
            start = None
    return ranges


def _code(node):
    return " ".join(cst.Module(body=[]).code_for_node(node).split())


def _short(node, limit=60):
    if hasattr(node, "leading_lines"):   # a statement: not the comments above it
        node = node.with_changes(leading_lines=[])
    text = _code(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _parenthesized(expr):
    """``expr`` safe to use as an operand (libcst does not add parentheses itself)."""
    if isinstance(expr, _ATOMS) or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _plus(expr, amount):
    """``expr + amount`` (a literal is changed in place: ``3`` -> ``4``, ``-1`` -> ``-2``)."""
    value = _literal_int(expr)
    if value is not None:
        return _integer(value + amount)
    operator = cst.Add() if amount > 0 else cst.Subtract()
    return cst.BinaryOperation(_parenthesized(expr), operator, cst.Integer(str(abs(amount))))


def _integer(value):
    return cst.Integer(str(value)) if value >= 0 else cst.UnaryOperation(
        cst.Minus(), cst.Integer(str(-value)))


def _literal_int(expr):
    if isinstance(expr, cst.Integer):
        return int(expr.value, 0)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) \
            and isinstance(expr.expression, cst.Integer):
        return -int(expr.expression.value, 0)
    return None


_PASS = cst.SimpleStatementLine(body=[cst.Pass()])   # a statement deleted: ``pass`` in its place


def _call_name(call):
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    return func.attr.value if isinstance(func, cst.Attribute) else None


def _is_docstring(statement):
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
        and isinstance(statement.body[0], cst.Expr) \
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


class _Sites(cst.CSTVisitor):
    """Collects ``(operator, line, node, replacement, function path)`` inside solution blocks."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, ranges):
        super().__init__()
        self.ranges, self.sites = ranges, []
        self.scopes = []          # ClassDef / FunctionDef names from the module down
        self.assigned = []        # per function: local names assigned so far, in order

    # -- bookkeeping ----------------------------------------------------------------
    def _add(self, operator, node, replacement):
        position = self.get_metadata(PositionProvider, node)
        line = position.start.line
        if any(first <= line <= last for first, last in self.ranges):
            self.sites.append((operator, position, node, replacement, self._function()))

    def _function(self):
        path = []
        for kind, name in self.scopes:
            path.append(name)
            if kind == "def":
                break
        return tuple(path)

    def visit_ClassDef(self, node):
        self.scopes.append(("class", node.name.value))

    def leave_ClassDef(self, node):
        self.scopes.pop()

    def visit_FunctionDef(self, node):
        self.scopes.append(("def", node.name.value))
        self.assigned.append([])

    def leave_FunctionDef(self, node):
        self.scopes.pop()
        self.assigned.pop()

    # -- arithmetic, comparison, logic ---------------------------------------------------
    def visit_BinaryOperation(self, node):
        swap = _ARITHMETIC.get(type(node.operator))
        if swap:
            operator = swap(whitespace_before=node.operator.whitespace_before,
                            whitespace_after=node.operator.whitespace_after)
            self._add("arithmetic", node, node.with_changes(operator=operator))

    def visit_UnaryOperation(self, node):
        if isinstance(node.operator, cst.Minus):
            self._add("arithmetic", node, node.expression)
        elif isinstance(node.operator, cst.Not):
            self._add("logic", node, node.expression)

    def visit_BooleanOperation(self, node):
        swap = cst.Or if isinstance(node.operator, cst.And) else cst.And
        self._add("logic", node, node.with_changes(operator=swap(
            whitespace_before=node.operator.whitespace_before,
            whitespace_after=node.operator.whitespace_after)))

    def visit_Comparison(self, node):
        for n, target in enumerate(node.comparisons):
            swap = _COMPARISON.get(type(target.operator))
            if swap is None:
                continue
            old = target.operator
            operator = swap(whitespace_before=old.whitespace_before,
                            whitespace_after=old.whitespace_after)
            targets = list(node.comparisons)
            targets[n] = target.with_changes(operator=operator)
            self._add("comparison", node, node.with_changes(comparisons=targets))

    # -- statements: augmented assignment, deletion, return ---------------------------
    def visit_AugAssign(self, node):
        swap = _AUGMENTED.get(type(node.operator))
        if swap:
            self._add("arithmetic", node, node.with_changes(operator=swap(
                whitespace_before=node.operator.whitespace_before,
                whitespace_after=node.operator.whitespace_after)))
        binary = _TO_BINARY.get(type(node.operator))
        if binary:   # x += y  ->  x = x + y: a new array instead of an in-place update
            self._add("copy_inplace", node, cst.Assign(
                targets=[cst.AssignTarget(node.target)],
                value=cst.BinaryOperation(node.target, binary(), _parenthesized(node.value))))

    def visit_Assign(self, node):
        if self.assigned:
            self.assigned[-1] += [t.target.value for t in node.targets
                                  if isinstance(t.target, cst.Name)]
        value = node.value
        if len(node.targets) == 1 and isinstance(value, cst.BinaryOperation) \
                and type(value.operator) in _TO_AUGMENTED \
                and _code(value.left) == _code(node.targets[0].target):
            # x = x + y  ->  x += y: updates in place an array the caller may share
            self._add("copy_inplace", node, cst.AugAssign(
                target=node.targets[0].target, operator=_TO_AUGMENTED[type(value.operator)](),
                value=value.right))

    def visit_IndentedBlock(self, node):
        for statement in node.body:
            if _is_docstring(statement) or (isinstance(statement, cst.SimpleStatementLine) and
                                            all(isinstance(s, cst.Pass) for s in statement.body)):
                continue
            if isinstance(statement, (cst.SimpleStatementLine, cst.If, cst.For, cst.While,
                                      cst.With, cst.Try)):
                self._add("statement_deleted", statement, _PASS)

    def visit_Return(self, node):
        if node.value is None or not self.assigned:
            return
        returned = _code(node.value)
        earlier = [name for name in self.assigned[-1] if name != returned]
        if earlier:
            self._add("return_intermediate", node,
                      node.with_changes(value=cst.Name(earlier[-1])))

    # -- indices, slices, ranges ----------------------------------------------------
    def visit_Slice(self, node):
        if node.lower is not None:
            self._add("off_by_one", node, node.with_changes(lower=_plus(node.lower, 1)))
        if node.upper is not None:
            self._add("off_by_one", node, node.with_changes(upper=_plus(node.upper, -1)))

    def visit_Index(self, node):
        value = _literal_int(node.value)
        if value is not None:
            self._add("off_by_one", node, node.with_changes(
                value=_plus(node.value, 1 if value >= 0 else -1)))

    def visit_Call(self, node):
        name = _call_name(node)
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if name == "range" and isinstance(node.func, cst.Name) and positional:
            stop = positional[0] if len(positional) == 1 else positional[1]
            self._add("off_by_one", node, node.deep_replace(
                stop, stop.with_changes(value=_plus(stop.value, -1))))
            if len(positional) > 1:
                start = positional[0]
                self._add("off_by_one", node, node.deep_replace(
                    start, start.with_changes(value=_plus(start.value, 1))))
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword else None
            if keyword in _DROPPABLE_KEYWORDS:
                self._add("argument_dropped", node,
                          node.with_changes(args=[a for a in node.args if a is not arg]))
            value = _literal_int(arg.value)
            if keyword in _AXIS_KEYWORDS and value is not None:
                self._add("axes_swapped", node, node.deep_replace(
                    arg.value, _integer(0 if value == -1 else -1)))
        self._axes_and_copies(node, name, positional)

    def _axes_and_copies(self, node, name, positional):
        method = isinstance(node.func, cst.Attribute)
        if name == "transpose" and node.args:
            # x.transpose(0, 2, 1) -> x.transpose(); np.transpose(x, axes) -> np.transpose(x)
            kept = [] if method and not _is_numpy(node.func.value) else [node.args[0]]
            if len(kept) < len(node.args):
                self._add("axes_swapped", node, node.with_changes(args=[
                    a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in kept]))
        if name == "swapaxes":
            subject = node.func.value if method and not _is_numpy(node.func.value) else (
                positional[0].value if positional else None)
            if subject is not None:
                self._add("axes_swapped", node, subject)
        if name == "copy" and method and not node.args and not _is_numpy(node.func.value):
            self._add("copy_inplace", node, node.func.value)
        if name in ("copy", "array") and method and _is_numpy(node.func.value) \
                and len(node.args) == 1:
            self._add("copy_inplace", node, node.args[0].value)

    def visit_Attribute(self, node):
        if node.attr.value == "T":
            self._add("axes_swapped", node, node.value)

    # -- constants ------------------------------------------------------------------
    def visit_Integer(self, node):
        self._add("constant", node, _integer(int(node.value, 0) + 1))

    def visit_Float(self, node):
        value = float(node.value)
        self._add("constant", node, cst.Float(repr(value * 2 if value else 1.0)))


def _is_numpy(expr):
    return isinstance(expr, cst.Name) and expr.value in ("np", "numpy")


def _line_offsets(text):
    """Offset in ``text`` of the start of each line (splicing text is much faster than
    re-rendering the whole tree per mutant)."""
    offsets, total = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    return offsets + [total]


def generate(text, path, operators=OPERATORS):
    """Every mutant of ``text`` (the file at package path ``path``) by ``operators``."""
    ranges = solution_ranges(text)
    if not ranges:
        return []
    wrapper = MetadataWrapper(cst.parse_module(text))
    sites = _Sites(ranges)
    wrapper.visit(sites)
    name, offsets = PurePosixPath(path).name, _line_offsets(text)
    mutants, seen, counts = [], {text}, {}
    for operator, position, node, replacement, function in sites.sites:
        if operator not in operators:
            continue
        line = position.start.line
        start = offsets[line - 1] + position.start.column
        end = offsets[position.end.line - 1] + position.end.column
        new = "pass" if replacement is _PASS else cst.Module(body=[]).code_for_node(replacement)
        source = text[:start] + new + text[end:]
        if source in seen:
            continue
        seen.add(source)
        base = f"{operator}@{name}:{line}"
        counts[base] = counts.get(base, 0) + 1
        mutant_id = base if counts[base] == 1 else f"{base}#{counts[base]}"
        mutants.append(Mutant(mutant_id, operator, str(path), line,
                              f"`{_short(node)}` -> `{_short(replacement)}`", source, function))
    return mutants
