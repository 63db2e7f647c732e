"""Every operator setting of the autograder, in one typed object read by the API, the CLI,
the workers and the Docker backend.

Sources, later ones winning: the defaults below, then the TOML file named by
``AUTOGRADER_CONFIG`` (keys are the variable names without ``AUTOGRADER_``, in any case),
then ``AUTOGRADER_*`` environment variables (an empty variable counts as unset, as compose
passes unset ones through), then keyword arguments (tests).  Everything is validated when the
object is built; a bad value raises ``SettingsInvalid`` naming the variable, or the file and
key, it came from.  ``docs/OPERATORS.md``'s settings table is ``markdown_table()``
(``python -m autograder.settings --markdown``); a test keeps the two equal.

Not settings, and read where they are used: ``AUTOGRADER_HOOK_FD``, ``AUTOGRADER_PYTHON`` and
``AUTOGRADER_HOOK_CLIENT`` are plumbing the API passes to the git hooks it starts, per push.
"""
from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt,
                      SecretStr, ValidationError, field_validator)
from pydantic_settings import (BaseSettings, NoDecode, SettingsConfigDict,
                               TomlConfigSettingsSource)

from contract.modules import MILESTONE_IDS

PREFIX = "AUTOGRADER_"
CONFIG_FILE_VARIABLE = "AUTOGRADER_CONFIG"
CHECKOUT = Path(__file__).resolve().parent.parent


class SettingsInvalid(ValueError):
    """The settings cannot be used; the message names each bad variable or file key."""


class _ConfigFile(TomlConfigSettingsSource):
    """The TOML file, whose top-level keys are the settings' names in any case, like the
    variables (a key that is none of them stays as written, for the error)."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsInvalid(
                f"{CONFIG_FILE_VARIABLE}={file_path}: not valid TOML: {exc}") from None
        return {key.lower() if key.lower() in Settings.model_fields else key: value
                for key, value in data.items()}


def config_file() -> Path | None:
    """The file ``AUTOGRADER_CONFIG`` names, which must exist when it is set."""
    named = os.environ.get(CONFIG_FILE_VARIABLE)
    if not named:
        return None
    path = Path(named).expanduser()
    if not path.is_file():
        raise SettingsInvalid(f"{CONFIG_FILE_VARIABLE}={named}: no such file")
    return path


class Settings(BaseSettings):
    """One deployment's settings; a field ``x`` is the variable ``AUTOGRADER_X``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True,
                                      extra="forbid", frozen=True)

    # The API (and the CLI, the git hooks it answers)
    database_url: str | None = Field(None, description=(
        "SQLAlchemy URL shared by the API and the workers (`postgresql+psycopg://...` for a "
        "class); unset: the API uses `sqlite:///<instance>/autograder.sqlite3` and a worker "
        "fails its jobs as infrastructure errors"))
    broker_url: str | None = Field(None, description=(
        "Celery broker (Redis); unset: the API keeps each push in the database (graded once a "
        "broker is set: the reconciler sends what waits) and a worker refuses to start"))
    repos_dir: Path | None = Field(None, description=(
        "students' bare repos; API and workers must both see it; unset: the API uses "
        "`<instance>/repos` and a worker fails its jobs as infrastructure errors"))
    starter_dir: Path | None = Field(None, description=(
        "directory copied into every new student repo; unset: the starter generated from the "
        "reference"))
    public_url: str | None = Field(None, description=(
        "base of result links printed to students on push; unset: the request's host"))
    secret_key: SecretStr | None = Field(None, description=(
        "signs the pages' session cookies and CSRF tokens; set the same value on every API "
        "host; unset: random, kept in the instance folder's `secret_key`"))
    max_push_bytes: PositiveInt = Field(200 * 1024 * 1024, description=(
        "largest accepted push body (200 MiB)"))
    git_binary: str = Field("git", description="the git that serves pushes (`git http-backend`)")
    api_page_size_max: PositiveInt = Field(200, description=(
        "largest `per_page` of the submission lists (API and pages)"))

    # The workers
    rubrics_dir: Path = Field(CHECKOUT / "rubrics", description=(
        "only for courses created before rubrics were stored in the database: since then "
        "`course create`/`update` store each rubric's text and version, and workers grade "
        "exactly that"))
    sandbox: Literal["docker", "local"] = Field("docker", description=(
        "`local` runs student code as a plain process: UNSAFE, development only"))
    sandbox_image: str = Field("tinytorch-sandbox:latest", description=(
        "the runner image on each worker host's engine"))
    sandbox_warm: NonNegativeInt = Field(2, description=(
        "started spare containers per worker process and set of limits (a job uses two: "
        "student and reference); ~35 MB each, retired after 10 idle minutes"))
    sandbox_deployment: str = Field("default", description=(
        "label telling apart the containers of several deployments on one Docker host"))
    worker_concurrency: PositiveInt | None = Field(None, description=(
        "grading processes per worker; unset: the host's cores"))
    task_soft_limit_s: PositiveFloat = Field(4 * 3600.0, description=(
        "one submission's whole grading; the course's module and milestone wall clocks must "
        "fit (twice the modules' with `isolation: best_of`)"))
    task_hard_limit_s: PositiveFloat | None = Field(None, description=(
        "the grading process is killed after this; unset: the soft limit + 300"))
    max_retries: NonNegativeInt = Field(5, description=(
        "infrastructure faults retry with back-off × 2^n (never a zero); the retry time is "
        "kept in the database (`retry_at`) and the reconciler sends it when due, so a Redis "
        "restart loses no retry"))
    retry_backoff_s: NonNegativeFloat = Field(30.0, description="the first retry's delay")
    max_lost_attempts: PositiveInt = Field(3, description=(
        "a job whose worker died this often is given up as `infra_error`"))
    reconcile_every_s: PositiveFloat = Field(10.0, description=(
        "how often the reconciler compares unfinished submissions with the messages Redis "
        "holds (queued at every priority, or delivered and unacknowledged)"))
    queued_stale_s: NonNegativeFloat = Field(10.0, description=(
        "a submission queued this long that no message names, or whose retry is due, is "
        "sent again: work lost with a Redis restart is sent within ~30 s of Redis being "
        "back. A queued commit that never reached the graded branch (the API died mid-push) "
        "is marked `rejected` instead"))
    dataset_dir: Path | None = Field(None, description=(
        "the milestone datasets; unset: milestone jobs are infrastructure errors; set "
        "without the data: workers refuse to start"))
    milestone_plans: Annotated[dict[str, dict[str, Any]], NoDecode] = Field(
        default_factory=dict, description=(
            "JSON (or a TOML table) `{milestone: {setting: value}}` over the milestones' real "
            "training plans, for a demo or CI deployment that trains on slices: "
            '`{"cifar10": {"train_limit": 1200}}`'))

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        """Keyword arguments, then the environment, then the file; defaults last."""
        path = config_file()
        file = () if path is None else (_ConfigFile(settings_cls, toml_file=path),)
        return (init_settings, env_settings, *file)

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsInvalid("invalid autograder settings:\n" + "\n".join(
                f"  {_problem(error, values)}" for error in exc.errors())) from None

    @field_validator("milestone_plans", mode="before")
    @classmethod
    def _plans_from_json(cls, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
        return value

    @field_validator("milestone_plans")
    @classmethod
    def _plans_name_milestones(cls, plans):
        unknown = set(plans) - set(MILESTONE_IDS)
        if unknown:
            raise ValueError(f"names no milestone of the course ({', '.join(MILESTONE_IDS)}): "
                             f"{', '.join(sorted(unknown))}")
        return plans

    @property
    def hard_limit_s(self) -> float:
        """``AUTOGRADER_TASK_HARD_LIMIT_S``, or 300 s past the soft limit."""
        return self.task_hard_limit_s or self.task_soft_limit_s + 300.0

    @property
    def running_stale_s(self) -> float:
        """A job running longer than its hard limit (plus a margin) is dead for sure."""
        return self.hard_limit_s + 60.0

    def flask_config(self, instance_path: str) -> dict:
        """The Flask app's configuration keys (upper case), with the API's defaults under
        its instance folder."""
        config = {name.upper(): value for name, value in self.model_dump(mode="json").items()}
        base = Path(instance_path)
        config["DATABASE_URL"] = self.database_url or f"sqlite:///{base / 'autograder.sqlite3'}"
        config["REPOS_DIR"] = str(self.repos_dir or base / "repos")
        config["SECRET_KEY"] = self.secret_key and self.secret_key.get_secret_value()
        return config


def _problem(error: dict, values: dict) -> str:
    """One error, named by where its value came from: keyword, variable, or file and key."""
    key = str(error["loc"][0]) if error["loc"] else ""
    variable = PREFIX + key.upper()
    reason = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
    if key in values:
        return f"{key}={values[key]!r}: {reason}"
    if os.environ.get(variable):
        return f"{variable}={os.environ[variable]!r}: {reason}"
    path = config_file()
    if error["type"] == "extra_forbidden":
        known = ", ".join(name.upper() for name in Settings.model_fields)
        return f"{path}: unknown key {key} (known: {known})"
    return f"{path}, key {key.upper()}: {reason}" if path else f"{variable}: {reason}"


def _shown(default) -> str:
    """A default as the table shows it: the same on every machine."""
    if default is None:
        return "unset"
    if isinstance(default, Path) and default.is_relative_to(CHECKOUT):
        return f"`<checkout>/{default.relative_to(CHECKOUT)}`"
    return f"`{json.dumps(default) if isinstance(default, dict) else default}`"


def markdown_table() -> str:
    """``docs/OPERATORS.md``'s table of settings: variable, file key, default, what."""
    rows = ["| variable | key in the file | default | what |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = _shown(field.get_default(call_default_factory=True))
        rows.append(f"| `{PREFIX}{name.upper()}` | `{name.upper()}` | {default} "
                    f"| {field.description} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    """``--markdown``: the table of settings; otherwise this process's settings, validated."""
    if argv == ["--markdown"]:
        print(markdown_table(), end="")
        return 0
    try:
        settings = Settings()
    except SettingsInvalid as exc:
        print(exc, file=sys.stderr)
        return 2
    for name, value in settings.model_dump(mode="json").items():
        shown = "(unset)" if value is None else value   # the secret key shows as stars
        print(f"{PREFIX}{name.upper()}={shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
