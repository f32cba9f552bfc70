"""The `Evaluator`'s resume state, kept in step with a `BackupAndRestore` checkpoint.

`BackupAndRestore` writes its checkpoint (the weights, then the epoch a resumed
`fit` starts at) in its `on_epoch_end`; the `Evaluator` stands before it in the
same `on_epoch_end` dispatch. Its state is therefore committed in two phases:

1. After each epoch, before `BackupAndRestore` writes, the `Evaluator` records a
   *pending* snapshot of its state in `backup_dir`; when the epoch improved, it
   also saves the best file there (*staged*), not yet at its destination.
2. Once `BackupAndRestore`'s checkpoint says that training resumes after that
   epoch, the snapshot is *committed*: each staged file is copied to its
   destination, and the snapshot becomes the state that `best`, `best_epoch`
   and the destination file describe.

A resumed `fit` reads the epoch `R` of the checkpoint: pending snapshots of
epochs before `R` are committed (the copy is idempotent, so an interruption
during a commit is repaired), the others are dropped and their epochs, which
Keras trains again, are evaluated again. An interruption at any point
therefore neither replays an evaluation nor skips one.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import keras

from coolkeras import _keras_internals
from coolkeras.callbacks import _atomic

Snapshot = dict[str, Any]


class ResumeState:
    """Committed and pending snapshots of one `Evaluator` in `backup_dir`."""

    def __init__(self, backup: keras.callbacks.BackupAndRestore, index: int):
        self.backup = backup
        self._name = f"coolkeras_evaluator_{index}"
        self.path = os.path.join(backup.backup_dir, self._name + ".json")
        self.committed: Snapshot | None = None
        self.pending: list[Snapshot] = []

    @property
    def best_weights_path(self) -> str:
        """Where the best weights live when only `restore_best` needs them."""
        return os.path.join(
            self.backup.backup_dir, f"{self._name}.best{_atomic.WEIGHTS_SUFFIX}"
        )

    def staged_path(self, epoch: int, destination: str) -> str:
        suffix = _atomic.WEIGHTS_SUFFIX
        if not destination.endswith(suffix):
            suffix = _atomic.MODEL_SUFFIX
        return os.path.join(
            self.backup.backup_dir, f"{self._name}.staged-{epoch}{suffix}"
        )

    def checkpoint_epoch(self) -> int | None:
        """The epoch at which `fit` resumes from the backup, `None` without one."""
        return _keras_internals.backup_resume_epoch(self.backup)

    def start(self, snapshot: Snapshot) -> None:
        """A new run: an interruption before any commit resumes from `snapshot`."""
        self.committed, self.pending = snapshot, []

    def resume(self) -> bool:
        """Reads the state of an interrupted run and aligns it with the checkpoint.

        Returns `False` when there is no state to resume from.
        """
        if not os.path.exists(self.path):
            return False
        state = _atomic.read_json(self.path)
        self.committed, self.pending = state["committed"], state["pending"]
        epoch = self.checkpoint_epoch()
        if epoch is not None:
            self.commit(epoch)
        self.pending = []  # epochs the checkpoint does not cover run again
        return True

    def add(self, snapshot: Snapshot) -> None:
        """Records `snapshot` as pending (before the checkpoint is written)."""
        self.pending.append(snapshot)
        self._write()

    def commit(self, resume_epoch: int | None) -> bool:
        """Commits the pending snapshots of epochs before `resume_epoch`.

        `None` commits them all (the run finished and keeps no checkpoint).
        Returns whether anything was committed.
        """
        ready = [
            s for s in self.pending if resume_epoch is None or s["epoch"] < resume_epoch
        ]
        if not ready:
            return False
        for snapshot in ready:
            if snapshot["staged"] is not None:
                _atomic.copy_file(snapshot["staged"], snapshot["file"])
        self.committed = ready[-1]
        self.pending = self.pending[len(ready) :]
        self._write()
        return True

    def _write(self) -> None:
        _atomic.write_json(
            self.path, {"committed": self.committed, "pending": self.pending}
        )
        # Staged files that no pending snapshot names are committed or dropped.
        keep = {os.path.basename(s["staged"]) for s in self.pending if s["staged"]}
        for name in os.listdir(self.backup.backup_dir):
            if name.startswith(self._name + ".staged-") and name not in keep:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(self.backup.backup_dir, name))


class CommitAfterBackup(keras.callbacks.Callback):
    """Stands last in the callback list; commits after `BackupAndRestore` wrote.

    With `save_freq="epoch"` the checkpoint is written in `on_epoch_end`; with
    an integer `save_freq` at some batch end, so batch ends are checked too.
    """

    def __init__(self, commit):
        super().__init__()
        self.commit = commit

    def on_epoch_end(self, epoch, logs=None):
        self.commit()

    def on_train_batch_end(self, batch, logs=None):
        self.commit()
