"""Rubrics: YAML schema, matching against a suite's checks, and the pure grading engine."""
from autograder.rubric.engine import CheckScore, RubricGrade, grade
from autograder.rubric.matching import RubricMismatch, assign
from contract.results import NotGradable, SuiteResult, read_results
from autograder.rubric.schema import LoadedRubric, Rubric, load_rubric, parse_rubric

__all__ = ["CheckScore", "LoadedRubric", "NotGradable", "Rubric", "RubricGrade",
           "RubricMismatch", "SuiteResult", "assign", "grade", "load_rubric", "parse_rubric",
           "read_results"]
