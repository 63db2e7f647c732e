"""``autograder suite mutate``: the command the instructors run, through the service's CLI."""

import json

from click.testing import CliRunner

from autograder.cli import main


def test_suite_mutate_reports_kills_and_equivalents_as_json():
    """03_activations' two comparison mutants: sigmoid's tie at 0 (equivalent) and one the
    suite catches."""
    result = CliRunner().invoke(main, ["suite", "mutate", "03", "--operator", "comparison",
                                       "--no-curated", "--json", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    (module,) = json.loads(result.stdout)["modules"]
    statuses = sorted(m["status"] for m in module["mutants"])
    assert module["module"] == "03_activations" and statuses == ["equivalent", "killed"]
    assert (module["generated"], module["equivalent"], module["kill_rate"]) == (2, 1, 1.0)
    assert all(m["diff"].startswith("--- a/tinytorch/core/activations.py") for m in
               module["mutants"])


def test_suite_mutate_refuses_an_unknown_module():
    result = CliRunner().invoke(main, ["suite", "mutate", "99_nothing"])
    assert result.exit_code == 2 and "unknown module '99_nothing'" in result.output
