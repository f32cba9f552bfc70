"""`EMA`: validation, `ModelCheckpoint` and `Evaluator` get the averaged model,
with the EMA first or last in the callbacks list."""

import keras
import numpy as np
import pytest

from coolkeras.callbacks import EMA, Evaluator
from tests.callbacks.ema_helpers import (
    XV,
    YV,
    Snapshots,
    assert_close,
    assert_far,
    fit,
    make_model,
)

PLACES = ["ema_first", "ema_last"]


def _in_order(place, ema, *others):
    return [ema, *others] if place == "ema_first" else [*others, ema]


def _twin(trainable_values):
    twin = make_model()
    for variable, value in zip(twin.trainable_variables, trainable_values, strict=True):
        variable.assign(value)
    return twin


def _weights_of(model):
    return [
        np.array(keras.ops.convert_to_numpy(v.value)) for v in model.trainable_variables
    ]


@pytest.mark.parametrize("place", PLACES)
def test_validation_loss_during_fit_is_the_loss_of_the_average(place):
    model = make_model()
    ema = EMA(0.8)
    snapshots = Snapshots(ema)
    history = fit(
        model, _in_order(place, ema, snapshots), epochs=2, validation_data=(XV, YV)
    )
    for epoch, (raw, average) in enumerate(snapshots.epochs):
        averaged_loss = _twin(average).evaluate(XV, YV, verbose=0)
        raw_loss = _twin(raw).evaluate(XV, YV, verbose=0)
        np.testing.assert_allclose(
            history.history["val_loss"][epoch], averaged_loss, rtol=1e-6
        )
        assert abs(averaged_loss - raw_loss) > 1e-4 * abs(raw_loss)
    assert_close(model.get_weights(), snapshots.epochs[-1][0])  # raw after fit


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_model_checkpoint_best_only_saves_the_average(tmp_path, place, suffix):
    model = make_model()
    ema = EMA(0.8)
    snapshots = Snapshots(ema)
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / ("epoch_{epoch}" + suffix)),
        monitor="loss",
        save_best_only=True,
        save_weights_only=suffix == ".weights.h5",
    )
    history = fit(model, _in_order(place, ema, checkpoint, snapshots), epochs=3)
    losses = history.history["loss"]
    saved = 0
    for epoch, (raw, average) in enumerate(snapshots.epochs):
        path = tmp_path / f"epoch_{epoch + 1}{suffix}"
        improved = losses[epoch] < min(losses[:epoch], default=np.inf)
        assert path.exists() == improved
        if not improved:
            continue
        saved += 1
        if suffix == ".keras":
            loaded = keras.models.load_model(path)
        else:
            loaded = make_model()
            loaded.load_weights(path)
        assert_close(_weights_of(loaded), average)
        assert_far(_weights_of(loaded), raw)
    assert saved >= 2


@pytest.mark.parametrize("place", PLACES)
def test_evaluator_scores_and_keeps_the_average(tmp_path, place):
    def mse(y_true, y_pred):
        return float(np.mean((y_true - y_pred) ** 2))

    model = make_model()
    ema = EMA(0.8)
    snapshots = Snapshots(ema)
    best = tmp_path / "best.weights.h5"
    evaluator = Evaluator(
        {"val_mse": mse}, data=(XV, YV), mode="min", save_best=str(best)
    )
    fit(model, _in_order(place, ema, evaluator, snapshots), epochs=3)
    for epoch, (raw, average) in enumerate(snapshots.epochs):
        score = evaluator.history[epoch]["val_mse"]
        expected = mse(YV, _twin(average).predict(XV, verbose=0))
        np.testing.assert_allclose(score, expected, rtol=1e-6)
        assert abs(score - mse(YV, _twin(raw).predict(XV, verbose=0))) > 1e-4 * score
    loaded = make_model()
    loaded.load_weights(best)
    assert_close(_weights_of(loaded), snapshots.epochs[evaluator.best_epoch][1])


@pytest.mark.parametrize("place", PLACES)
def test_early_stopping_compares_the_averages(place):
    model = make_model()
    ema = EMA(0.8)
    snapshots = Snapshots(ema)
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(_weights_of(self.model))

    fit(model, _in_order(place, ema, Watch(), snapshots), epochs=2)
    for weights, (_, average) in zip(seen, snapshots.epochs, strict=True):
        assert_close(weights, average)


def test_evaluate_and_predict_with_the_callback_use_the_average():
    model = make_model()
    ema = EMA(0.8)
    fit(model, [ema])
    raw = _weights_of(model)
    with ema.averaged():
        average = _weights_of(model)
    expected_loss = _twin(average).evaluate(XV, YV, verbose=0)
    assert model.evaluate(XV, YV, verbose=0, callbacks=[ema]) == pytest.approx(
        expected_loss, rel=1e-6
    )
    np.testing.assert_allclose(
        model.predict(XV, verbose=0, callbacks=[ema]),
        _twin(average).predict(XV, verbose=0),
        rtol=1e-6,
    )
    assert_close(_weights_of(model), raw)  # swapped back
    assert model.evaluate(XV, YV, verbose=0) == pytest.approx(
        _twin(raw).evaluate(XV, YV, verbose=0), rel=1e-6
    )


def test_averaged_context_swaps_back_also_on_error():
    model = make_model()
    ema = EMA(0.8)
    fit(model, [ema])
    raw = _weights_of(model)
    with ema.averaged() as inside:
        assert inside is model
        average = _weights_of(model)
    assert_far(average, raw)
    with pytest.raises(KeyError):
        with ema.averaged():
            raise KeyError("inside")
    assert_close(_weights_of(model), raw)


def test_use_average_at_the_end_makes_the_average_the_weights():
    model = make_model()
    ema = EMA(0.8, on_train_end="use_average")
    snapshots = Snapshots(ema)
    fit(model, [ema, snapshots], epochs=2)
    assert_close(_weights_of(model), snapshots.epochs[-1][1])
    with ema.averaged():
        assert_close(_weights_of(model), snapshots.epochs[-1][1])
