"""A run resumed by BackupAndRestore keeps the Evaluator's best value."""

import os

import keras
import pytest

from coolkeras.callbacks import Evaluator
from tests.callbacks.evaluator_helpers import (
    Scripted,
    WeightLog,
    assert_weights_equal,
    tiny_data,
    tiny_model,
)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, after_epoch):
        super().__init__()
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.after_epoch:
            raise KeyboardInterrupt("simulated crash")


@pytest.mark.parametrize("save_best", ["best.weights.h5", None])
def test_resume_keeps_the_true_best(tmp_path, save_best):
    x, y = tiny_data()
    backup_dir = str(tmp_path / "backup")
    path = None if save_best is None else str(tmp_path / save_best)
    metric = Scripted([0.1, 0.9, 0.3, 0.5])  # the best is epoch 2, before the crash

    def run(log, callbacks_after):
        model = tiny_model()  # a fresh process starts from fresh weights
        evaluator = Evaluator(
            {"score": metric}, data=(x, y), mode="max", save_best=path,
            restore_best=True,
        )
        callbacks = [keras.callbacks.BackupAndRestore(backup_dir), log]
        model.fit(
            x, y, epochs=4, batch_size=8, verbose=0,
            callbacks=callbacks + callbacks_after + [evaluator],
        )
        return model, evaluator

    first = WeightLog()
    with pytest.raises(KeyboardInterrupt):
        run(first, [Interrupt(after_epoch=1)])
    assert metric.calls == 2 and len(first.weights) == 2
    second = WeightLog()
    model, evaluator = run(second, [])
    assert metric.calls == 4 and len(second.weights) == 2  # epochs 3 and 4 only
    assert [h["score"] for h in evaluator.history] == [0.1, 0.9, 0.3, 0.5]
    assert evaluator.best == 0.9 and evaluator.best_epoch == 1
    if path is not None:
        # The file holds epoch 2's weights, not epoch 3's (0.3), which a
        # resume that forgot the best value would have written.
        fresh = tiny_model()
        fresh.load_weights(path)
        assert_weights_equal(fresh.get_weights(), first.weights[1])
    # restore_best restored epoch 2's weights across the interruption.
    assert_weights_equal(model.get_weights(), first.weights[1])
    assert not os.path.exists(backup_dir)  # cleaned up with the backup
