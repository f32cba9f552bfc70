import math
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

SEQUENCE = [0.1, 0.5, 0.3, math.nan, 0.2]


def evaluate_outside_fit(evaluator, model, logs):
    """One epoch-end evaluation without `fit` (faster for error tests)."""
    evaluator.set_model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CallbackList here
        evaluator.on_train_begin()
    evaluator.on_epoch_begin(0)
    evaluator.on_epoch_end(0, logs)


def test_metric_sees_one_shared_prediction_and_the_labels():
    x, y = tiny_data()
    model = tiny_model()
    seen = []

    def first(y_true, y_pred):
        seen.append(("first", y_true, y_pred))
        return float(np.mean((y_true - y_pred) ** 2))

    def second(y_true, y_pred):
        seen.append(("second", y_true, y_pred))
        return 1.0

    evaluator = Evaluator({"mse": first, "one": second}, data=(x, y), mode="min")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[evaluator])
    assert len(seen) == 4
    # Both metrics of one evaluation get the same prediction object.
    assert seen[0][2] is seen[1][2] and seen[2][2] is seen[3][2]
    np.testing.assert_array_equal(seen[0][1], y)
    expected = float(np.mean((y - model.predict(x, verbose=0)) ** 2))
    np.testing.assert_allclose(history.history["mse"][-1], expected, rtol=1e-5)
    assert history.history["one"] == [1.0, 1.0]
    assert [h["epoch"] for h in evaluator.history] == [0, 1]


def test_scripted_sequence_best_is_epoch_2_and_nan_never_saved(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    path = str(tmp_path / "best.weights.h5")
    saves = []
    original = model.save_weights

    def counting_save_weights(filepath, *args, **kwargs):
        saves.append(filepath)
        return original(filepath, *args, **kwargs)

    model.save_weights = counting_save_weights
    log = WeightLog()
    evaluator = Evaluator(
        {"score": Scripted(SEQUENCE)},
        data=(x, y),
        mode="max",
        save_best=path,
        restore_best=True,
    )
    history = model.fit(
        x, y, epochs=5, batch_size=8, verbose=0, callbacks=[log, evaluator]
    )
    logged = history.history["score"]
    np.testing.assert_array_equal(logged, SEQUENCE)  # NaN is logged as NaN
    assert evaluator.best == 0.5 and evaluator.best_epoch == 1
    assert len(saves) == 2  # epochs 1 and 2 improved; NaN and 0.2 did not
    # restore_best restored epoch 2's weights at the end of training.
    assert_weights_equal(model.get_weights(), log.weights[1])
    # The file holds epoch 2's weights too.
    fresh = tiny_model()
    fresh.load_weights(path)
    assert_weights_equal(fresh.get_weights(), log.weights[1])
    assert not [f for f in os.listdir(tmp_path) if "tmp" in f]


@pytest.mark.parametrize("mode, expected_epoch", [("max", 4), ("min", 0)])
def test_mode_decides_the_best(mode, expected_epoch):
    x, y = tiny_data()
    evaluator = Evaluator(
        {"s": Scripted([1.0, 2.0, math.inf, 0.5 if mode == "max" else 3.0, 9.0])},
        data=(x, y),
        mode=mode,
    )
    tiny_model().fit(x, y, epochs=5, verbose=0, callbacks=[evaluator])
    if mode == "min":
        assert evaluator.best == 1.0 and evaluator.best_epoch == 0
    else:
        assert evaluator.best == 9.0 and evaluator.best_epoch == expected_epoch


def test_whole_model_save_best_is_loadable(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    log = WeightLog()
    path = str(tmp_path / "sub" / "best.keras")
    evaluator = Evaluator(
        {"s": Scripted([0.3, 0.1, 0.2])}, data=(x, y), mode="min", save_best=path
    )
    model.fit(x, y, epochs=3, verbose=0, callbacks=[evaluator, log])
    loaded = keras.saving.load_model(path)
    assert_weights_equal(loaded.get_weights(), log.weights[1])


def test_frequency_and_mid_epoch_steps():
    x, y = tiny_data(n=32)
    evaluator = Evaluator(
        {"s": Scripted(np.arange(100.0))}, data=(x, y), mode="max",
        frequency=2, steps=3,
    )
    history = tiny_model().fit(
        x, y, epochs=4, batch_size=8, verbose=0, callbacks=[evaluator]
    )
    # 4 steps per epoch (epoch 0 holds steps 1-4, ...): mid-epoch at global
    # steps 3, 6, 9, 12, 15; at the end of epochs 1 and 3 (0-based) only.
    records = [(h["epoch"], h["step"]) for h in evaluator.history]
    expected = [(0, 3), (1, 6), (1, None), (2, 9), (2, 12), (3, 15), (3, None)]
    assert records == expected
    assert len(history.history["s"]) == 2


def test_multi_output_prediction_keeps_the_output_structure():
    x, y = tiny_data()
    inputs = keras.Input((4,))
    outputs = {
        "a": keras.layers.Dense(1, name="a")(inputs),
        "b": keras.layers.Dense(2, name="b")(inputs),
    }
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mse"})
    seen = {}

    def metric(y_true, y_pred):
        seen["pred"] = y_pred
        return float(np.mean(y_pred["a"]) + np.mean(y_pred["b"]))

    y2 = {"a": y, "b": np.concatenate([y, y], axis=1)}
    evaluator = Evaluator({"m": metric}, data=(x, y2), mode="max")
    model.fit(x, y2, epochs=1, verbose=0, callbacks=[evaluator])
    assert set(seen["pred"]) == {"a", "b"}
    assert seen["pred"]["a"].shape == (32, 1) and seen["pred"]["b"].shape == (32, 2)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(seen["pred"]["b"], expected["b"], rtol=1e-5)


def test_evaluate_fn_form_dict_and_float():
    x, y = tiny_data()
    evaluator = Evaluator(
        lambda model: {"a": 1.0, "b": np.float32(2.0)},
        mode={"a": "max", "b": "min"},
        monitor="b",
    )
    history = tiny_model().fit(x, y, epochs=2, verbose=0, callbacks=[evaluator])
    assert history.history["a"] == [1.0, 1.0] and history.history["b"] == [2.0, 2.0]
    assert evaluator.best == 2.0
    evaluator = Evaluator(lambda model: 3, mode="max", name="bleu")
    history = tiny_model().fit(x, y, epochs=1, verbose=0, callbacks=[evaluator])
    assert history.history["bleu"] == [3.0]


def test_exception_names_the_metric_and_the_epoch():
    x, y = tiny_data()

    def broken(y_true, y_pred):
        if broken.calls == 1:
            raise ZeroDivisionError("boom")
        broken.calls += 1
        return 0.0

    broken.calls = 0
    evaluator = Evaluator({"f1": broken}, data=(x, y), mode="max")
    with pytest.raises(RuntimeError, match=r"'f1' raised at epoch 2: ZeroDivision"):
        tiny_model().fit(x, y, epochs=3, verbose=0, callbacks=[evaluator])


@pytest.mark.parametrize(
    "value, match",
    [
        ("0.5", "returned a string"),
        (np.ones(3), r"non-scalar of shape \(3,\)"),
        ([0.1, 0.2], r"non-scalar of shape \(2,\)"),
        (None, "returned a NoneType"),
    ],
)
def test_metric_returning_a_non_float_fails_clearly(value, match):
    x, y = tiny_data()
    evaluator = Evaluator({"acc": lambda t, p: value}, data=(x, y), mode="max")
    with pytest.raises(TypeError, match=f"'acc' must return a float.*epoch 1.*{match}"):
        evaluate_outside_fit(evaluator, tiny_model(), logs={})


def test_metric_name_colliding_with_keras_logs_fails():
    x, y = tiny_data()
    evaluator = Evaluator({"loss": lambda t, p: 0.0}, data=(x, y), mode="min")
    with pytest.raises(ValueError, match="'loss' would overwrite"):
        evaluate_outside_fit(evaluator, tiny_model(), logs={"loss": 1.0})


def test_unwritable_save_best_fails_at_training_start(tmp_path):
    x, y = tiny_data()
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    metric = Scripted([0.1])
    evaluator = Evaluator(
        {"s": metric},
        data=(x, y),
        mode="max",
        save_best=str(blocker / "best.keras"),
    )
    log = WeightLog()
    with pytest.raises(ValueError, match="`save_best` is not writable"):
        tiny_model().fit(x, y, epochs=1, verbose=0, callbacks=[log, evaluator])
    assert log.weights == [] and metric.calls == 0  # before any training


def test_best_survives_consecutive_fits_until_reset(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    path = str(tmp_path / "best.weights.h5")
    log = WeightLog()
    evaluator = Evaluator(
        {"s": Scripted([0.2, 0.9, 0.5, 0.7, 0.1, 0.3])},
        data=(x, y),
        mode="max",
        save_best=path,
        restore_best=True,
    )

    def fit():
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[evaluator, log])

    fit()  # 0.2, 0.9: the best is the second epoch
    fit()  # 0.5, 0.7: worse than 0.9, so the file keeps the first fit's best
    assert evaluator.best == 0.9 and evaluator.best_epoch == 1
    assert [h["s"] for h in evaluator.history] == [0.2, 0.9, 0.5, 0.7]
    fresh = tiny_model()
    fresh.load_weights(path)
    assert_weights_equal(fresh.get_weights(), log.weights[1])
    # restore_best at the end of the second fit went back to the first fit's best.
    assert_weights_equal(model.get_weights(), log.weights[1])
    evaluator.reset()
    assert (evaluator.best, evaluator.best_epoch, evaluator.history) == (None, None, [])
    fit()  # 0.1, 0.3: after reset(), the best of this fit only
    assert evaluator.best == 0.3 and evaluator.best_epoch == 1
    fresh.load_weights(path)
    assert_weights_equal(fresh.get_weights(), log.weights[5])


def test_save_best_formats_epoch_and_logs_like_model_checkpoint(tmp_path):
    x, y = tiny_data()
    log = WeightLog()
    evaluator = Evaluator(
        {"score": Scripted([0.25, 0.5, 0.375, 0.75])},
        data=(x, y),
        mode="max",
        save_best=str(tmp_path / "best_{epoch:02d}_{score:.2f}.weights.h5"),
    )
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt_{epoch:02d}.weights.h5"),
        monitor="score",
        save_best_only=True,
        save_weights_only=True,
    )
    tiny_model().fit(
        x, y, epochs=4, batch_size=8, verbose=0,
        callbacks=[checkpoint, evaluator, log],
    )
    # The same epoch numbers in both names: 1-based, as ModelCheckpoint's.
    assert sorted(os.listdir(tmp_path)) == [
        "best_01_0.25.weights.h5",
        "best_02_0.50.weights.h5",
        "best_04_0.75.weights.h5",
        "ckpt_01.weights.h5",
        "ckpt_02.weights.h5",
        "ckpt_04.weights.h5",
    ]
    assert evaluator.best_epoch == 3
    assert evaluator.best_path == str(tmp_path / "best_04_0.75.weights.h5")
    for epoch, name in [(0, "best_01_0.25"), (1, "best_02_0.50"), (3, "best_04_0.75")]:
        fresh = tiny_model()
        fresh.load_weights(str(tmp_path / f"{name}.weights.h5"))
        assert_weights_equal(fresh.get_weights(), log.weights[epoch])


def test_save_best_with_an_unknown_name_fails_at_the_first_save(tmp_path):
    x, y = tiny_data()
    evaluator = Evaluator(
        {"s": Scripted([0.1])}, data=(x, y), mode="max",
        save_best=str(tmp_path / "best_{val_s}.keras"),
    )
    match = r"at epoch 1 \(KeyError: 'val_s'\).*'loss', 's'"
    with pytest.raises(ValueError, match=match):
        tiny_model().fit(x, y, epochs=1, verbose=0, callbacks=[evaluator])
    assert os.listdir(tmp_path) == []


def test_verbose_prints_one_keras_style_line_per_evaluation(tmp_path, capsys):
    x, y = tiny_data()
    path = str(tmp_path / "best.weights.h5")
    evaluator = Evaluator(
        {
            "acc": Scripted([0.5, 0.75, 0.625, 0.625, 0.9]),
            "f1": Scripted([0.1, 0.2, 0.3, 0.4, 0.5]),
        },
        data=(x, y),
        mode="max",
        save_best=path,
        restore_best=True,
        patience=2,
        verbose=1,
    )
    tiny_model().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[evaluator])
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines == [
        "Epoch 1: Evaluator acc=0.50000, f1=0.10000; acc improved from None to "
        f"0.50000, saving model to {path}",
        "Epoch 2: Evaluator acc=0.75000, f1=0.20000; acc improved from 0.50000 to "
        f"0.75000, saving model to {path}",
        "Epoch 3: Evaluator acc=0.62500, f1=0.30000; acc did not improve from "
        "0.75000 (epoch 2)",
        "Epoch 4: Evaluator acc=0.62500, f1=0.40000; acc did not improve from "
        "0.75000 (epoch 2); early stopping",
        "Restoring model weights from the end of the best epoch: 2.",
    ]
    assert evaluator.best_epoch == 1  # the attribute stays 0-based


def test_verbose_mid_epoch_line_names_the_epoch_and_global_step(capsys):
    x, y = tiny_data(n=32)
    evaluator = Evaluator(
        lambda model: 0.5, mode="max", name="bleu", steps=3, verbose=1
    )
    tiny_model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[evaluator])
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines == [
        "Epoch 1, step 3: Evaluator bleu=0.50000",
        "Epoch 1: Evaluator bleu=0.50000; bleu improved from None to 0.50000",
    ]
