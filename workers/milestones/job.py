"""Grade a milestone (XOR, CIFAR-10, TinyGPT): train in the sandbox, score on this side.

The course's driver (``sandbox/milestone_driver.py``) and the milestone programs it borrows models
from travel as source text and are installed in the runner under their own names, so the
student's repo cannot shadow them. The sandbox gets the training data and the evaluation
INPUTS (``workers.milestones.data``); it returns predictions, and accuracy or validation loss
is computed here against answers that never left this process. Wall time is measured here,
peak memory comes from the backend. Progress frames stream to ``on_progress``; a non-finite
loss ends the run at once with that reason. The rubric's plateau rule travels in the plan:
the driver ends training on it and still predicts, so what the model learned is scored.

The result is a suite results document (docs/ARCHITECTURE.md) that the rubric engine grades.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from autograder.rubric import LoadedRubric, load_rubric
from contract.document import check_result, results_document
from harness.backends import BackendUnavailable, Limits
from harness.runner_client import Runner, RunnerFailure, RunnerTimeout, StudentError
from workers.milestones.data import DEFAULT_CACHE, job_data
from workers.milestones.plot import curve_png
from harness.suite import repo_bytes

CHECKOUT = Path(__file__).resolve().parent.parent.parent
RUBRICS_DIR = CHECKOUT / "rubrics"
CURVE_POINTS = 200
LOG_PROB_FLOOR = math.log(1e-9)    # a character given no probability costs 20.7 nats, not inf

PLANS = {   # the real runs; tests and benchmarks override single entries
    "xor": {"epochs": 2000, "hidden": 8, "lr": 0.05, "eval_repeats": 16, "report_every": 50},
    "cifar10": {"epochs": 6, "width": 24, "batch_size": 64, "lr": 0.08, "report_every": 20,
                "train_limit": None, "eval_limit": None},
    "tinygpt": {"context": 128, "steps_per_epoch": 100, "eval_windows": 800,
                "sample_chars": 300, "report_every": 20, "blas_threads": 1},  # as the program
}
METRIC = {   # milestone -> (check id, figure, what it measures)
    "xor": ("xor.accuracy", "test_accuracy",
            "the trained network classifies the XOR points (scored from its predictions)"),
    "cifar10": ("cifar10.test_accuracy", "test_accuracy",
                "test accuracy of the CNN trained within the budget (labels never leave the "
                "grader)"),
    "tinygpt": ("tinygpt.val_loss", "val_loss",
                "validation loss in nats per character on held-out text (scored by the grader)"),
}
INSTALL_COURSE_CODE = """
import sys as _sys, types as _types
for _name, _file, _source in _course_sources:
    _module = _types.ModuleType(_name)
    _module.__file__ = _file
    if "." not in _name:
        _module.__path__ = []
    _sys.modules[_name] = _module
    exec(compile(_source, _file, "exec"), _module.__dict__)
_course_run = _sys.modules["sandbox.milestone_driver"].run
del _course_sources
"""


class TrainingStopped(Exception):
    """The rubric's early-stop rule ended the run; the message is the student's reason."""


class BadPredictions(ValueError):
    """What came back cannot be scored (wrong shape or type)."""


def course_sources(name: str) -> list:
    """``[module name, file, source]`` of the course code the driver needs, package first."""
    files = ["milestones/__init__.py", "sandbox/milestone_driver.py", f"milestones/{name}.py"]
    return [[f[:-3].replace("/__init__", "").replace("/", "."), f,
             (CHECKOUT / f).read_text(encoding="utf-8")] for f in files]


def make_plan(name: str, loaded: LoadedRubric, seed: int, overrides: dict | None) -> dict:
    """Defaults, then the rubric's training budget, then the caller's overrides."""
    if name not in PLANS:
        raise ValueError(f"unknown milestone {name!r}: use {', '.join(PLANS)}")
    training = loaded.rubric.training
    if training is None:
        raise ValueError(f"the rubric of {name} has no 'training' section (budget_s)")
    rule = training.early_stop
    early_stop = None if rule is None else {"patience_epochs": rule.patience_epochs,
                                            "min_delta": rule.min_delta}
    return {**PLANS[name], "budget_s": training.budget_s, "early_stop": early_stop,
            **(overrides or {}), "seed": seed}


def _number(value):
    return float(value) if type(value) in (int, float) else None


def _plain(value):
    """A finite number, or None: curves are stored as JSON, which has no NaN."""
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


class ProgressWatch:
    """``on_progress`` for the runner: keeps the curve and the last report, stops the run on
    a non-finite loss if the rubric says so, forwards each report (with the time left) to
    the caller."""

    def __init__(self, name, early_stop, forward, deadline):
        self.name, self.early_stop = name, early_stop
        self.forward, self.deadline = forward, deadline
        self.curve, self.last = [], {}

    def __call__(self, numbers):
        self.last = numbers
        if numbers.get("epoch_end") is True:
            point = {key: _plain(numbers.get(key)) for key in ("epoch", "step", "elapsed_s",
                                                                "accuracy")}
            self.curve.append({**point, "loss": _plain(numbers.get("epoch_loss"))})
        if self.forward is not None:
            self.forward({**numbers, "milestone": self.name,
                          "time_left_s": round(self.deadline() - time.monotonic(), 1)})
        reason = self.reason_to_stop(numbers)
        if reason:
            raise TrainingStopped(f"training stopped early at epoch {numbers.get('epoch')}: "
                                  f"{reason}")

    def reason_to_stop(self, numbers):
        if self.early_stop is None or not self.early_stop.on_nonfinite_loss:
            return None
        loss = _number(numbers.get("loss", numbers.get("epoch_loss")))
        return f"the loss became {loss}" if loss is not None and not math.isfinite(loss) else None

    def where(self) -> str:
        """'epoch k with accuracy x' from the last report, for a run that never finished."""
        epoch, accuracy = self.last.get("epoch", 0), _number(self.last.get("accuracy"))
        shown = f" with training accuracy {accuracy:.1%}" if accuracy is not None else ""
        return f"epoch {epoch}{shown}"

    def thinned_curve(self):
        step = max(1, math.ceil(len(self.curve) / CURVE_POINTS))
        return self.curve[::step] + (self.curve[-1:] if (len(self.curve) - 1) % step else [])


def accuracy_of(predictions, answers) -> float:
    if type(predictions) is not np.ndarray or predictions.dtype.kind not in "iu" \
            or predictions.shape != answers.shape:
        raise BadPredictions(f"expected {len(answers)} class ids, got {_describe(predictions)}")
    return float(np.mean(predictions == answers))


def val_loss_of(log_probs, answers, vocab_size) -> float:
    """Mean -log p(next character), after renormalising each row: any output is read as a
    distribution, so a row of zeros is a uniform guess, never a free perfect score."""
    if type(log_probs) is not np.ndarray or log_probs.dtype.kind != "f" \
            or log_probs.shape != (len(answers), vocab_size):
        raise BadPredictions(f"expected log-probabilities of shape ({len(answers)}, {vocab_size}),"
                             f" got {_describe(log_probs)}")
    rows = np.where(np.isfinite(log_probs), log_probs.astype(np.float64), -np.inf)
    top = np.max(rows, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = rows - np.where(np.isfinite(top), top, 0.0)
        rows = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
    rows = np.maximum(np.nan_to_num(rows, nan=LOG_PROB_FLOOR, neginf=LOG_PROB_FLOOR),
                      LOG_PROB_FLOOR)
    return float(-rows[np.arange(len(answers)), answers].mean())


def _describe(value) -> str:
    if type(value) is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _check(check_id, description, outcome, message="", figures=None, visibility="public"):
    return check_result(check_id, description, visibility, outcome, message[:4000], 0.0, figures)


def scored_checks(name, result, data, plan, figures):
    """The checks of a run that returned: the metric with its figure, completion, sample."""
    check_id, figure, description = METRIC[name]
    if name == "tinygpt":
        value = val_loss_of(result.get("log_probs"), data.answers, data.classes)
        said = f"validation loss {value:.3f} nats/char (uniform guess {math.log(data.classes):.2f})"
    else:
        value = accuracy_of(result.get("predictions"), data.answers)
        said = f"accuracy {value:.1%} on {len(data.answers)} evaluation inputs"
    epochs, planned = result.get("epochs_done"), result.get("epochs_planned")
    stopped = result.get("stopped_early")
    if type(stopped) is str and stopped:
        done = ("failed", f"{stopped[:500]}; scored on what it learned: {said}")
    elif result.get("out_of_time") and planned is not None:
        done = ("failed", f"ran out of time at epoch {epochs} of {planned} with {said}; the "
                          f"training budget is {plan['budget_s']:g} s")
    else:
        done = ("passed", f"trained {epochs} epochs in {_number(result.get('train_s')) or 0:.1f} s")
    sample = result.get("sample")
    outcomes = {check_id: ("passed", done[1] if done[0] == "failed" else said,
                           {**figures, figure: value}),
                f"{name}.completes": (*done, figures),
                "tinygpt.sample": ("passed" if type(sample) is str and sample else "failed", "",
                                   {"sample": sample[:4000] if type(sample) is str else ""})}
    return [_check(check_id, description, *outcomes[check_id], visibility)
            for check_id, description, visibility in declared_checks(name)]


def failed_checks(name, outcome, message, figures):
    """Every check of a run that did not return scorable predictions."""
    return [_check(check_id, description, outcome, message,
                   {} if check_id == "tinygpt.sample" else figures, visibility)
            for check_id, description, visibility in declared_checks(name)]


def declared_checks(name):
    """(id, description, visibility) of every check a milestone job reports, in order: what
    a rubric may name, known without running anything."""
    check_id, _, description = METRIC[name]
    checks = [(check_id, description, "public"),
              (f"{name}.completes", "training finishes its schedule within the budget and "
               "predicts the evaluation inputs", "public")]
    if name == "tinygpt":
        checks.append(("tinygpt.sample", "a text sample from the trained model", "hidden"))
    return checks


def _train_in_sandbox(runner, name, data, plan):
    """Install the course code, hand over the inputs, train, return the driver's result."""
    runner.put("_course_sources", course_sources(name))
    runner.exec(INSTALL_COURSE_CODE)
    parts = []
    for key, value in data.inputs.items():
        pieces = value if isinstance(value, list) else [value]
        for i, piece in enumerate(pieces):
            runner.put(f"_input_{key}_{i}", piece)
        names = ", ".join(f"_input_{key}_{i}" for i in range(len(pieces)))
        parts.append(f"{key!r}: [{names}]" if isinstance(value, list) else f"{key!r}: {names}")
    runner.put("_plan", plan)
    runner.exec(f"_result = _course_run({name!r}, {{{', '.join(parts)}}}, _plan, report)",
                timeout=runner.limits.wall_s)
    return runner.eval("_result")


def run_milestone(name, repo, backend, limits: Limits, dataset_dir, seed, on_progress=None, *,
                  plan=None, rubric: LoadedRubric | None = None, cache_dir=DEFAULT_CACHE):
    """Train and score milestone ``name`` for ``repo`` (tar bytes, .tar path or checkout).

    ``plan`` overrides sizes and the training budget (small slices for tests); the rubric
    (``rubrics/<name>.yaml`` by default) gives the budget and the early-stop rule.
    ``on_progress(numbers)`` sees every progress report with ``time_left_s``.
    """
    loaded = rubric or load_rubric(RUBRICS_DIR / f"{name}.yaml")
    plan = make_plan(name, loaded, seed, plan)
    data = job_data(name, plan, seed, dataset_dir, cache_dir)
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    runner = Runner(backend, limits, repo_bytes(repo), call_timeout_s=60.0)
    watch = ProgressWatch(name, loaded.rubric.training.early_stop, on_progress,
                          lambda: runner.job_deadline)
    runner.on_progress = watch
    began = time.monotonic()
    result, failure, infrastructure_error = None, None, None
    try:
        result = _train_in_sandbox(runner, name, data, plan)
    except BackendUnavailable as exc:
        infrastructure_error = str(exc)
    except TrainingStopped as exc:
        failure = ("failed", str(exc))
    except StudentError as exc:
        failure = ("error", f"{exc}\n{exc.traceback}".strip())
    except RunnerTimeout:
        failure = ("timeout", f"ran out of time at {watch.where()}: the job's wall-clock "
                              f"limit of {limits.wall_s:g} s ended it before predictions came back")
    except RunnerFailure as exc:
        failure = ("error", str(exc))
    finally:
        runner.close()
    wall_s = time.monotonic() - began
    peak = runner.peak_memory_bytes
    figures = {"wall_s": round(wall_s, 2), "peak_mb": round(peak / 2**20, 1) if peak else None,
               "epochs": watch.curve[-1]["epoch"] if watch.curve else 0,
               "curve": watch.thinned_curve(),
               "curve_png": curve_png(watch.curve, f"{name}: training curve")}
    checks = []
    if infrastructure_error is None:
        if failure is None:
            try:
                figures["epochs"] = result.get("epochs_done", figures["epochs"])
                checks = scored_checks(name, result, data, plan, figures)
            except (BadPredictions, AttributeError) as exc:
                failure = ("failed", f"the predictions cannot be scored: {exc}")
        if failure is not None:
            checks = failed_checks(name, *failure, figures)
    return results_document(name, "sandbox/milestone_driver.py", backend.name, started_at,
                            round(wall_s, 3), infrastructure_error, checks, figures["peak_mb"])
