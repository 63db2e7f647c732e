"""The one settings object (autograder/settings.py): defaults < TOML file < environment, bad
input named by variable or by file and key, and docs/OPERATORS.md's table generated from it."""
import os
import re
import subprocess
import sys

import pytest

from autograder.settings import CHECKOUT, Settings, SettingsInvalid, markdown_table

TABLE = re.compile(r"<!-- settings table: .*? -->\n(.*?)"
                   r"<!-- end of the generated settings table -->", re.S)


@pytest.fixture(autouse=True)
def no_operator_settings(monkeypatch):
    """Only what each test sets: none of the shell's AUTOGRADER_* variables."""
    for name in [name for name in os.environ if name.startswith("AUTOGRADER_")]:
        monkeypatch.delenv(name)


def config_file(monkeypatch, tmp_path, text):
    path = tmp_path / "autograder.toml"
    path.write_text(text)
    monkeypatch.setenv("AUTOGRADER_CONFIG", str(path))
    return path


def test_the_file_beats_the_defaults_and_the_environment_beats_the_file(monkeypatch, tmp_path):
    assert (Settings().max_push_bytes, Settings().sandbox_image) == (
        200 * 1024 * 1024, "tinytorch-sandbox:latest")
    config_file(monkeypatch, tmp_path, 'MAX_PUSH_BYTES = 1000\nsandbox_image = "from-file"\n'
                                       "[MILESTONE_PLANS.xor]\nepochs = 10\n")
    from_file = Settings()
    assert (from_file.max_push_bytes, from_file.sandbox_image) == (1000, "from-file")
    assert from_file.milestone_plans == {"xor": {"epochs": 10}}
    monkeypatch.setenv("AUTOGRADER_MAX_PUSH_BYTES", "2000")
    monkeypatch.setenv("AUTOGRADER_SANDBOX_IMAGE", "")          # empty, as compose passes it
    from_env = Settings()
    assert (from_env.max_push_bytes, from_env.sandbox_image) == (2000, "from-file")
    assert Settings(max_push_bytes=3000).max_push_bytes == 3000  # keywords (tests) beat all


def test_a_bad_variable_is_named_with_its_value(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_MAX_PUSH_BYTES", "lots")
    monkeypatch.setenv("AUTOGRADER_SANDBOX", "podman")
    with pytest.raises(SettingsInvalid) as caught:
        Settings()
    message = str(caught.value)
    assert "AUTOGRADER_MAX_PUSH_BYTES='lots': Input should be a valid integer" in message
    assert "AUTOGRADER_SANDBOX='podman': Input should be 'docker' or 'local'" in message


def test_an_unknown_key_in_the_file_is_an_error_naming_the_file(monkeypatch, tmp_path):
    path = config_file(monkeypatch, tmp_path, "MAX_PUSH_BYTE = 1000\n")
    with pytest.raises(SettingsInvalid, match=f"{re.escape(str(path))}: unknown key "
                                              r"MAX_PUSH_BYTE \(known: DATABASE_URL, "):
        Settings()


def test_a_bad_value_in_the_file_names_the_file_and_key(monkeypatch, tmp_path):
    path = config_file(monkeypatch, tmp_path, "SANDBOX_WARM = -1\n")
    with pytest.raises(SettingsInvalid, match=f"{re.escape(str(path))}, key SANDBOX_WARM: "
                                              "Input should be greater than or equal to 0"):
        Settings()


def test_a_missing_or_broken_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("AUTOGRADER_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(SettingsInvalid, match="AUTOGRADER_CONFIG=.*nowhere.toml: no such file"):
        Settings()
    config_file(monkeypatch, tmp_path, 'PUBLIC_URL = "https://unclosed\n')
    with pytest.raises(SettingsInvalid, match=r"autograder.toml: not valid TOML: .*line 1"):
        Settings()


def test_milestone_plans_are_json_naming_the_course_milestones(monkeypatch):
    assert Settings().milestone_plans == {}
    monkeypatch.setenv("AUTOGRADER_MILESTONE_PLANS", '{"cifar10": {"train_limit": 1200}}')
    assert Settings().milestone_plans == {"cifar10": {"train_limit": 1200}}
    monkeypatch.setenv("AUTOGRADER_MILESTONE_PLANS", "{cifar10")
    with pytest.raises(SettingsInvalid, match="AUTOGRADER_MILESTONE_PLANS='{cifar10': not valid"):
        Settings()
    monkeypatch.setenv("AUTOGRADER_MILESTONE_PLANS", '{"mnist": {}}')
    with pytest.raises(SettingsInvalid, match=r"names no milestone of the course \(xor, "
                                              r"cifar10, tinygpt\): mnist"):
        Settings()


def test_the_hard_limit_follows_the_soft_one_unless_set():
    assert Settings(task_soft_limit_s=100).hard_limit_s == 400
    assert Settings(task_soft_limit_s=100, task_hard_limit_s=150).hard_limit_s == 150


def test_the_api_defaults_live_in_its_instance_folder(tmp_path):
    config = Settings(secret_key="s3cret").flask_config(str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'autograder.sqlite3'}"
    assert config["REPOS_DIR"] == str(tmp_path / "repos")
    assert (config["SECRET_KEY"], config["BROKER_URL"]) == ("s3cret", None)


def test_a_worker_without_a_broker_refuses_to_start():
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("AUTOGRADER_")}
    started = subprocess.run([sys.executable, "-c", "import workers.celery_app"], cwd=CHECKOUT,
                             env={**env, "PYTHONPATH": str(CHECKOUT)}, capture_output=True,
                             text=True, timeout=120)
    assert started.returncode != 0
    assert "AUTOGRADER_BROKER_URL is not set: a worker takes its jobs from" in started.stderr


def test_the_operators_table_is_the_one_the_settings_generate():
    found = TABLE.search((CHECKOUT / "docs" / "OPERATORS.md").read_text())
    assert found, "docs/OPERATORS.md lost its generated settings table markers"
    assert found.group(1) == markdown_table(), (
        "docs/OPERATORS.md's settings table is stale: paste `python -m autograder.settings "
        "--markdown` between its markers")
    assert markdown_table().count("\n| `AUTOGRADER_") == len(Settings.model_fields)
