"""Milestones as graded jobs (workers/milestones/job.py), CI-sized: small slices of the real
data, small budgets, the Docker sandbox when it is available (the local backend otherwise,
with a printed note). The reference must pass; answers that skip training, or that hunt for
labels, must score as chance; the starter and a broken Conv2d backward must fail fast."""

import base64
import math

import numpy as np
import pytest

from autograder.rubric import grade, load_rubric
from autograder.starter import generate_starter
from tests.grading.submission_tars import package_files, patched, tar_of
from tests.milestones.datasets import CIFAR_PLAN, GPT_PLAN, SHAKESPEARE, build_course_data
from harness.backends import Limits
from harness.backends.local import LocalBackend
from workers.milestones.data import DatasetMissing, check_datasets, job_data
from workers.milestones.job import RUBRICS_DIR, accuracy_of, run_milestone, val_loss_of

LIMITS = Limits(wall_s=150, memory_mb=1536, cpus=1)   # one BLAS thread: no spinning when busy
CONV_WEIGHT_GRAD = ('d_weight = (ctx.saved["cols"].T @ g).reshape(kh, kw, c_in, c_out)'
                    '.transpose(3, 2, 0, 1)')


@pytest.fixture(scope="module")
def backend(request):
    """The Docker sandbox if Docker and its image are here; else the local backend, said."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    try:
        import docker
        docker.from_env().ping()
        from deploy import build_sandbox
        from workers.docker_backend import DockerBackend
        return DockerBackend(image=build_sandbox.ensure_image())
    except Exception as exc:  # no daemon, no image, no debootstrap: all mean "no sandbox here"
        note = f"NOTE: milestone jobs run on the LOCAL backend (no Docker sandbox: {exc})"
        print(note)
        if reporter is not None:
            reporter.write_line(note)
        return LocalBackend()


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    """A course dataset dir: 120 train and 60 test images per class, all of the text."""
    return build_course_data(tmp_path_factory.mktemp("course-data"))


@pytest.fixture(scope="module")
def reference():
    return package_files()


def graded(name, document):
    return grade(load_rubric(RUBRICS_DIR / f"{name}.yaml"), document)


def checks_of(document):
    assert document["infrastructure_error"] is None, document["infrastructure_error"]
    return {check["id"]: check for check in document["checks"]}


# -- the reference passes -------------------------------------------------------------------

def test_reference_passes_xor_with_figures_curve_and_progress(backend, reference, dataset_dir):
    progress = []
    document = run_milestone("xor", tar_of(reference), backend, LIMITS, dataset_dir, seed=1,
                             on_progress=progress.append)
    checks = checks_of(document)
    accuracy = checks["xor.accuracy"]
    assert accuracy["outcome"] == "passed" and accuracy["figures"]["test_accuracy"] == 1.0
    figures = accuracy["figures"]
    assert figures["wall_s"] > 0 and figures["peak_mb"] > 10 and figures["epochs"] >= 10
    assert figures["curve"][-1]["epoch"] == figures["epochs"]
    assert base64.b64decode(figures["curve_png"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert progress and all(p["milestone"] == "xor" and 0 < p["time_left_s"] <= 150
                            for p in progress)
    scored = graded("xor", document)
    assert scored.points == scored.max_points == 100


def test_reference_learns_a_cifar10_slice(backend, reference, dataset_dir):
    document = run_milestone("cifar10", tar_of(reference), backend, LIMITS, dataset_dir, seed=2,
                             plan=CIFAR_PLAN)
    checks = checks_of(document)
    accuracy = checks["cifar10.test_accuracy"]["figures"]["test_accuracy"]
    assert checks["cifar10.test_accuracy"]["outcome"] == "passed"
    assert accuracy >= 0.2, f"reference reached only {accuracy:.1%} on the slice (chance 10%)"
    assert checks["cifar10.completes"]["outcome"] == "passed"
    assert [p["epoch"] for p in checks["cifar10.completes"]["figures"]["curve"]] == [1, 2, 3, 4]
    assert document["peak_mb"] > 50


def test_reference_tinygpt_slice_beats_a_uniform_guess_and_writes_a_sample(
        backend, reference, dataset_dir):
    document = run_milestone("tinygpt", tar_of(reference), backend, LIMITS, dataset_dir, seed=3,
                             plan=GPT_PLAN)
    checks = checks_of(document)
    loss = checks["tinygpt.val_loss"]["figures"]["val_loss"]
    assert checks["tinygpt.val_loss"]["outcome"] == "passed"
    assert loss < 3.2 < math.log(65), f"validation loss {loss:.2f} is near a uniform guess"
    sample = checks["tinygpt.sample"]["figures"]["sample"]
    assert len(sample) == 61 and checks["tinygpt.sample"]["visibility"] == "hidden"


# -- a model trained in this job, or nothing -------------------------------------------------

def _replacing_the_driver(reference, milestone, body):
    """A package that, at import, swaps the course driver's run for ``body``'s ``_fake``."""
    return {**reference, "tinytorch/__init__.py": reference["tinytorch/__init__.py"]
            + "\nimport sys as _sys\nimport numpy as _np\n" + body
            + f"\n_sys.modules['sandbox.milestone_driver'].RUNS[{milestone!r}] = _fake\n"}


FINISHED = '{"epochs_done": 4, "epochs_planned": 4, "steps": 400, "out_of_time": False}'
ANSWERS_ONLY = f"""
def _fake(data, plan, report):
    report(epoch=1, epoch_loss=0.01, epoch_end=True)
    return {{"predictions": _np.zeros(100, dtype=_np.int64), **{FINISHED}}}
"""
UNTRAINED = f"""
def _fake(data, plan, report):
    report(epoch=4, epoch_loss=0.01, epoch_end=True)
    return {{"weights": data["init"], **{FINISHED}}}
"""


@pytest.mark.parametrize("body", [ANSWERS_ONLY, UNTRAINED], ids=["answers only", "untrained"])
def test_a_driver_replaced_at_import_scores_nothing(backend, reference, dataset_dir, body):
    files = _replacing_the_driver(reference, "cifar10", body)
    document = run_milestone("cifar10", tar_of(files), backend, LIMITS, dataset_dir, seed=4,
                             plan=CIFAR_PLAN)
    checks = checks_of(document)
    assert checks["cifar10.completes"]["outcome"] == "failed"
    accuracy = checks["cifar10.test_accuracy"]["figures"].get("test_accuracy", 0.0)
    assert accuracy < 0.17, f"scored {accuracy:.1%} (chance is 10%)"
    assert graded("cifar10", document).points == 0


def _precomputed_cifar_weights(dataset_dir):
    """CifarNet weights trained here, on the canonical labels, before any job."""
    from tinytorch import CrossEntropyLoss, Tensor, manual_seed
    from tinytorch.core.optimizers import Adam
    from milestones.cifar10 import CifarNet
    from workers.milestones.data import cifar10_source
    from tinytorch.core.dataloader import CIFAR10_MEAN, CIFAR10_STD, Normalize, load_cifar10

    images, labels = load_cifar10(cifar10_source(dataset_dir), "train")
    manual_seed(123)
    model = CifarNet(CIFAR_PLAN["width"])
    optimizer, loss_fn = Adam(model.parameters(), lr=0.01), CrossEntropyLoss()
    normalize = Normalize(CIFAR10_MEAN, CIFAR10_STD)
    order = np.random.default_rng(0).permutation(len(labels))
    for epoch in range(3):
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            loss = loss_fn(model(Tensor(normalize(images[batch]))), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {name: np.array(value, dtype=np.float32) for name, value in model.state_dict().items()}


def test_weights_prepared_before_the_job_score_as_chance_and_are_flagged(
        backend, reference, dataset_dir):
    weights = _precomputed_cifar_weights(dataset_dir)
    shipped = {name: base64.b64encode(array.tobytes()).decode() for name, array in weights.items()}
    shapes = {name: list(array.shape) for name, array in weights.items()}
    body = f"""
import base64 as _b64
_SHIPPED, _SHAPES = {shipped!r}, {shapes!r}
def _fake(data, plan, report):
    report(epoch=4, epoch_loss=0.5, epoch_end=True)
    weights = {{name: _np.frombuffer(_b64.b64decode(text), _np.float32).reshape(_SHAPES[name])
               for name, text in _SHIPPED.items()}}
    return {{"weights": weights, "snapshots": [{{"epoch": 4, "step": 400, "weights": weights}}],
             **{FINISHED}}}
"""
    document = run_milestone("cifar10", tar_of(_replacing_the_driver(reference, "cifar10", body)),
                             backend, LIMITS, dataset_dir, seed=4, plan=CIFAR_PLAN)
    figures = checks_of(document)["cifar10.test_accuracy"]["figures"]
    assert figures["test_accuracy"] < 0.17, f"scored {figures['test_accuracy']:.1%} (chance 10%)"
    assert figures["init_similarity"] < 0.05
    assert any("unrelated to this job's initial weights" in flag
               for flag in figures["review_flags"])
    assert graded("cifar10", document).points == 0


NGRAM = """
def _fake(data, plan, report):
    ids = data["train_ids"].astype(_np.int64)
    table = _np.zeros((int(plan["vocab_size"]),) * 2, dtype=_np.float32)
    _np.add.at(table, (ids[:-1], ids[1:]), 1.0)
    return {"weights": {"bigram": table}, "epochs_done": None, "epochs_planned": None,
             "steps": 10, "out_of_time": True}
"""


def test_a_language_model_other_than_the_courses_gpt_scores_nothing(backend, reference,
                                                                   dataset_dir):
    document = run_milestone("tinygpt", tar_of(_replacing_the_driver(reference, "tinygpt", NGRAM)),
                             backend, LIMITS, dataset_dir, seed=3, plan=GPT_PLAN)
    check = checks_of(document)["tinygpt.val_loss"]
    assert check["outcome"] == "failed"
    assert "do not fit the course's architecture" in check["message"]
    assert graded("tinygpt", document).points == 0


def test_scoring_reads_any_output_as_a_distribution_or_refuses_it():
    answers = np.array([0, 1, 2, 3])
    assert val_loss_of(np.zeros((4, 65), np.float32), answers, 65) == pytest.approx(math.log(65))
    confident = np.full((4, 65), -np.inf)
    confident[np.arange(4), answers] = 0.0
    assert val_loss_of(confident, answers, 65) == pytest.approx(0.0)
    assert val_loss_of(np.full((4, 65), np.nan), answers, 65) > 20
    with pytest.raises(ValueError, match=r"shape \(4, 65\)"):
        val_loss_of(np.zeros((4, 64)), answers, 65)
    with pytest.raises(ValueError, match="4 class ids"):
        accuracy_of(answers.astype(np.float32), answers)


def test_each_job_relabels_its_classes_and_keeps_evaluation_inputs_out_of_the_sandbox(
        dataset_dir):
    plan = {"eval_limit": 200}
    first, second = (job_data("cifar10", plan, seed, dataset_dir) for seed in (5, 6))
    assert not np.array_equal(first.answers, second.answers)
    assert not np.array_equal(first.inputs["train_y"], second.inputs["train_y"])
    assert set(first.inputs) == {"train_x", "train_y"}
    test_x = np.concatenate(first.held_out["eval_x"])
    assert test_x.shape == (200, 3, 32, 32)
    gpt = job_data("tinygpt", {"context": 32, "eval_windows": 50}, 5, dataset_dir)
    assert set(gpt.inputs) == {"train_ids"}
    held_out = SHAKESPEARE.read_text(encoding="utf-8")[-len(gpt.inputs["train_ids"]) // 9:]
    answers = "".join(gpt.vocab[i] for i in gpt.answers)
    assert gpt.held_out["eval_x"].shape == (50, 32) and len(answers) == 50
    assert all(a in held_out for a in answers)
    other = job_data("tinygpt", {"context": 32, "eval_windows": 50}, 6, dataset_dir)
    assert gpt.vocab != other.vocab and sorted(gpt.vocab) == sorted(other.vocab)


# -- failing fast, and running out of time --------------------------------------------------

def test_the_starter_fails_cifar10_at_once_with_the_students_error(backend, dataset_dir,
                                                                   tmp_path):
    starter = generate_starter(tmp_path / "starter")
    document = run_milestone("cifar10", starter, backend, LIMITS, dataset_dir, seed=7,
                             plan=CIFAR_PLAN)
    check = checks_of(document)["cifar10.test_accuracy"]
    assert check["outcome"] == "error" and "NotImplementedError" in check["message"]
    assert document["duration_s"] < 30
    assert graded("cifar10", document).points == 0


def test_a_broken_conv2d_backward_is_stopped_by_the_rubrics_early_stop_rule(
        backend, reference, dataset_dir):
    broken = patched(reference, "tinytorch/core/spatial.py", CONV_WEIGHT_GRAD,
                     CONV_WEIGHT_GRAD.replace("= (", "= -("))   # gradient ascent on the filters
    progress = []
    document = run_milestone("cifar10", tar_of(broken), backend, LIMITS, dataset_dir, seed=8,
                             plan={**CIFAR_PLAN, "epochs": 12}, on_progress=progress.append)
    check = checks_of(document)["cifar10.test_accuracy"]
    assert "training stopped early at epoch" in check["message"]
    assert "has not fallen" in check["message"] or "loss became" in check["message"]
    assert check["figures"]["epochs"] < 12 and max(p["epoch"] for p in progress) < 12
    assert graded("cifar10", document).points == 0


def test_a_run_that_learned_then_levelled_off_is_still_scored(backend, reference, dataset_dir):
    """The plateau rule ends training but the model still predicts: the student keeps what
    it learned (a rule this strict stops right after the patience runs out)."""
    document = run_milestone("xor", tar_of(reference), backend, LIMITS, dataset_dir, seed=5,
                             plan={"early_stop": {"patience_epochs": 5, "min_delta": 10.0}})
    checks = checks_of(document)
    accuracy, completes = checks["xor.accuracy"], checks["xor.completes"]
    stopped = "training stopped early at epoch 6: the loss has not fallen below"
    assert accuracy["outcome"] == "passed" and stopped in accuracy["message"]
    assert "scored on what it learned: accuracy" in accuracy["message"]
    assert completes["outcome"] == "failed" and completes["message"] == accuracy["message"]
    assert accuracy["figures"]["epochs"] == 6
    assert 0.0 <= accuracy["figures"]["test_accuracy"] <= 1.0


SLOW_ADAM = '''
import time as _time
from tinytorch.core.optimizers import Adam as _Adam
_step = _Adam.step
def _slow_step(self, *args, **kwargs):
    _time.sleep(DELAY)
    return _step(self, *args, **kwargs)
_Adam.step = _slow_step
'''


def _slow(reference, delay):
    return {**reference, "tinytorch/__init__.py":
            reference["tinytorch/__init__.py"] + SLOW_ADAM.replace("DELAY", str(delay))}


def test_a_slow_student_runs_out_of_time_and_gets_the_rubrics_partial_credit(
        backend, reference, dataset_dir):
    # seed 9 classifies 3 of the 4 points after epochs 1-5: cut at epoch 2 or 3, it earns half
    document = run_milestone("xor", tar_of(_slow(reference, 0.2)), backend, LIMITS,
                             dataset_dir, seed=9, plan={"budget_s": 0.5})
    checks = checks_of(document)
    accuracy = checks["xor.accuracy"]
    assert accuracy["outcome"] == "passed"
    assert "ran out of time at epoch" in accuracy["message"] and "of 2000 with accuracy" in \
        accuracy["message"]
    assert checks["xor.completes"]["outcome"] == "failed"
    scored = graded("xor", document)
    scale = load_rubric(RUBRICS_DIR / "xor.yaml").rubric.checks[0].figures["test_accuracy"]
    assert accuracy["figures"]["test_accuracy"] == 0.75
    assert scored.points == pytest.approx(100 * scale.credit(0.75)) == 50


def test_a_run_cut_by_the_wall_clock_says_where_it_was(backend, reference, dataset_dir):
    document = run_milestone("xor", tar_of(_slow(reference, 0.2)), backend,
                             Limits(wall_s=4, memory_mb=1024, cpus=1), dataset_dir, seed=10,
                             plan={"budget_s": 600, "report_every": 1})
    check = checks_of(document)["xor.accuracy"]
    assert check["outcome"] == "timeout"
    assert check["message"].startswith("ran out of time at epoch ")
    assert document["duration_s"] < 15


def test_a_dataset_dir_without_the_data_is_a_configuration_error(tmp_path):
    with pytest.raises(DatasetMissing, match="CIFAR-10.*Tiny Shakespeare"):
        check_datasets(tmp_path)
    with pytest.raises(DatasetMissing, match="does not exist"):
        check_datasets(tmp_path / "nowhere")
    (tmp_path / "tinyshakespeare.txt").write_text("To be or not to be\n")
    assert check_datasets(tmp_path, ["xor", "tinygpt"]) == {
        "tinygpt": tmp_path / "tinyshakespeare.txt"}


NAN_ADAM = '''
from tinytorch.core.optimizers import Adam as _Adam
def _poisoned_step(self, *args, **kwargs):
    for parameter in self.params:
        parameter.data[...] = float("nan")
_Adam.step = _poisoned_step
'''


def test_a_nan_loss_stops_training_at_once_with_that_reason(backend, reference, dataset_dir):
    files = {**reference, "tinytorch/__init__.py": reference["tinytorch/__init__.py"] + NAN_ADAM}
    document = run_milestone("xor", tar_of(files), backend, LIMITS, dataset_dir, seed=11)
    check = checks_of(document)["xor.accuracy"]
    assert check["outcome"] == "failed", check["message"]
    assert check["message"] == "training stopped early at epoch 2: the loss became nan"
    assert check["figures"]["curve"][0]["loss"] is not None and check["figures"]["epochs"] == 2
