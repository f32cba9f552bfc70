"""`patience` and `min_delta` follow EarlyStopping exactly, on the same values."""

import keras
import pytest

from coolkeras.callbacks import Evaluator
from tests.callbacks.evaluator_helpers import Scripted, tiny_data, tiny_model

# Exact binary fractions: EarlyStopping compares in float32, the Evaluator in
# float64; on these values both see the same ties.
SEQUENCES = [
    [0.5, 0.5, 0.75, 0.5, 0.875, 0.25, 0.25, 0.25, 1.0, 0.25],
    [1.0, 0.75, 0.5, 0.25, 0.125, 0.0],
    [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.625, 0.75],
    [0.125, 0.25, 0.375, 0.5, 0.625, 0.5, 0.5, 0.5],
]
MIN_DELTAS = [0.0, 0.125, 0.25]


def drive(callback, model, values, logs_for):
    """Runs the epoch hooks as `fit` does, until `stop_training`."""
    callbacks = keras.callbacks.CallbackList([callback], model=model)
    model.stop_training = False
    callbacks.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, logs_for(value))
        epochs += 1
        if model.stop_training:
            break
    callbacks.on_train_end()
    return epochs


def run_both(values, mode, patience, min_delta, model):
    stopping = keras.callbacks.EarlyStopping(
        monitor="s", mode=mode, patience=patience, min_delta=min_delta
    )
    keras_epochs = drive(stopping, model, values, lambda v: {"s": v})
    scripted = iter(values)
    evaluator = Evaluator(
        lambda model: next(scripted), mode=mode, name="s",
        patience=patience, min_delta=min_delta,
    )
    our_epochs = drive(evaluator, model, values, lambda v: {})
    ours = (our_epochs, evaluator.best_epoch, evaluator.best, evaluator.wait)
    theirs = (keras_epochs, stopping.best_epoch, float(stopping.best), stopping.wait)
    return ours, theirs


@pytest.mark.parametrize("mode", ["max", "min"])
@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_patience_stops_where_early_stopping_stops(mode, patience):
    model = tiny_model()
    sign = 1.0 if mode == "max" else -1.0
    differences = []
    for values in SEQUENCES:
        values = [sign * v for v in values]
        for min_delta in MIN_DELTAS:
            ours, theirs = run_both(values, mode, patience, min_delta, model)
            if ours != theirs:
                differences.append((values, min_delta, ours, theirs))
    assert differences == []


def test_patience_in_fit_runs_as_many_epochs_as_early_stopping():
    # The case: EarlyStopping(patience=0) runs 6 epochs on these values.
    values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.4, 0.6, 0.7]
    x, y = tiny_data()
    for patience in (0, 2):
        reference = Evaluator({"s": Scripted(values)}, data=(x, y), mode="max")
        stopping = keras.callbacks.EarlyStopping(
            monitor="s", mode="max", patience=patience
        )
        keras_run = tiny_model().fit(
            x, y, epochs=8, verbose=0, callbacks=[stopping, reference]
        )
        evaluator = Evaluator(
            {"s": Scripted(values)}, data=(x, y), mode="max", patience=patience
        )
        our_run = tiny_model().fit(x, y, epochs=8, verbose=0, callbacks=[evaluator])
        assert len(our_run.history["s"]) == len(keras_run.history["s"])
        assert len(our_run.history["s"]) == {0: 6, 2: 8}[patience]


def test_a_second_fit_does_not_stop_at_its_first_epoch():
    # EarlyStopping never stops at epoch 0. A reused Evaluator keeps its best,
    # so its first evaluation in a second fit may not improve; it still runs on.
    x, y = tiny_data()
    evaluator = Evaluator(
        {"s": Scripted([0.9, 0.5, 0.6, 0.7])}, data=(x, y), mode="max", patience=0
    )
    model = tiny_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[evaluator])
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[evaluator])
    assert history.history["s"] == [0.5, 0.6]  # stopped after epoch 2, not 1
    assert (evaluator.best, evaluator.wait) == (0.9, 2)
