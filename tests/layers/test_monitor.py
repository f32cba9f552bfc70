"""`Monitor`: any tensor in the logs, exact per step, on the backend under test.

The reference is numpy: a plain Keras twin of the model (same initial weights,
no `Monitor`) trains with `steps_per_execution=1` while a callback records its
hidden layer's weights before every step and after every epoch; the monitored
tensor of each step is recomputed from those weights.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

import coolkeras
from coolkeras.layers import Monitor
from tests.helpers import save_and_load, to_numpy

BACKEND = keras.backend.backend()
# PyTorch refuses steps_per_execution > 1.
SPE = [1] if BACKEND == "torch" else [1, 4]
REDUCTIONS = ("mean", "sum", "max", "min", "last")
BATCH = 4
SAMPLES, VAL_SAMPLES = 22, 10  # a short last batch in both
STEPS = math.ceil(SAMPLES / BATCH)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 3)).astype("float32")
    y = rng.normal(size=(SAMPLES, 1)).astype("float32")
    xv = rng.normal(size=(VAL_SAMPLES, 3)).astype("float32")
    yv = rng.normal(size=(VAL_SAMPLES, 1)).astype("float32")
    return x, y, xv, yv


def _model(
    monitors: bool,
    steps_per_execution: int = 1,
    learning_rate=0.1,
    jit_compile="auto",
    reductions=REDUCTIONS,
):
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2, activation="tanh", name="hidden")(inputs)
    h = hidden
    if monitors:
        for reduction in reductions:
            h = Monitor(f"h_{reduction}", reduction=reduction)(h)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(h))
    model.compile(
        keras.optimizers.SGD(learning_rate),
        "mse",
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model


class _HiddenWeights(keras.callbacks.Callback):
    """The hidden layer's weights before each step and after each epoch."""

    def __init__(self):
        super().__init__()
        self.steps, self.epochs = [], []

    def _weights(self):
        layer = self.model.get_layer("hidden")
        return to_numpy(layer.kernel).copy(), to_numpy(layer.bias).copy()

    def on_train_batch_begin(self, batch, logs=None):
        self.steps.append(self._weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(self._weights())


class _BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []  # (epoch, batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append((self.epoch, batch, {k: float(v) for k, v in logs.items()}))


def _hidden(x, weights):
    kernel, bias = weights
    return np.tanh(x @ kernel + bias)


def _batches(x):
    return [x[i : i + BATCH] for i in range(0, len(x), BATCH)]


def _reduce(reduction, tensors):
    values = np.concatenate([t.ravel() for t in tensors])
    if reduction == "last":
        return float(np.mean(tensors[-1]))
    return float(getattr(np, reduction)(values))


def _twin_run(initial_weights, x, y, xv, yv, epochs):
    twin = _model(monitors=False)
    twin.set_weights(initial_weights)  # Monitor adds no weights
    recorder = _HiddenWeights()
    history = twin.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=[recorder],
    )
    return history.history, recorder


def test_logged_values_under_jit_compile():
    # PyTorch: `torch.compile` traces the in-place adds of the step. Full
    # batches: one trace; two reductions: an in-place add (mean) and an
    # assign (max).
    x, y, xv, yv = (a[: 4 * BATCH] for a in _data())
    reductions = ("mean", "max")
    model = _model(monitors=True, jit_compile=True, reductions=reductions)
    initial_weights = model.get_weights()
    history = model.fit(x, y, batch_size=BATCH, shuffle=False, verbose=0).history
    _, weights = _twin_run(initial_weights, x, y, xv, yv, 1)
    steps = [_hidden(b, weights.steps[i]) for i, b in enumerate(_batches(x))]
    for reduction in reductions:
        expected = _reduce(reduction, steps)
        np.testing.assert_allclose(history[f"h_{reduction}"], [expected], rtol=1e-5)


@pytest.mark.parametrize("steps_per_execution", SPE)
def test_logged_values_equal_numpy_per_batch_per_epoch_and_validation(
    steps_per_execution,
):
    x, y, xv, yv = _data()
    model = _model(monitors=True, steps_per_execution=steps_per_execution)
    initial_weights = model.get_weights()
    batch_logs = _BatchLogs()
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=[batch_logs],
    ).history
    twin_history, weights = _twin_run(initial_weights, x, y, xv, yv, 2)

    # It adds nothing to the loss: the twin without Monitor trains the same way.
    np.testing.assert_allclose(history["loss"], twin_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], twin_history["val_loss"], rtol=1e-5)
    steps = [
        _hidden(batch, weights.steps[epoch * STEPS + i])
        for epoch in range(2)
        for i, batch in enumerate(_batches(x))
    ]
    for reduction in REDUCTIONS:
        name = f"h_{reduction}"
        expected = [
            _reduce(reduction, steps[e * STEPS : (e + 1) * STEPS]) for e in (0, 1)
        ]
        np.testing.assert_allclose(history[name], expected, rtol=1e-5, err_msg=name)
        val = [
            _reduce(reduction, [_hidden(b, weights.epochs[e]) for b in _batches(xv)])
            for e in (0, 1)
        ]
        np.testing.assert_allclose(history["val_" + name], val, rtol=1e-5, err_msg=name)
        for epoch, batch, logs in batch_logs.logs:
            # Keras numbers an execution's end as if it were full.
            so_far = steps[epoch * STEPS : epoch * STEPS + min(batch + 1, STEPS)]
            np.testing.assert_allclose(
                logs[name], _reduce(reduction, so_far), rtol=1e-5, err_msg=name
            )
    executions = math.ceil(STEPS / steps_per_execution)
    expected_batches = [(k + 1) * steps_per_execution - 1 for k in range(executions)]
    assert [b for e, b, _ in batch_logs.logs if e == 0] == expected_batches
    # Nothing else is logged: a model without hyperparameters logs no learning rate.
    assert sorted(history) == sorted(
        ["loss", "val_loss"] + [f"{p}h_{r}" for p in ("", "val_") for r in REDUCTIONS]
    )


def test_predict_and_a_call_outside_training_do_not_change_the_logged_value():
    x, y, xv, yv = _data()
    model = _model(monitors=True, learning_rate=0.0)

    class PredictEveryBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.predict(100 + xv, verbose=0)

    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[PredictEveryBatch()],
    ).history
    layer = model.get_layer("hidden")
    weights = to_numpy(layer.kernel), to_numpy(layer.bias)
    expected = _reduce("max", [_hidden(b, weights) for b in _batches(x)])
    np.testing.assert_allclose(history["h_max"], [expected], rtol=1e-5)
    logged_now = float(model.get_layer("h_max").result())
    np.testing.assert_allclose(logged_now, expected, rtol=1e-5)


def test_evaluate_returns_the_value_and_resets_it():
    x, y, xv, yv = _data()
    model = _model(monitors=True)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    layer = model.get_layer("hidden")
    weights = to_numpy(layer.kernel), to_numpy(layer.bias)

    logs = model.evaluate(xv, yv, batch_size=BATCH, verbose=0, return_dict=True)

    for reduction in REDUCTIONS:
        expected = _reduce(reduction, [_hidden(b, weights) for b in _batches(xv)])
        np.testing.assert_allclose(logs[f"h_{reduction}"], expected, rtol=1e-5)


class NormWithMonitor(keras.layers.Layer):
    """A user's layer that logs a tensor it computes, through a sublayer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = Monitor("row_norm")

    def call(self, x):
        self.norm(ops.sqrt(ops.sum(ops.square(x), axis=-1)))
        return 2.0 * x


class SubclassedWithMonitors(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2, kernel_initializer="ones")
        self.norm = NormWithMonitor()
        self.scale = Monitor("scale", reduction="last")
        self.out = keras.layers.Dense(1)

    def call(self, x):
        h = self.norm(self.dense(x))
        self.scale(ops.max(ops.abs(h)))
        return self.out(h)


@pytest.mark.parametrize("kind", ["functional", "subclassed"])
def test_a_monitor_inside_another_layer_or_a_subclassed_model(kind):
    x, y, _, _ = _data()
    if kind == "functional":
        inputs = keras.Input((3,))
        h = keras.layers.Dense(2, kernel_initializer="ones")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(NormWithMonitor()(h)))
    else:
        model = SubclassedWithMonitors()
    model.compile(keras.optimizers.SGD(0.0), "mse")

    history = model.fit(
        x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0
    ).history

    h = x @ np.ones((3, 2), "float32")  # bias zero
    np.testing.assert_allclose(
        history["row_norm"], [np.mean(np.linalg.norm(h, axis=-1))], rtol=1e-5
    )
    if kind == "subclassed":
        last = np.max(np.abs(2 * h[(STEPS - 1) * BATCH :]))
        np.testing.assert_allclose(history["scale"], [last], rtol=1e-5)


def test_round_trip_with_safe_mode_keeps_reduction_and_selection(tmp_path):
    x, y, xv, yv = _data()
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2, name="hidden")(inputs)
    norm = ops.sum(ops.square(hidden), axis=-1)
    carried = Monitor("sq_norm", reduction="max", output_index=1)([norm, hidden])
    model = keras.Model(inputs, keras.layers.Dense(1)(carried))
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)

    layer = reloaded.get_layer("sq_norm")
    assert (layer.reduction, layer.output_index) == ("max", 1)
    np.testing.assert_allclose(
        reloaded.evaluate(xv, yv, verbose=0),
        model.evaluate(xv, yv, verbose=0),
        rtol=1e-6,
    )
    logs = reloaded.fit(x, y, batch_size=BATCH, epochs=1, verbose=0).history
    assert sorted(logs) == ["loss", "sq_norm"]


def test_state_is_not_in_the_weights():
    model = _model(monitors=True)
    plain = _model(monitors=False)
    assert len(model.get_weights()) == len(plain.get_weights()) == 4
    assert len(model.non_trainable_variables) >= 2 * len(REDUCTIONS)
    assert model.count_params() == plain.count_params()


def test_integer_tensors_and_dtypes_pass_through_unchanged():
    inputs = keras.Input((3,), dtype="int32")
    outputs = Monitor("ids", reduction="sum")(inputs)
    assert outputs.dtype == "int32" and tuple(outputs.shape) == (None, 3)
    values = np.arange(6, dtype="int32").reshape(2, 3)
    layer = Monitor("ids", reduction="sum")
    np.testing.assert_array_equal(to_numpy(layer(values)), values)
    assert float(layer.result()) == 15.0


@pytest.mark.parametrize(
    "bad, error", [("average", ValueError), (None, TypeError), (3, TypeError)]
)
def test_bad_reduction_is_refused_at_construction(bad, error):
    with pytest.raises(error, match=f"Received: reduction={bad!r}"):
        Monitor("x", reduction=bad)


@pytest.mark.parametrize("bad", ["1", 1.0, [0, "1"], True])
def test_bad_output_index_is_refused_at_construction(bad):
    with pytest.raises(TypeError, match="Received: output_index="):
        Monitor("x", output_index=bad)


def test_no_data_logs_zero_as_keras_metrics_do():
    for reduction in REDUCTIONS:
        layer = Monitor("x", reduction=reduction)
        layer.build((None, 2))
        assert float(layer.result()) == 0.0
        layer(np.full((2, 2), -3.0, "float32"))
        assert float(layer.result()) == {"sum": -12.0}.get(reduction, -3.0)
        layer.tracker.reset_state()
        assert float(layer.result()) == 0.0


def test_save_and_load_keeps_a_model_with_monitors_trainable(tmp_path):
    x, y, _, _ = _data()
    model = _model(monitors=True)
    coolkeras.attach(model)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    reloaded = save_and_load(model, tmp_path)
    history = reloaded.fit(x, y, batch_size=BATCH, epochs=1, verbose=0).history
    assert {f"h_{r}" for r in REDUCTIONS} <= set(history)


# -- the logs drive callbacks ---------------------------------------------------

SCRIPT = [5.0, 4.0, 3.0, 3.5, 4.0, 2.0, 1.0]  # the monitored value, epoch by epoch
SCRIPT_STEPS = 4  # steps per epoch
SCRIPT_EPOCHS = len(SCRIPT)


class _Scripted(keras.layers.Layer):
    """Outputs a hyperparameter's current value for every sample."""

    def __init__(self, hyperparameter, **kwargs):
        super().__init__(**kwargs)
        self.hyperparameter = hyperparameter

    def call(self, x):
        return self.hyperparameter.value * ops.ones_like(x[:, 0])


def _scripted_fit(callbacks, epochs=SCRIPT_EPOCHS):
    """Fits a model whose monitored "scripted" value is SCRIPT[epoch]."""
    script = coolkeras.Hyperparameter(
        keras.optimizers.schedules.PiecewiseConstantDecay(
            [SCRIPT_STEPS * (i + 1) - 1 for i in range(len(SCRIPT) - 1)], SCRIPT
        ),
        name="script",
    )
    learning_rate = coolkeras.Hyperparameter(0.01, name="lr")
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(1)(inputs)
    value = _Scripted(script)(inputs)
    outputs = Monitor("scripted", output_index=1)([value, outputs])
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    coolkeras.attach(model)
    x, y, _, _ = _data()
    x, y = x[: SCRIPT_STEPS * BATCH], y[: SCRIPT_STEPS * BATCH]
    history = model.fit(
        x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=callbacks
    )
    return history.history, learning_rate, (x, y)


def test_early_stopping_stops_where_the_monitored_value_says():
    stop = keras.callbacks.EarlyStopping(monitor="scripted", patience=2, mode="min")
    history, _, _ = _scripted_fit([stop])
    # Best 3.0 at epoch 2, then two epochs without improvement.
    np.testing.assert_allclose(history["scripted"], SCRIPT[:5])
    assert stop.stopped_epoch == 4


def test_model_checkpoint_saves_the_epochs_the_monitored_value_improves(tmp_path):
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt_{epoch}.weights.h5"),
        monitor="scripted",
        mode="min",
        save_best_only=True,
        save_weights_only=True,
    )
    _scripted_fit([checkpoint])
    saved = sorted(int(p.name[5:-11]) for p in tmp_path.glob("ckpt_*.weights.h5"))
    assert saved == [1, 2, 3, 6, 7]


def test_reduce_on_plateau_scales_the_learning_rate_where_the_value_stalls():
    from coolkeras.callbacks import ReduceOnPlateau

    holder = {}

    class Reduce(ReduceOnPlateau):  # the learning rate is made inside the fit
        def __init__(self):
            super().__init__(
                coolkeras.Hyperparameter(1.0),
                monitor="scripted",
                mode="min",
                patience=1,
                factor=0.5,
            )

        def set_model(self, model):
            self.hyperparameter = holder["lr"] = model.optimizer._learning_rate
            super().set_model(model)

    history, learning_rate, _ = _scripted_fit([Reduce()], epochs=5)
    # 3.5 at epoch 3 and 4.0 at epoch 4 do not improve on 3.0: two reductions,
    # the first used from epoch 4 on (the history shows what each epoch used).
    np.testing.assert_allclose(
        history["learning_rate"], [0.01] * 4 + [0.005], rtol=1e-6
    )
    assert holder["lr"] is learning_rate
    np.testing.assert_allclose(float(learning_rate), 0.0025, rtol=1e-6)


def test_evaluator_monitors_the_value_on_held_out_data():
    from coolkeras.callbacks import Evaluator

    held_out = {}

    def evaluate_fn(model):
        logs = model.evaluate(*held_out["data"], verbose=0, return_dict=True)
        assert "learning_rate" not in logs  # training values stay out of evaluate
        return logs["scripted"]

    evaluator = Evaluator(
        evaluate_fn, mode="min", name="held_out", monitor="held_out", patience=2
    )

    class Data(keras.callbacks.Callback):
        def set_model(self, model):
            x, y, _, _ = _data()
            held_out["data"] = (x[:8], y[:8])

    history, _, _ = _scripted_fit([Data(), evaluator])
    # `evaluate` after epoch e reads the value of the next step: SCRIPT[e + 1].
    np.testing.assert_allclose(history["held_out"], SCRIPT[1:5])
    assert (evaluator.best, evaluator.best_epoch) == (3.0, 1)


def test_progress_bar_csv_logger_and_tensorboard_show_the_values(
    tmp_path, capsys, monkeypatch
):
    # What the TensorBoard callback writes, as (tag, value): the `tensorboard`
    # package that `tf.summary.scalar` needs is not required.
    summary = pytest.importorskip("tensorflow.summary")
    written = []
    monkeypatch.setattr(
        summary, "scalar", lambda tag, value, step: written.append((tag, value))
    )
    x, y, xv, yv = _data()
    schedule = coolkeras.schedules.Linear(0.1, 0.01, steps=2 * STEPS)
    model = _model(monitors=True, learning_rate=schedule)
    coolkeras.attach(model)  # also logs the learning rate
    csv_path = tmp_path / "log.csv"
    batch_logs = _BatchLogs()
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        verbose=1,
        validation_data=(xv, yv),
        callbacks=[
            keras.callbacks.CSVLogger(str(csv_path)),
            keras.callbacks.TensorBoard(str(tmp_path / "tb"), update_freq=1),
            batch_logs,
        ],
    ).history

    printed = capsys.readouterr().out
    assert "h_mean:" in printed and "val_h_max:" in printed
    assert "learning_rate:" in printed
    rows = csv_path.read_text().splitlines()
    header = rows[0].split(",")
    assert {"h_mean", "val_h_mean", "learning_rate"} <= set(header)
    column = header.index("h_mean")
    np.testing.assert_allclose(
        [float(r.split(",")[column]) for r in rows[1:]], history["h_mean"], rtol=1e-6
    )

    def tagged(tag):
        return [float(value) for name, value in written if name == tag]

    for name in ("h_mean", "learning_rate"):  # every step, with update_freq=1
        np.testing.assert_allclose(
            tagged(f"batch_{name}"),
            [logs[name] for _, _, logs in batch_logs.logs],
            rtol=1e-6,
        )
    assert len(tagged("batch_h_mean")) == 2 * STEPS
    # Mid-epoch: the learning rate of every step, as the schedule says.
    np.testing.assert_allclose(
        tagged("batch_learning_rate"),
        [float(schedule(step)) for step in range(2 * STEPS)],
        rtol=1e-6,
    )
    # Per epoch, the training value and then the validation value.
    np.testing.assert_allclose(
        tagged("epoch_h_mean"),
        np.ravel(np.stack([history["h_mean"], history["val_h_mean"]], axis=1)),
        rtol=1e-6,
    )
