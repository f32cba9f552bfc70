"""`EMA`: consecutive fits, interrupted and resumed runs, and saved files keep
the raw weights and their average on the same trajectory."""

import keras
import pytest

from coolkeras.callbacks import EMA
from tests.callbacks.ema_helpers import (
    XV,
    YV,
    Snapshots,
    assert_close,
    assert_far,
    fit,
    make_model,
)


def _adam():
    return keras.optimizers.Adam(0.01)


def _state(ema):
    return ema._state.read()


def test_four_fits_of_one_epoch_equal_one_fit_of_four():
    whole = make_model(optimizer=_adam())
    ema = EMA(0.8)
    snapshots = Snapshots(ema)
    fit(whole, [ema, snapshots], epochs=4, validation_data=(XV, YV))

    split = make_model(optimizer=_adam())
    split_ema = EMA(0.8)
    split_snapshots = Snapshots(split_ema)
    for _ in range(4):
        fit(split, [split_ema, split_snapshots], validation_data=(XV, YV))
        raw, _ = _state(split_ema)
        assert_close(split.get_weights(), raw)  # raw after each fit

    assert len(split_snapshots.epochs) == 4
    for (raw, average), (raw_split, average_split) in zip(
        snapshots.epochs, split_snapshots.epochs, strict=True
    ):
        assert_close(raw_split, raw)
        assert_close(average_split, average)
    assert_close(split.get_weights(), whole.get_weights())
    assert_far(_state(ema)[1], whole.get_weights())


class _Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


@pytest.mark.parametrize("ema_first", [True, False])
def test_backup_and_restore_resumes_raw_and_average(tmp_path, ema_first):
    def callbacks(backup_dir, ema, *extra):
        backup = keras.callbacks.BackupAndRestore(str(backup_dir))
        return [ema, backup, *extra] if ema_first else [backup, ema, *extra]

    whole = make_model(optimizer=_adam())
    ema = EMA(0.8)
    fit(whole, callbacks(tmp_path / "whole", ema), epochs=4)

    first = make_model(optimizer=_adam())
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(first, callbacks(tmp_path / "run", EMA(0.8), _Interrupt(1)), epochs=4)

    # A new process: the same model built again, a new EMA.
    resumed = make_model(optimizer=_adam())
    resumed_ema = EMA(0.8)
    epochs = []

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs.append(epoch)

    fit(resumed, callbacks(tmp_path / "run", resumed_ema, Epochs()), epochs=4)
    assert epochs == [2, 3]
    raw, average = _state(ema)
    raw_resumed, average_resumed = _state(resumed_ema)
    assert_close(raw_resumed, raw)
    assert_close(average_resumed, average)
    assert_close(resumed.get_weights(), whole.get_weights())
    assert_far(average, raw)


def test_keras_file_keeps_raw_and_average_and_training_continues(tmp_path):
    model = make_model(optimizer=_adam())
    ema = EMA(0.8)
    fit(model, [ema], epochs=2)
    raw, average = _state(ema)
    path = tmp_path / "model.keras"
    model.save(path)

    # A plain load gives what the model's variables held: the raw weights.
    assert_close(keras.models.load_model(path).get_weights(), raw)
    assert_close(EMA.load_model(path, weights="raw").get_weights(), raw)
    loaded = EMA.load_model(path)
    assert_close(loaded.get_weights(), average)

    loaded_ema = EMA(0.8)
    fit(loaded, [loaded_ema])
    fit(model, [ema])
    assert_close(_state(loaded_ema)[0], _state(ema)[0])
    assert_close(_state(loaded_ema)[1], _state(ema)[1])
    assert_close(loaded.get_weights(), model.get_weights())


def test_weights_file_keeps_both_and_one_without_averages_is_refused(tmp_path):
    model = make_model()
    ema = EMA(0.8)
    fit(model, [ema])
    raw, average = _state(ema)
    path = tmp_path / "ema.weights.h5"
    model.save_weights(path)
    assert_close(EMA.load_weights(make_model(), path).get_weights(), average)
    assert_close(EMA.load_weights(make_model(), path, "raw").get_weights(), raw)

    plain = tmp_path / "plain.weights.h5"
    make_model().save_weights(plain)
    with pytest.raises(ValueError, match="holds no averaged weights"):
        EMA.load_weights(make_model(), plain)


def test_a_checkpoint_written_at_an_epoch_end_resumes_from_the_raw_weights(tmp_path):
    model = make_model()
    ema = EMA(0.8)
    path = tmp_path / "epoch.keras"
    checkpoint = keras.callbacks.ModelCheckpoint(str(path))
    fit(model, [checkpoint, ema])
    raw, average = _state(ema)
    loaded = EMA.load_model(path)
    assert_close(loaded.get_weights(), average)
    assert_close(EMA.load_model(path, weights="raw").get_weights(), raw)
