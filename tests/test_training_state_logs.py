"""The training logs of an attached model: its hyperparameters and learning rate.

Each value logged is the one the last step used: per batch (every step with
`steps_per_execution=1`, the last step of each execution otherwise) and per
epoch (its last step), compared with the schedules evaluated in numpy-land.
"""

import keras
import numpy as np
import pytest
from keras import ops

import coolkeras
from coolkeras import schedules
from coolkeras.layers import AddLoss

BACKEND = keras.backend.backend()
SPE = [1] if BACKEND == "torch" else [1, 4]
BATCH, STEPS, EPOCHS = 4, 5, 3


def _data(samples=STEPS * BATCH):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 2)).astype("float32")
    return x, x[:, :1] - x[:, 1:]


def _model(learning_rate, loss="mse", spe=1):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), loss, steps_per_execution=spe)
    return model


class _BatchLogs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps, self.logs = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # The global index of the last step that ran (an execution's end is
        # numbered as if it were full).
        self.steps.append(self.epoch * STEPS + min(batch, STEPS - 1))
        self.logs.append({k: float(v) for k, v in logs.items()})


def _fit(model, callbacks=(), epochs=EPOCHS, validation=True):
    x, y = _data()
    batch_logs = _BatchLogs()
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        validation_data=(x, y) if validation else None,
        callbacks=[*callbacks, batch_logs],
    )
    return history.history, batch_logs


def _at(schedule, steps):
    return [float(schedule(step)) for step in steps]


LAST_STEPS = [STEPS * (epoch + 1) - 1 for epoch in range(EPOCHS)]

LEARNING_RATES = {
    "coolkeras schedule": lambda: schedules.Linear(0.1, 0.01, steps=15),
    "keras schedule": lambda: keras.optimizers.schedules.PolynomialDecay(0.1, 15, 0.01),
}


@pytest.mark.parametrize("spe", SPE)
@pytest.mark.parametrize("kind", sorted(LEARNING_RATES))
def test_learning_rate_schedule_is_logged_at_the_last_step(kind, spe):
    schedule = LEARNING_RATES[kind]()
    model = _model(schedule, spe=spe)
    coolkeras.attach(model)

    history, batches = _fit(model)

    np.testing.assert_allclose(
        history["learning_rate"], _at(schedule, LAST_STEPS), rtol=1e-6
    )
    np.testing.assert_allclose(
        [logs["learning_rate"] for logs in batches.logs],
        _at(schedule, batches.steps),
        rtol=1e-6,
    )
    assert sorted(history) == ["learning_rate", "loss", "val_loss"]


def test_a_float_learning_rate_is_logged_and_evaluate_is_unchanged():
    model = _model(0.05)
    coolkeras.attach(model)
    history, _ = _fit(model)
    np.testing.assert_allclose(history["learning_rate"], [0.05] * EPOCHS, rtol=1e-6)
    x, y = _data()
    assert np.ndim(model.evaluate(x, y, verbose=0)) == 0  # a scalar loss
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss"]


@pytest.mark.parametrize("spe", SPE)
def test_learning_rate_hyperparameter_after_scale(spe):
    schedule = schedules.Linear(0.1, 0.01, steps=15)
    learning_rate = coolkeras.Hyperparameter(schedule, name="lr")

    class HalveAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                learning_rate.scale(0.5)

    model = _model(learning_rate, spe=spe)
    coolkeras.attach(model)
    history, batches = _fit(model, [HalveAfterFirstEpoch()])

    expected = np.array(_at(schedule, LAST_STEPS)) * [1.0, 0.5, 0.5]
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-6)
    np.testing.assert_allclose(history["lr"], expected, rtol=1e-6)
    scale = np.where(np.array(batches.steps) >= STEPS, 0.5, 1.0)
    np.testing.assert_allclose(
        [logs["lr"] for logs in batches.logs],
        np.array(_at(schedule, batches.steps)) * scale,
        rtol=1e-6,
    )
    assert "val_lr" not in history and "val_learning_rate" not in history


@pytest.mark.parametrize("spe", SPE)
def test_epsilon_in_a_loss_is_logged_under_its_name(spe):
    schedule = schedules.Linear(0.2, 0.0, steps=15)
    eps = coolkeras.Hyperparameter(schedule, name="eps")

    def loss(y_true, y_pred):
        return (1 - eps) * ops.mean(ops.square(y_true - y_pred)) + eps * ops.mean(
            ops.abs(y_true - y_pred)
        )

    model = _model(0.05, loss=loss, spe=spe)
    coolkeras.attach(model)
    history, batches = _fit(model)

    np.testing.assert_allclose(history["eps"], _at(schedule, LAST_STEPS), rtol=1e-6)
    np.testing.assert_allclose(
        [logs["eps"] for logs in batches.logs], _at(schedule, batches.steps), rtol=1e-6
    )
    assert sorted(history) == ["eps", "learning_rate", "loss", "val_loss"]


def test_gradient_accumulation_logs_the_update_of_the_last_micro_batch():
    schedule = schedules.Linear(0.1, 0.0, steps=10)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(schedule, gradient_accumulation_steps=2), "mse")
    coolkeras.attach(model)
    x, y = _data(16)  # 4 micro-batches, 2 updates per epoch
    history = model.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        history.history["learning_rate"], _at(schedule, [1, 3, 5]), rtol=1e-6
    )


def test_log_false_opts_out_and_true_opts_in_again():
    eps = coolkeras.Hyperparameter(0.1, name="eps")
    model = _model(0.05, loss=lambda y, p: eps * ops.mean(ops.square(y - p)))
    coolkeras.attach(model, log=False)
    history, _ = _fit(model, epochs=1)
    assert sorted(history) == ["loss", "val_loss"]

    coolkeras.attach(model, log=True)
    history, _ = _fit(model, epochs=1)
    assert sorted(history) == ["eps", "learning_rate", "loss", "val_loss"]


def test_log_must_be_a_bool():
    with pytest.raises(TypeError, match="Received: log='no'"):
        coolkeras.attach(_model(0.1), log="no")


def _self_attaching_model():
    """A model that a layer holding a scheduled weight attaches by itself."""
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(1)(inputs)
    penalty = ops.squeeze(ops.square(hidden), axis=-1)
    weight = schedules.Linear(0.5, 0.0, steps=15)
    outputs = AddLoss(weight=weight, output_index=1, name="penalty")([penalty, hidden])
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.05), "mse")
    return model, weight


@pytest.mark.parametrize("first", ["fit", "evaluate"])
def test_a_model_attached_by_its_layers_logs_training_values_only(first):
    model, weight = _self_attaching_model()
    x, y = _data()
    if first == "evaluate":  # attached inside evaluate (TensorFlow: its first trace)
        assert len(model.evaluate(x, y, verbose=0)) == 2  # loss, penalty

    history, batches = _fit(model)

    np.testing.assert_allclose(history["weight"], _at(weight, LAST_STEPS), rtol=1e-6)
    np.testing.assert_allclose(
        [logs["weight"] for logs in batches.logs], _at(weight, batches.steps), rtol=1e-6
    )
    np.testing.assert_allclose(history["learning_rate"], [0.05] * EPOCHS, rtol=1e-6)
    assert sorted(history) == [
        "learning_rate",
        "loss",
        "penalty",
        "val_loss",
        "val_penalty",
        "weight",
    ]
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == [
        "loss",
        "penalty",
    ]


def test_names_are_unique_and_never_loss():
    first = coolkeras.Hyperparameter(0.1, name="loss")
    second = coolkeras.Hyperparameter(0.2, name="loss")

    def loss(y_true, y_pred):
        return (first + second) * ops.mean(ops.square(y_true - y_pred))

    model = _model(0.05, loss=loss)
    coolkeras.attach(model)
    history, _ = _fit(model, epochs=1, validation=False)
    assert sorted(history) == ["learning_rate", "loss", "loss_1", "loss_2"]
    np.testing.assert_allclose([history["loss_1"], history["loss_2"]], [[0.1], [0.2]])
