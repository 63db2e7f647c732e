"""Grade a milestone (XOR, CIFAR-10, TinyGPT): train in the sandbox, score on this side.

Points go only to a model with the course's architecture trained in this job, so nothing the
student's runner says about its model is believed:

1. the grader's REFERENCE runner (the reference ``tinytorch``, no student code) builds the
   job's initial model from the job's secret seed; its weights go to the student's runner;
2. the student's runner trains from them on this job's data (classes relabelled per job,
   ``workers.milestones.data``) and hands back the trained weights and epoch-end snapshots
   as plain arrays; the student's runner never sees an evaluation input;
3. the weights are checked against the architecture (names, shapes, float dtype), then the
   reference runner loads them into the course's model and answers the held-out inputs;
   accuracy or validation loss is computed here against answers that never left this
   process; it also gives each snapshot's loss on a probe of training data: the curve the
   grader trusts. What does not add up (weights unrelated to this job's initial ones, a
   curve that never fell, a reported loss the weights do not give) is flagged for staff.

The course's driver (``sandbox/milestone_driver.py``) and the milestone programs it borrows models
from travel as source text and are installed in both runners under their own names. Wall time
is measured here, peak memory comes from the backend. Progress frames stream to
``on_progress``; a non-finite loss ends the run at once with that reason. The rubric's plateau
rule travels in the plan: the driver ends training on it and still returns its weights.

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
from harness.student_text import clean
from harness.suite import REFERENCE_ROOT, package_tar, repo_bytes
from workers.milestones.data import DEFAULT_CACHE, job_data
from workers.milestones.plot import curve_png

CHECKOUT = Path(__file__).resolve().parent.parent.parent
RUBRICS_DIR = CHECKOUT / "rubrics"
CURVE_POINTS = 200
CURVE_KEPT = 4000     # epoch-end points held while training; thinned by half past it
PROGRESS_FIELDS = ("epoch", "step", "loss", "epoch_loss", "accuracy", "elapsed_s")
LOG_PROB_FLOOR = math.log(1e-9)    # a character given no probability costs 20.7 nats, not inf
GRADER_LIMITS = Limits(wall_s=600, memory_mb=2048, cpus=1)   # the reference runner's
SIMILARITY_FLOOR = 0.05   # below it, trained weights look unrelated to this job's initial ones

PLANS = {   # the real runs; tests and benchmarks override single entries
    "xor": {"epochs": 2000, "hidden": 8, "lr": 0.05, "eval_repeats": 16, "report_every": 50},
    "cifar10": {"epochs": 6, "width": 24, "batch_size": 64, "lr": 0.08, "report_every": 20,
                "train_limit": None, "eval_limit": None},
    "tinygpt": {"context": 128, "steps_per_epoch": 100, "eval_windows": 800,
                "sample_chars": 300, "report_every": 20, "blas_threads": 1},  # as the program
}
METRIC = {   # milestone -> (check id, figure, what it measures)
    "xor": ("xor.accuracy", "test_accuracy",
            "the trained network, run by the grader, classifies the XOR points"),
    "cifar10": ("cifar10.test_accuracy", "test_accuracy",
                "test accuracy of the CNN trained within the budget, run by the grader on test "
                "images the sandbox never sees"),
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
_course = _sys.modules["sandbox.milestone_driver"]
_course_run = _course.run
del _course_sources
"""


class TrainingStopped(Exception):
    """The rubric's early-stop rule ended the run; the message is the student's reason."""


class BadPredictions(ValueError):
    """What came back cannot be scored (wrong shape or type)."""


class GraderFailed(RuntimeError):
    """The reference runner could not build or evaluate a model: ours to fix, never a zero."""


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

    def __call__(self, reported):
        numbers = progress_numbers(reported)
        self.last = numbers
        if numbers.get("epoch_end") is True:
            point = {key: _plain(numbers.get(key)) for key in ("epoch", "step", "elapsed_s",
                                                                "accuracy")}
            self.curve.append({**point, "loss": _plain(numbers.get("epoch_loss"))})
            if len(self.curve) > CURVE_KEPT:
                self.curve = self.curve[::2]
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


def progress_numbers(reported) -> dict:
    """The numbers of a progress report, and nothing else: a report is the student's, so a
    text field ("GRADER NOTE: ...") never reaches a status line or a page."""
    if type(reported) is not dict:
        return {}
    numbers = {key: reported[key] for key in PROGRESS_FIELDS
               if type(reported.get(key)) in (int, float)}
    if reported.get("epoch_end") is True:
        numbers["epoch_end"] = True
    return numbers


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


def scored_checks(name, result, evaluation, data, plan, figures):
    """The checks of a run whose weights the grader evaluated: the metric with its figure,
    completion (the run's own account, and a curve that fell on the grader's probe), sample."""
    check_id, figure, description = METRIC[name]
    if name == "tinygpt":
        value = val_loss_of(evaluation.get("log_probs"), data.answers, data.classes)
        said = f"validation loss {value:.3f} nats/char (uniform guess {math.log(data.classes):.2f})"
    else:
        value = accuracy_of(evaluation.get("predictions"), data.answers)
        said = f"accuracy {value:.1%} on {len(data.answers)} evaluation inputs"
    epochs, planned = _number(result.get("epochs_done")), _number(result.get("epochs_planned"))
    stopped = result.get("stopped_early")
    curve = figures.get("trusted_curve") or []
    if type(stopped) is str and stopped:
        done = ("failed", f"{clean(stopped, 500)}; scored on what it learned: {said}")
    elif result.get("out_of_time") is not False and planned is not None:
        done = ("failed", f"ran out of time at epoch {epochs:g} of {planned:g} with {said}; "
                          f"the training budget is {plan['budget_s']:g} s")
    elif not curve_fell(curve):
        done = ("failed", "the returned weights fit the training data no better than this "
                          f"job's initial weights; {said}")
    else:
        done = ("passed", f"trained {epochs or 0:g} epochs in {figures['wall_s']:.1f} s")
    sample = evaluation.get("sample")
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


def _install_course(runner, name):
    runner.put("_course_sources", course_sources(name))
    runner.exec(INSTALL_COURSE_CODE)


def _put_data(runner, variable, data: dict):
    """Bind ``data`` (large arrays as chunk lists, one frame each) to ``variable``."""
    parts = []
    for key, value in data.items():
        pieces = value if isinstance(value, list) else [value]
        for i, piece in enumerate(pieces):
            runner.put(f"_{variable}_{key}_{i}", piece)
        names = ", ".join(f"_{variable}_{key}_{i}" for i in range(len(pieces)))
        parts.append(f"{key!r}: [{names}]" if isinstance(value, list) else f"{key!r}: {names}")
    runner.exec(f"{variable} = {{{', '.join(parts)}}}")


def _train_in_sandbox(runner, name, data, plan, init):
    """Install the course code, hand over the data and initial weights, train, return the
    driver's result (a claim: validated by the caller)."""
    _install_course(runner, name)
    _put_data(runner, "_data", {**data.inputs, "init": init})
    runner.put("_plan", plan)
    runner.exec(f"_result = _course_run({name!r}, _data, _plan, report)",
                timeout=runner.limits.wall_s)
    return runner.eval("_result")


class Grader:
    """The reference runner: builds the job's initial model, evaluates returned weights.
    Only trusted code runs in it, so what it answers is a trusted value; a failure of it is
    an infrastructure error."""

    def __init__(self, backend, name, plan, reference):
        self.name, self.plan = name, plan
        self.runner = Runner(backend, GRADER_LIMITS, package_tar(reference), call_timeout_s=300)

    def ask(self, expression, held_out=None, **values):
        """Bind ``values`` (and ``held_out`` as ``_held_out``, chunked) in a runner with the
        course code installed, then evaluate ``expression``."""
        try:
            if self.runner.handle is None:
                _install_course(self.runner, self.name)
                self.runner.put("_plan", self.plan)
            for name, value in values.items():
                self.runner.put(name, value)
            if held_out is not None:
                _put_data(self.runner, "_held_out", held_out)
            return self.runner.eval(expression)
        except (StudentError, RunnerFailure) as exc:
            raise GraderFailed(f"the grader's reference runner failed: {exc}") from None

    def initial_weights(self):
        return self.ask(f"_course.initial_weights({self.name!r}, _plan)")

    def evaluate(self, weights, held_out, snapshots):
        """(evaluation, probe losses of each of ``snapshots``) of the returned weights."""
        return self.ask(f"[_course.evaluate({self.name!r}, _weights, _held_out, _plan), "
                        f"_course.probe_losses({self.name!r}, _snapshots, _held_out, _plan)]",
                        held_out, _weights=weights, _snapshots=snapshots)

    def close(self):
        self.runner.close()


def trained_weights(returned, init, what="the trained weights") -> dict:
    """``returned`` as float32 arrays if it fits the course's architecture (the names and
    shapes of this job's initial model); BadPredictions saying what does not fit."""
    if type(returned) is not dict:
        raise BadPredictions(f"{what} should be a name -> array mapping, got {_describe(returned)}")
    missing, unexpected = sorted(set(init) - set(returned)), sorted(set(returned) - set(init))
    if missing or unexpected:
        raise BadPredictions(f"{what} do not fit the course's architecture: missing "
                             f"{_names(missing)}, unexpected {_names(unexpected)}")
    for key, start in init.items():
        value = returned[key]
        if type(value) is not np.ndarray or value.dtype.kind != "f" or value.shape != start.shape:
            raise BadPredictions(f"{what}: {clean(key, 200)} should be a float array of shape "
                                 f"{start.shape}, got {_describe(value)}")
    return {key: returned[key].astype(np.float32) for key in init}


def _names(names) -> str:
    shown = ", ".join(clean(n, 200) for n in names[:5])
    return f"[{shown}{', ...' if len(names) > 5 else ''}]"


def snapshot_weights(result, init) -> tuple[list, list]:
    """The valid epoch-end snapshots as (points, weights): points are {"epoch", "step"}."""
    points, weights = [], []
    snapshots = result.get("snapshots")
    for snap in snapshots if type(snapshots) is list else []:
        try:
            state = trained_weights(snap.get("weights"), init) if type(snap) is dict else None
        except BadPredictions:
            state = None
        if state is not None:
            points.append({"epoch": _plain(snap.get("epoch")), "step": _plain(snap.get("step"))})
            weights.append(state)
    return points, weights


def similarity_to_init(weights, init) -> float | None:
    """Median cosine similarity of each weight matrix to its initial value: training moves
    weights from where they started, weights made elsewhere are unrelated to them (~0)."""
    cosines = []
    for key, start in init.items():
        if start.ndim >= 2 and start.size >= 64:
            a, b = weights[key].ravel().astype(np.float64), start.ravel().astype(np.float64)
            norm = np.linalg.norm(a) * np.linalg.norm(b)
            cosines.append(float(a @ b / norm) if norm > 0 and math.isfinite(norm) else 0.0)
    return round(float(np.median(cosines)), 4) if cosines else None


def curve_fell(curve) -> bool:
    """Whether the grader's probe loss of the final weights is below the initial weights'."""
    if len(curve) < 2 or curve[0]["loss"] is None or curve[-1]["loss"] is None:
        return False
    return curve[-1]["loss"] < curve[0]["loss"]


def review_flags(figures, result) -> list:
    """What does not add up about a run, for staff (students are not accused by a number)."""
    flags = []
    similarity = figures.get("init_similarity")
    if similarity is not None and similarity < SIMILARITY_FLOOR:
        flags.append(f"the trained weights are unrelated to this job's initial weights "
                     f"(median cosine {similarity:.3f}): trained outside this job?")
    curve = figures.get("trusted_curve") or []
    if not curve_fell(curve):
        flags.append("the returned weights fit the training data no better than the initial "
                     "ones")
    reported = [p["loss"] for p in figures.get("curve") or [] if p.get("loss") is not None]
    if reported and curve_fell(curve) and reported[-1] < 0.5 * curve[-1]["loss"]:
        flags.append(f"the run reported a training loss of {reported[-1]:.3f}; its weights give "
                     f"{curve[-1]['loss']:.3f} on the grader's probe")
    return flags


def run_milestone(name, repo, backend, limits: Limits, dataset_dir, seed, on_progress=None, *,
                  plan=None, rubric: LoadedRubric | None = None, cache_dir=DEFAULT_CACHE,
                  reference=REFERENCE_ROOT):
    """Train and score milestone ``name`` for ``repo`` (tar bytes, .tar path or checkout).

    ``plan`` overrides sizes and the training budget (small slices for tests); the rubric
    (``rubrics/<name>.yaml`` by default) gives the budget and the early-stop rule.
    ``on_progress(numbers)`` sees every progress report with ``time_left_s``. ``reference``:
    the checkout whose ``tinytorch/`` the grader's reference runner uses.
    """
    loaded = rubric or load_rubric(RUBRICS_DIR / f"{name}.yaml")
    plan = make_plan(name, loaded, seed, plan)
    data = job_data(name, plan, seed, dataset_dir, cache_dir)
    if name == "tinygpt":
        plan["vocab_size"] = data.classes
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    grader = Grader(backend, name, plan, reference)
    runner = Runner(backend, limits, repo_bytes(repo), call_timeout_s=60.0)
    watch = ProgressWatch(name, loaded.rubric.training.early_stop, on_progress,
                          lambda: runner.job_deadline)
    runner.on_progress = watch
    began = time.monotonic()
    result, failure, infrastructure_error, init = None, None, None, None
    try:
        init = grader.initial_weights()
        grader.close()     # not idle beside the training run; started again to evaluate
        runner.job_deadline = time.monotonic() + limits.wall_s
        result = _train_in_sandbox(runner, name, data, plan, init)
    except (BackendUnavailable, GraderFailed) as exc:
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
    if infrastructure_error is None and failure is None:
        try:
            checks = _score(name, result, init, grader, data, plan, figures)
        except (BadPredictions, AttributeError) as exc:
            failure = ("failed", f"the trained model cannot be scored: {exc}")
        except (BackendUnavailable, GraderFailed) as exc:
            infrastructure_error = str(exc)
        finally:
            grader.close()
    if infrastructure_error is None and failure is not None:
        checks = failed_checks(name, *failure, figures)
    return results_document(name, "sandbox/milestone_driver.py", backend.name, started_at,
                            round(wall_s, 3), infrastructure_error, checks, figures["peak_mb"])


def _score(name, result, init, grader, data, plan, figures) -> list:
    """Evaluate the returned weights in the reference runner and score them here; adds the
    grader's curve, the similarity to the initial weights and review flags to ``figures``."""
    if type(result) is not dict:
        raise BadPredictions(f"the run should return a mapping, got {_describe(result)}")
    weights = trained_weights(result.get("weights"), init)
    points, snapshots = snapshot_weights(result, init)
    evaluation, losses = grader.evaluate(weights, data.held_out, [init, *snapshots, weights])
    if type(evaluation) is not dict or type(losses) is not list:
        raise GraderFailed("the grader's reference runner answered out of shape")
    if name == "tinygpt":
        ids = evaluation.get("sample_ids")
        evaluation["sample"] = "".join(data.vocab[i] for i in ids.tolist()
                                       if 0 <= i < len(data.vocab))
    start = {"epoch": 0, "step": 0}
    end = {"epoch": _plain(result.get("epochs_done")), "step": _plain(result.get("steps"))}
    figures["trusted_curve"] = [{**point, "loss": _plain(loss)} for point, loss
                                in zip([start, *points, end], losses)]
    figures["init_similarity"] = similarity_to_init(weights, init)
    figures["epochs"] = end["epoch"] if end["epoch"] is not None else figures["epochs"]
    figures["review_flags"] = review_flags(figures, result)
    return scored_checks(name, result, evaluation, data, plan, figures)
