"""What the `Evaluator` does with its values: logs, best file, patience, resume.

`EvaluatorBase` holds the callback hooks and the bookkeeping; the public
`Evaluator` adds its arguments and `_evaluate(epoch, step) -> {name: value}`.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Mapping
from typing import Any

import keras

from coolkeras import _keras_internals
from coolkeras.callbacks import _atomic
from coolkeras.callbacks import _evaluator_utils as checks
from coolkeras.callbacks._evaluator_resume import CommitAfterBackup, ResumeState

NO_BEST = {"best": None, "best_epoch": None, "file": None}


class EvaluatorBase(keras.callbacks.Callback):
    """Hooks and bookkeeping of `coolkeras.callbacks.Evaluator` (see there)."""

    _callback_list = None
    _resume = None
    _committer = None

    def _publish(self, record: Mapping[str, Any]) -> None:
        """Makes `record` the best that `best`, `best_epoch` and the file show."""
        self.best, self.best_epoch = record["best"], record["best_epoch"]
        self._file = record["file"]
        self.best_path = self._file if self.save_best is not None else None

    def _snapshot(self, epoch: int | None, staged: str | None) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "history": list(self.history),
            **self._record,
            "staged": staged,
            "wait": self.wait,
            "global_step": self._global_step,
        }

    def _adopt(self, snapshot: Mapping[str, Any]) -> None:
        self.history = list(snapshot["history"])
        self._record = {key: snapshot[key] for key in NO_BEST}
        self.wait = snapshot["wait"]
        self._global_step = snapshot["global_step"]
        if self.steps:
            self._next_mid_step = (self._global_step // self.steps + 1) * self.steps
        self._publish(self._record)

    # Placement ----------------------------------------------------------------

    def set_model(self, model):
        super().set_model(model)
        self._take_first_place()

    def _take_first_place(self) -> None:
        callback_list = _keras_internals.calling_callback_list(self)
        self._callback_list = callback_list
        if callback_list is None:
            return
        callbacks = callback_list.callbacks
        index = next(i for i, c in enumerate(callbacks) if c is self)
        target = 0
        while target < index and isinstance(callbacks[target], EvaluatorBase):
            target += 1
        if index > target:
            # Safe while the list is iterated: the elements before `index` have
            # been visited and shift by one; the next one visited is unchanged.
            callbacks.insert(target, callbacks.pop(index))

    def _align_monitoring_callbacks(self, names: list[str]) -> None:
        for callback in self._callback_list.callbacks:
            monitor = getattr(callback, "monitor", None)
            if callback is self or monitor not in names:
                continue
            ours = self._mode_of(monitor)
            theirs = getattr(callback, "mode", None)
            if theirs == "auto":
                callback.mode = ours
            elif theirs in ("min", "max") and theirs != ours:
                raise ValueError(
                    f"{type(callback).__name__} monitors '{monitor}' with "
                    f"mode='{theirs}', but the Evaluator declares mode='{ours}' "
                    f"for it. Received: mode={theirs!r}"
                )

    # Training start -------------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._take_first_place()
        if self._callback_list is None:
            warnings.warn(
                "The Evaluator was not called by a keras.callbacks.CallbackList, "
                "so it cannot move itself first: only callbacks called after it "
                "see its values.",
                stacklevel=2,
            )
        self.wait = 0  # patience counts within one fit, as EarlyStopping's
        self._resume = None
        backup = None
        if self._callback_list is not None:
            if self._names is not None:
                self._align_monitoring_callbacks(self._names)
            backup = next(
                (
                    c
                    for c in self._callback_list.callbacks
                    if isinstance(c, keras.callbacks.BackupAndRestore)
                ),
                None,
            )
        self._check_save_best()
        if backup is not None:
            self._start_resume(backup)

    def _check_save_best(self) -> None:
        if self.save_best is None:
            return
        directory = os.path.dirname(os.path.abspath(self.save_best))
        if "{" in directory:
            return  # a folder named after the logs is known at the first save
        probe = self.save_best if "{" not in self.save_best else directory + "/x"
        try:
            _atomic.check_writable(probe, _atomic.state_bytes(self.model))
        except OSError as e:
            raise ValueError(
                f"`save_best` is not writable ({type(e).__name__}: {e}). "
                f"Received: save_best={self.save_best!r}"
            ) from e

    def _start_resume(self, backup: keras.callbacks.BackupAndRestore) -> None:
        evaluators = [
            c for c in self._callback_list.callbacks if isinstance(c, EvaluatorBase)
        ]
        index = next(i for i, c in enumerate(evaluators) if c is self)
        state = ResumeState(backup, index)
        self._resume = state
        try:
            resumed = state.resume()
        except OSError as e:
            raise self._file_error(
                f"could not resume from its state {state.path!r}",
                "the state on disk is unchanged", e,
            ) from e
        if resumed:
            self._adopt(state.committed)
            last, epoch = state.committed["epoch"], state.checkpoint_epoch()
            if last is not None and (epoch is None or last >= epoch):
                warnings.warn(
                    f"The Evaluator's state covers epoch {last + 1}, but "
                    f"BackupAndRestore resumes at epoch {(epoch or 0) + 1}; its "
                    "best may come from an epoch that is trained again.",
                    stacklevel=3,
                )
        else:
            state.start(self._snapshot(None, None))
        if self._committer is None:
            self._committer = CommitAfterBackup(self._commit)
        if not any(c is self._committer for c in self._callback_list.callbacks):
            # Last in the list: it runs after BackupAndRestore has written.
            self._callback_list.callbacks.append(self._committer)

    # Epochs and steps -------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._steps_in_epoch = 0

    def _on_train_batch_end(self, batch, logs=None):
        self._steps_in_epoch = batch + 1
        step = self._global_step + self._steps_in_epoch
        if step >= self._next_mid_step:
            self._next_mid_step = (step // self.steps + 1) * self.steps
            with self._restoring_on_error():
                values = self._evaluate(self._epoch, step)
            self.history.append({"epoch": self._epoch, "step": step, **values})
            if self.verbose:
                shown = checks.shown(values)
                checks.print_line(
                    f"\nEpoch {self._epoch + 1}, step {step}: Evaluator {shown}"
                )

    def on_epoch_end(self, epoch, logs=None):
        self._global_step += self._steps_in_epoch
        with self._restoring_on_error():
            staged = None
            if (epoch + 1) % self.frequency == 0:
                staged = self._evaluate_epoch(epoch, logs)
            if self._resume is not None:
                try:
                    self._resume.add(self._snapshot(epoch, staged))
                except OSError as e:
                    raise self._file_error(
                        f"could not write its resume state {self._resume.path!r}",
                        "`best` and `best_epoch` are unchanged", e,
                    ) from e

    def _evaluate_epoch(self, epoch: int, logs: dict | None) -> str | None:
        values = self._evaluate(epoch, None)
        if logs is not None:
            for key, value in values.items():
                if key in logs:
                    raise ValueError(
                        f"The Evaluator metric '{key}' would overwrite the value "
                        "Keras logs under the same name; rename the metric. "
                        f"Received: metric name {key!r}"
                    )
                logs[key] = value
        self.history.append({"epoch": epoch, "step": None, **values})
        value, before = values[self.monitor], self._record["best"]
        destination = staged = None
        # EarlyStopping's rules, step by step.
        self.wait += 1
        improved = self._is_improvement(value)
        if improved:
            destination, staged = self._save_best_file(epoch, value, logs or values)
            self._record = {"best": value, "best_epoch": epoch, "file": destination}
            self.wait = 0
            if self._resume is None:
                self._publish(self._record)
                if self.restore_best:
                    self.best_weights = self.model.get_weights()
        stop = (
            not improved
            and self.patience is not None
            and self.wait >= self.patience
            and epoch > 0
        )
        if stop:
            self.model.stop_training = True
        if self.verbose:
            checks.print_line(checks.epoch_line(
                epoch, values, self.monitor, before, improved,
                destination if self.save_best is not None else None,
                self._record["best_epoch"], stop,
            ))
        return staged

    # Training end and errors ------------------------------------------------

    def on_train_end(self, logs=None):
        self._commit(final=True)
        if self.restore_best and self._restore_best_weights() and self.verbose:
            checks.print_line(
                "Restoring model weights from the end of the best epoch: "
                f"{self.best_epoch + 1}."
            )

    def _commit(self, final: bool = False) -> None:
        """Commits what BackupAndRestore's checkpoint covers (all at the end)."""
        state = self._resume
        if state is None or not state.pending:
            return
        if final and state.backup.delete_checkpoint:
            epoch = None  # the run is over and keeps no checkpoint
        else:
            epoch = state.checkpoint_epoch()
            if epoch is None:
                return
        with self._restoring_on_error():
            try:
                committed = state.commit(epoch)
            except OSError as e:
                raise self._file_error(
                    "could not move the best model from the backup folder to "
                    "its destination",
                    "`best`, `best_epoch` and the destination are unchanged", e,
                ) from e
        if committed:
            self._publish(state.committed)

    @contextlib.contextmanager
    def _restoring_on_error(self):
        """`restore_best` also applies when the Evaluator stops training."""
        try:
            yield
        except Exception:
            if self.restore_best:
                self._restore_best_weights()
            raise

    def _restore_best_weights(self) -> bool:
        if self.best is None:
            return False
        if self._resume is not None and self._file is not None:
            if os.path.exists(self._file):
                self.model.load_weights(self._file)
                return True
        elif self.best_weights is not None:
            self.model.set_weights(self.best_weights)
            return True
        warnings.warn(
            "restore_best: the best weights were not found"
            + (f" at {self._file}" if self._file else "")
            + "; keeping the last weights.",
            stacklevel=3,
        )
        return False
