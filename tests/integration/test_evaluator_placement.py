"""Keras' monitoring callbacks act on an Evaluator metric wherever it stands."""

import functools
import os
import warnings

import keras
import numpy as np
import pytest

from coolkeras.callbacks import Evaluator
from tests.callbacks.evaluator_helpers import (
    Scripted,
    WeightLog,
    assert_weights_equal,
    tiny_data,
    tiny_model,
)

# Improves at epochs 1, 2 and 5 (1-based); 3 and 4 are a plateau.
SEQUENCE = [0.1, 0.5, 0.3, 0.2, 0.6]


def counted(method):
    """A decorator: one more frame between Keras' CallbackList and the hook."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self.calls[method.__name__] = self.calls.get(method.__name__, 0) + 1
        return method(self, *args, **kwargs)

    return wrapper


class DecoratedEvaluator(Evaluator):
    """A user's subclass that decorates its hooks."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {}

    @counted
    @counted
    def set_model(self, model):
        super().set_model(model)

    @counted
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)

    @counted
    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)


PLACEMENTS = ["first", "last", "last_subclass"]


def fit_with(monitoring, placement, epochs=5, mode="max"):
    x, y = tiny_data()
    model = tiny_model()
    log = WeightLog()
    evaluator_class = DecoratedEvaluator if placement == "last_subclass" else Evaluator
    evaluator = evaluator_class({"score": Scripted(SEQUENCE)}, data=(x, y), mode=mode)
    if placement == "first":
        callbacks = [evaluator, monitoring, log]
    else:
        callbacks = [log, monitoring, evaluator]
    with warnings.catch_warnings():
        # Keras only warns (UserWarning) when the monitored key is missing.
        warnings.simplefilter("error", UserWarning)
        history = model.fit(
            x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=callbacks
        )
    if placement == "last_subclass":  # its decorated hooks did run
        assert evaluator.calls["on_epoch_end"] == len(history.history["score"])
    return model, log, history


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_model_checkpoint_saves_only_improving_epochs(tmp_path, placement):
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt_{epoch}.weights.h5"),
        monitor="score",
        save_best_only=True,
        save_weights_only=True,
    )  # mode="auto": the Evaluator declares "max"
    _, log, _ = fit_with(checkpoint, placement)
    saved = sorted(os.listdir(tmp_path))
    assert saved == ["ckpt_1.weights.h5", "ckpt_2.weights.h5", "ckpt_5.weights.h5"]
    fresh = tiny_model()
    fresh.load_weights(str(tmp_path / "ckpt_2.weights.h5"))
    assert_weights_equal(fresh.get_weights(), log.weights[1])


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_early_stopping_stops_and_restores_best(placement):
    stopping = keras.callbacks.EarlyStopping(
        monitor="score", mode="max", patience=2, restore_best_weights=True
    )
    model, log, history = fit_with(stopping, placement)
    assert len(history.history["score"]) == 4  # stopped after epoch 4
    assert stopping.best_epoch == 1
    assert_weights_equal(model.get_weights(), log.weights[1])


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_reduce_lr_on_plateau_reduces_on_the_plateau(placement):
    reduce = keras.callbacks.ReduceLROnPlateau(
        monitor="score", factor=0.5, patience=1, min_lr=0.0
    )
    _, log, _ = fit_with(reduce, placement)
    # Reduced at the end of epochs 3 and 4 (1-based).
    np.testing.assert_allclose(
        log.learning_rates, [0.05, 0.05, 0.05, 0.025, 0.0125], rtol=1e-6
    )


def test_conflicting_mode_fails_at_training_start():
    stopping = keras.callbacks.EarlyStopping(monitor="score", mode="min")
    with pytest.raises(ValueError, match="declares mode='max'"):
        fit_with(stopping, "last", epochs=1)


def test_without_a_callback_list_it_warns():
    x, y = tiny_data()
    model = tiny_model()
    model.fit(x, y, epochs=1, verbose=0)
    evaluator = Evaluator({"s": Scripted([1.0])}, data=(x, y), mode="max")
    evaluator.set_model(model)
    with pytest.warns(UserWarning, match="cannot move itself first"):
        evaluator.on_train_begin()
    logs = {}
    evaluator.on_epoch_begin(0)
    evaluator.on_epoch_end(0, logs)
    assert logs == {"s": 1.0}
