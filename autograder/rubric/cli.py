"""``autograder rubric check``: validate rubric files before any job runs.

Schema errors and patterns that select no check of the suite are printed as
``file:line: field: message`` and the command exits 1, so it fits a CI step or a pre-commit
hook in the course's rubric repo.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from autograder.course.course_file import load_course
from autograder.rubric.engine import RubricGrade, grade
from autograder.rubric.matching import RubricMismatch, assign
from contract.results import NotGradable
from autograder.rubric.schema import load_rubric
from autograder.rubric.suites import read_check_ids, suite_check_ids
from autograder.yaml_files import ConfigError


def check_rubric(path: Path, check_ids: list[str] | None, module: str | None = None) -> str:
    """Validate one rubric; return a one-line summary or raise ConfigError with lines.

    Without ``check_ids`` the module's suite declares them; with no suite, only the schema
    is checked (and the summary says so).
    """
    loaded = load_rubric(path)
    if module is not None and loaded.rubric.module != module:
        raise loaded.document.error(("module",), f"the course file uses this rubric for "
                                                 f"{module!r}")
    summary = f"{path}: ok, {loaded.rubric.module} version {loaded.version}, " \
              f"{loaded.rubric.max_points:g} points"
    check_ids = check_ids or suite_check_ids(loaded.rubric.module)
    if check_ids is None:
        return summary + " (schema only: no suite for it yet and no --checks given)"
    try:
        allocation = assign(loaded.rubric, check_ids)
    except RubricMismatch as mismatch:
        raise mismatch.located(loaded) from None
    unscored = f", unscored: {', '.join(allocation.unscored)}" if allocation.unscored else ""
    return summary + f", {len(allocation.owner)} checks scored{unscored}"


@click.group("rubric")
def rubric() -> None:
    """Rubric files."""


@rubric.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--course", "course_file", type=click.Path(dir_okay=False, path_type=Path),
              help="a course file: validate it and every rubric it names")
@click.option("--checks", "checks_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="check ids to use instead of the suite's: a results .json, or one per line")
def check(files: tuple[Path, ...], course_file: Path | None, checks_file: Path | None) -> None:
    """Validate rubric FILES: schema, and every pattern against the suite's check ids."""
    if not files and course_file is None:
        raise click.UsageError("give rubric FILES, --course, or both")
    try:
        check_ids = read_check_ids(checks_file) if checks_file else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--checks") from None
    targets: list[tuple[Path, str | None]] = [(path, None) for path in files]
    if course_file is not None:
        try:
            course = load_course(course_file)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        targets += [(course_file.parent / a.rubric, a.id) for a in course.assignments]
    failed = False
    for path, module in targets:
        try:
            click.echo(check_rubric(path, check_ids, module))
        except ConfigError as error:
            failed = True
            click.echo(str(error), err=True)
    if failed:
        raise SystemExit(1)


def describe(result: RubricGrade) -> str:
    """A TA-readable breakdown: one line per check, then the total."""
    lines = [f"{c.points:7.2f} / {c.max_points:<7.2f} {c.outcome:<8} {c.id}"
             + (f"  -- {c.message}" if c.message else "") for c in result.checks]
    if result.gated_by:
        lines.append(f"required checks not passed: {', '.join(result.gated_by)}")
    if result.unscored:
        lines.append(f"worth nothing under this rubric: {', '.join(result.unscored)}")
    lines.append(f"{result.points:7.2f} / {result.max_points:<7.2f} {result.module} "
                 f"(rubric {result.rubric_version})")
    return "\n".join(lines)


@rubric.command("grade")
@click.argument("rubric_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("results_file", type=click.File("r", encoding="utf-8"))
def grade_command(rubric_file: Path, results_file) -> None:
    """Grade a suite RESULTS_FILE (JSON) under RUBRIC_FILE and print the breakdown.

    For trying a rubric edit on real results before it regrades anyone.
    """
    try:
        loaded = load_rubric(rubric_file)
        results = json.load(results_file)
        click.echo(describe(grade(loaded, results, suite_check_ids(loaded.rubric.module))))
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    except RubricMismatch as mismatch:
        raise click.ClickException(str(mismatch.located(loaded))) from None
    except (NotGradable, ValueError) as error:
        raise click.ClickException(f"not gradable: {error}") from None
