"""A run resumed by BackupAndRestore evaluates each epoch exactly once.

The first run is interrupted at each point around the writes of its third
epoch (0-based epoch 2): before the Evaluator writes, between its own writes,
after its writes and before BackupAndRestore's, after BackupAndRestore's and
before the commit, during the commit, after the commit. The second run, from
fresh objects as a new process would have, must end with one evaluation per
epoch, computed on the weights BackupAndRestore kept, and a best file (and
restored weights) that hold the best of those evaluations.
"""

import os

import keras
import pytest

from coolkeras.callbacks import Evaluator, _atomic
from coolkeras.callbacks._evaluator_resume import ResumeState
from tests.callbacks.evaluator_helpers import (
    WeightLog,
    assert_weights_equal,
    tiny_data,
    tiny_model,
)

CRASH_EPOCH = 2
# The value of each epoch in each run. When Keras trains epoch 2 again in the
# second run, its value 0.15 is no improvement: the best stays epoch 1 (0.2).
VALUES = {1: [0.1, 0.2, 0.9, 0.05], 2: [0.1, 0.2, 0.15, 0.05]}


class Crash(BaseException):
    """A simulated kill: not an `Exception`, so no handler of Keras' or ours runs."""


class EpochMetric(keras.callbacks.Callback):
    """Tracks the epoch; its `metric` returns `VALUES[run][epoch]` and logs the call."""

    def __init__(self, run, calls, crash_at=None):
        super().__init__()
        self.run, self.calls, self.crash_at = run, calls, crash_at
        self.epoch = self.batch_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def metric(self, y_true, y_pred):
        if self.epoch == self.crash_at:
            raise Crash("killed after the epoch, before the Evaluator wrote")
        self.calls.append((self.run, self.epoch))
        return VALUES[self.run][self.epoch]


class CrashingBackup(keras.callbacks.BackupAndRestore):
    """Crashes right after writing the checkpoint of `crash_epoch`."""

    crash_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if epoch == self.crash_epoch:
            raise Crash("killed after BackupAndRestore wrote")


class CrashAt(keras.callbacks.Callback):
    """Crashes at `on_train_batch_begin(batch)` of `epoch`."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise Crash("killed during the next epoch")


def arm(monkeypatch, owner, name, before):
    """Makes `owner.name` crash once (before or after its work) at CRASH_EPOCH."""
    original = getattr(owner, name)
    armed = [True]

    def crashing(*args):
        if name == "add":  # ResumeState.add(self, snapshot)
            at_epoch = args[1]["epoch"] == CRASH_EPOCH
        else:  # copy_file(staged file of an epoch, destination)
            at_epoch = f".staged-{CRASH_EPOCH}." in args[0]
        if armed[0] and at_epoch and before:
            armed[0] = False
            raise Crash(f"killed before {name}")
        result = original(*args)
        if armed[0] and at_epoch:
            armed[0] = False
            raise Crash(f"killed after {name}")
        return result

    monkeypatch.setattr(owner, name, crashing)


# point: (does Keras train epoch 2 again in the second run?)
POINTS = {
    "before_evaluator_writes": True,
    "after_staging_before_state": True,
    "after_state_before_backup": True,
    "after_backup_before_commit": False,
    "during_commit": False,
    "after_commit": False,
}


def run(tmp_path, number, calls, log, save_best, crash=None, monkeypatch=None,
        save_freq="epoch"):
    x, y = tiny_data()
    model = tiny_model()  # a fresh process starts from fresh weights
    tracker = EpochMetric(number, calls)
    backup_class = keras.callbacks.BackupAndRestore
    extra = []
    if crash == "before_evaluator_writes":
        tracker.crash_at = CRASH_EPOCH
    elif crash == "after_staging_before_state":
        arm(monkeypatch, ResumeState, "add", before=True)
    elif crash == "after_state_before_backup":
        arm(monkeypatch, ResumeState, "add", before=False)
    elif crash == "after_backup_before_commit":
        backup_class = CrashingBackup
        CrashingBackup.crash_epoch = CRASH_EPOCH
    elif crash == "during_commit":  # the file is copied, the state not yet written
        arm(monkeypatch, _atomic, "copy_file", before=False)
    elif crash == "after_commit":
        extra = [CrashAt(CRASH_EPOCH + 1, 0)]
    elif crash is not None:  # (epoch, batch) during the next epoch
        extra = [CrashAt(*crash)]
    evaluator = Evaluator(
        {"score": tracker.metric}, data=(x, y), mode="max", restore_best=True,
        save_best=None if save_best is None else str(tmp_path / save_best),
    )
    backup = backup_class(str(tmp_path / "backup"), save_freq=save_freq)
    model.fit(
        x, y, epochs=4, batch_size=8, verbose=0,
        callbacks=[log, backup, tracker, *extra, evaluator],
    )
    return model, evaluator


def check_resumed(tmp_path, save_best, replayed, calls, first, model, evaluator):
    values = VALUES[2 if replayed else 1][:CRASH_EPOCH + 1] + [VALUES[2][3]]
    assert calls[-(2 if replayed else 1):] == (
        [(2, CRASH_EPOCH), (2, 3)] if replayed else [(2, 3)]
    )  # the second run evaluated only what the checkpoint did not cover
    assert [h["epoch"] for h in evaluator.history] == [0, 1, 2, 3]
    assert [h["score"] for h in evaluator.history] == values
    best_epoch = 1 if replayed else 2
    assert (evaluator.best, evaluator.best_epoch) == (values[best_epoch], best_epoch)
    expected = first.weights[best_epoch]
    if save_best is not None:
        fresh = tiny_model()
        fresh.load_weights(str(tmp_path / save_best))
        assert_weights_equal(fresh.get_weights(), expected)
    assert_weights_equal(model.get_weights(), expected)  # restore_best
    assert sorted(os.listdir(tmp_path)) == ([] if save_best is None else [save_best])


# Without save_best, restore_best keeps its copy in the backup folder, by the
# same code: the points between the Evaluator's own writes are not repeated.
CASES = [(point, "best.weights.h5") for point in POINTS] + [
    (point, None)
    for point in POINTS
    if point not in ("after_staging_before_state", "during_commit")
]


@pytest.mark.parametrize("point, save_best", CASES)
def test_interrupted_anywhere_each_epoch_is_evaluated_once(
    tmp_path, monkeypatch, point, save_best
):
    calls, first = [], WeightLog()
    with pytest.raises(Crash):
        run(tmp_path, 1, calls, first, save_best, point, monkeypatch)
    evaluated = [0, 1] + ([] if point == "before_evaluator_writes" else [2])
    assert [epoch for _, epoch in calls] == evaluated
    monkeypatch.undo()
    model, evaluator = run(tmp_path, 2, calls, WeightLog(), save_best)
    check_resumed(tmp_path, save_best, POINTS[point], calls, first, model, evaluator)


@pytest.mark.parametrize(
    "crash_batch, replayed",
    [(0, True), (2, False)],
    ids=["before_the_next_checkpoint", "after_the_next_checkpoint"],
)
def test_batch_checkpoints_commit_when_they_cover_the_epoch(
    tmp_path, crash_batch, replayed
):
    # save_freq=2 with 4 steps per epoch: the first checkpoint that says
    # "resume after epoch 2" is written at batch 2 of epoch 3 (1-based).
    calls, first = [], WeightLog()
    with pytest.raises(Crash):
        run(tmp_path, 1, calls, first, "best.keras",
            crash=(CRASH_EPOCH + 1, crash_batch), save_freq=2)
    assert [epoch for _, epoch in calls] == [0, 1, 2]
    model, evaluator = run(tmp_path, 2, calls, WeightLog(), "best.keras", save_freq=2)
    check_resumed(tmp_path, "best.keras", replayed, calls, first, model, evaluator)


class FileProbe(keras.callbacks.Callback):
    """At each epoch start, checks that `best_epoch` and the file agree."""

    def __init__(self, evaluator, path, log):
        super().__init__()
        self.evaluator, self.path, self.log = evaluator, path, log
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0:
            return
        best_epoch = self.evaluator.best_epoch
        fresh = tiny_model()
        fresh.load_weights(self.path)
        assert_weights_equal(fresh.get_weights(), self.log.weights[best_epoch])
        self.seen.append(best_epoch)


def test_with_a_backup_the_file_and_best_epoch_agree_at_every_epoch(tmp_path):
    x, y = tiny_data()
    log, calls = WeightLog(), []
    tracker = EpochMetric(1, calls)
    path = str(tmp_path / "best.weights.h5")
    evaluator = Evaluator({"score": tracker.metric}, data=(x, y), mode="max",
                          save_best=path)
    probe = FileProbe(evaluator, path, log)
    tiny_model().fit(
        x, y, epochs=4, batch_size=8, verbose=0,
        callbacks=[log, keras.callbacks.BackupAndRestore(str(tmp_path / "b")),
                   tracker, probe, evaluator],
    )
    # Committed by the start of the next epoch: epochs 0, 1, 2 improved.
    assert probe.seen == [0, 1, 2]
