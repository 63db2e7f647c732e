"""Module 08: the Trainer loop, gradient clipping, accuracy, and safe, atomic checkpoints."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinytorch import CrossEntropyLoss, Dropout, Linear, MSELoss, ReLU, Sequential, Tensor, manual_seed
from tinytorch.core import training
from tinytorch.core.optimizers import SGD, Adam, StepLR
from tinytorch.core.training import CheckpointError, Trainer, accuracy, clip_grad_norm


def blobs(n: int = 64, seed: int = 0):
    """Two separable Gaussian clusters as four batches of (x, labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 2)).astype(np.float32) + np.where(labels[:, None] == 1, 2.5, -2.5).astype(np.float32)
    return [(x[i:i + 16], labels[i:i + 16]) for i in range(0, n, 16)]


def make_trainer(seed: int = 0, scheduler: bool = True, **kwargs) -> Trainer:
    manual_seed(seed)
    model = Sequential(Linear(2, 8), ReLU(), Dropout(0.1), Linear(8, 2))
    optimizer = Adam(model.parameters(), lr=0.05)
    return Trainer(model, optimizer, CrossEntropyLoss(),
                   scheduler=StepLR(optimizer, step_size=4, gamma=0.5) if scheduler else None, **kwargs)


def test_training_learns_separable_blobs_and_records_history():
    trainer = make_trainer()
    data = blobs()
    first_loss, _ = trainer.train_epoch(data)
    for _ in range(4):
        trainer.train_epoch(data)
    loss, acc = trainer.evaluate(blobs(seed=1))
    assert acc >= 0.95 and loss < first_loss
    assert trainer.epoch == 5
    assert len(trainer.history["train_loss"]) == len(trainer.history["train_accuracy"]) == 5
    assert trainer.history["train_loss"][-1] < trainer.history["train_loss"][0]
    # 4 batches per epoch, StepLR halves every 4 steps: lr after epoch k is 0.05 / 2**k
    assert trainer.history["lr"] == pytest.approx([0.025, 0.0125, 0.00625, 0.003125, 0.0015625])


def test_scheduler_can_step_per_epoch():
    trainer = make_trainer(scheduler_interval="epoch")
    trainer.train_epoch(blobs())
    assert trainer.scheduler.last_step == 1
    with pytest.raises(ValueError, match="scheduler_interval"):
        make_trainer(scheduler_interval="minute")


def test_evaluate_uses_eval_mode_no_grad_and_restores_training_mode():
    trainer = make_trainer()
    seen = []
    original_forward = trainer.model.forward

    def spy(x):
        out = original_forward(x)
        seen.append((trainer.model.layers[2].training, out.requires_grad))
        return out

    trainer.model.forward = spy
    before = [p.data.copy() for p in trainer.model.parameters()]
    first = trainer.evaluate(blobs())
    assert trainer.evaluate(blobs()) == first  # dropout is off: deterministic
    assert seen and all(mode is False and not grad for mode, grad in seen)
    assert trainer.model.training and trainer.model.layers[2].training
    for p, old in zip(trainer.model.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


def test_regression_reports_no_accuracy():
    manual_seed(0)
    model = Linear(2, 1)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), MSELoss())
    x = np.ones((4, 2), dtype=np.float32)
    loss, acc = trainer.train_epoch([(x, np.zeros((4, 1)))])
    assert loss > 0 and np.isnan(acc)


def test_empty_loader_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        make_trainer().train_epoch([])


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = Tensor([0.0], requires_grad=True), Tensor([0.0], requires_grad=True)
    a.grad, b.grad = np.array([3.0]), np.array([4.0])
    assert clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([a.grad[0], b.grad[0]], [0.6, 0.8], rtol=1e-5)
    assert clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose([a.grad[0], b.grad[0]], [0.6, 0.8], rtol=1e-5)


def test_trainer_clips_before_the_step():
    manual_seed(0)
    model = Linear(1, 1, bias=False)
    start = model.weight.data.copy()
    trainer = Trainer(model, SGD(model.parameters(), lr=1.0), MSELoss(), grad_clip_norm=0.5)
    trainer.train_epoch([(np.array([[100.0]]), np.array([[-100.0]]))])
    assert abs(model.weight.data - start).item() == pytest.approx(0.5, rel=1e-4)


def test_accuracy_for_class_scores_and_probabilities():
    assert accuracy(Tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(Tensor([[0.9], [0.4]]), np.array([[1.0], [1.0]])) == 0.5


# ---------------------------------------------------------------- checkpoints
def _params(trainer):
    return [p.data.copy() for p in trainer.model.parameters()]


def test_checkpoint_round_trip_resumes_training_identically(tmp_path):
    path = tmp_path / "run.npz"
    data = blobs()
    straight = make_trainer(seed=0)
    straight.train_epoch(data)
    straight.save_checkpoint(path)
    straight.model.layers[2].p = 0.0  # dropout draws from the shared generator: switch it off for the comparison
    straight.train_epoch(data)

    resumed = make_trainer(seed=99)
    resumed.load_checkpoint(path)
    assert resumed.epoch == 1 and resumed.history["train_loss"] == straight.history["train_loss"][:1]
    assert resumed.optimizer.lr == pytest.approx(0.025) and resumed.optimizer.step_count == 4
    resumed.model.layers[2].p = 0.0
    resumed.train_epoch(data)
    for a, b in zip(_params(resumed), _params(straight)):
        np.testing.assert_array_equal(a, b)


def test_failed_save_leaves_the_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    trainer = make_trainer()
    trainer.save_checkpoint(path)
    original = path.read_bytes()

    def disk_full(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError("No space left on device")

    trainer.train_epoch(blobs())
    monkeypatch.setattr(training.np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        trainer.save_checkpoint(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["run.npz"]
    fresh = make_trainer(seed=5)
    fresh.load_checkpoint(path)
    assert fresh.epoch == 0


class _Exploit:
    """Unpickling this would create a marker file: proof that code from a checkpoint ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_checkpoint_with_a_pickled_object_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Exploit(marker)
    np.savez(path, **{"meta.json": np.frombuffer(b"{}", dtype=np.uint8), "model/layers.0.weight": payload})
    trainer = make_trainer()
    before = _params(trainer)
    with pytest.raises(CheckpointError, match="refusing to load"):
        trainer.load_checkpoint(path)
    assert not marker.exists()
    for a, b in zip(_params(trainer), before):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_for_another_model_changes_nothing(tmp_path):
    path = tmp_path / "other.npz"
    manual_seed(0)
    other_model = Sequential(Linear(2, 4), ReLU(), Dropout(0.1), Linear(4, 2))
    Trainer(other_model, Adam(other_model.parameters()), CrossEntropyLoss()).save_checkpoint(path)
    trainer = make_trainer()
    trainer.train_epoch(blobs())
    before, history, lr = _params(trainer), dict(trainer.history), trainer.optimizer.lr
    with pytest.raises(CheckpointError, match="does not fit"):
        trainer.load_checkpoint(path)
    for a, b in zip(_params(trainer), before):
        np.testing.assert_array_equal(a, b)
    assert trainer.history == history and trainer.optimizer.lr == lr and trainer.epoch == 1


@pytest.mark.parametrize("content", [b"", b"not a zip file at all", b"PK\x03\x04truncated"])
def test_unreadable_checkpoint_gets_a_clear_error(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="broken.npz"):
        make_trainer().load_checkpoint(path)


def test_missing_checkpoint_gets_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read"):
        make_trainer().load_checkpoint(tmp_path / "absent.npz")
