"""YAML configuration files validated by pydantic, with errors that name file, line and field.

Instructors edit rubrics and the course file by hand; an error such as
``rubrics/02_tensor.yaml:12: checks[3].points: Input should be greater than or equal to 0``
lets them fix it without guessing. PyYAML's node tree already carries each node's position,
so the document is composed once, turned into plain data, and a table from each value's
location (``("checks", 3, "points")``) to its line is kept beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every hand-written configuration model: unknown keys are typos, so rejected."""
    model_config = ConfigDict(extra="forbid", frozen=True)


def format_loc(loc: Loc) -> str:
    """``("checks", 3, "points")`` -> ``checks[3].points``, the way people point into YAML."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class ConfigError(ValueError):
    """A configuration file is wrong at one place; ``also`` holds further problems found."""

    def __init__(self, path: str, line: int | None, field: str, message: str,
                 also: tuple[ConfigError, ...] = ()):
        self.path, self.line, self.field, self.message, self.also = (
            str(path), line, field, message, tuple(also))
        super().__init__(str(self))

    def one_line(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return ": ".join(part for part in (where, self.field, self.message) if part)

    def __str__(self) -> str:
        return "\n".join([self.one_line(), *(e.one_line() for e in self.also)])

    @classmethod
    def collect(cls, errors: list[ConfigError]) -> ConfigError:
        """Fold several problems into one exception, so one run reports all of them."""
        first, *rest = errors
        return cls(first.path, first.line, first.field, first.message, tuple(rest))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: str,
                  visited: set[int]) -> None:
    """Fill ``lines`` for ``node`` and below; refuse duplicate keys (PyYAML keeps the last).

    An aliased node is walked once only, so nested aliases cannot make the walk explode.
    """
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(path, _line(key_node), format_loc(loc),
                                  "keys must be plain scalars")
            key = key_node.value
            if key in seen:
                raise ConfigError(path, _line(key_node), format_loc(loc + (key,)),
                                  f"duplicate key (first given on line {seen[key]})")
            seen[key] = _line(key_node)
            lines[loc + (key,)] = _line(key_node)
            _record_lines(value_node, loc + (key,), lines, path, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[loc + (index,)] = _line(item)
            _record_lines(item, loc + (index,), lines, path, visited)


@dataclass(frozen=True)
class Document:
    """Parsed YAML data plus where each value stood, for error messages after validation."""
    path: str
    text: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """Line of ``loc``, or of its nearest enclosing value that exists in the file."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def error(self, loc: Loc, message: str) -> ConfigError:
        return ConfigError(self.path, self.line_of(loc), format_loc(loc), message)

    def validate(self, model: type[M]) -> M:
        """Validate against ``model``; every pydantic error becomes a located ConfigError."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise ConfigError.collect([self.error(tuple(e["loc"]), _message(e))
                                       for e in exc.errors()]) from None


def _message(error: dict) -> str:
    # ValueErrors raised by our own validators arrive as "Value error, <text>": keep <text>.
    return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse(text: str, path: str = "<string>") -> Document:
    """Parse YAML text; a syntax error becomes a ConfigError at the line PyYAML reports."""
    loader = yaml.SafeLoader(text)
    lines: dict[Loc, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(path, text, None, lines)
        # Lines first: constructing flattens merge keys (<<) into the node, in place.
        lines[()] = _line(node)
        _record_lines(node, (), lines, path, set())
        return Document(path, text, loader.construct_document(node), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(path, mark.line + 1 if mark else None, "",
                          f"not valid YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()


def read(path: str | Path) -> Document:
    """Read and parse a YAML file; an unreadable file is a ConfigError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, "", f"cannot read: {exc}") from None
    return parse(text, str(path))


def load(path: str | Path, model: type[M]) -> M:
    """Read ``path`` and validate it as ``model``."""
    return read(path).validate(model)
