import keras
import numpy as np
import pytest
from keras import ops

import coolkeras
from coolkeras import Hyperparameter
from tests.helpers import to_numpy
from tests.recording import Recorder

EPS_SCHEDULE = keras.optimizers.schedules.PolynomialDecay(0.5, 10, 0.05)
LR_SCHEDULE = keras.optimizers.schedules.PolynomialDecay(0.1, 8, 0.01)
STEPS = 12


def _reference(schedule, steps):
    return np.array([float(schedule(step)) for step in steps])


def _probe(
    steps_per_execution=1, accumulation=None, eps=None, optimizer_lr=LR_SCHEDULE
):
    """A model that records, from inside each train step, the ε its loss reads and
    its own weight w (x = 1, loss = mean(w), so w falls by the learning rate)."""
    eps = eps or Hyperparameter(EPS_SCHEDULE, name="eps")
    inputs = keras.Input((1,))
    weight = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs)
    weights_seen = Recorder(64, name="weights_seen")
    model = keras.Model(inputs, weights_seen(weight))
    model.eps_seen = Recorder(64, name="eps_seen")

    def loss(y_true, y_pred):
        value = eps.value
        model.eps_seen.record(value)
        return ops.mean(y_pred) + 0.0 * value

    model.compile(
        optimizer=keras.optimizers.SGD(
            optimizer_lr, gradient_accumulation_steps=accumulation
        ),
        loss=loss,
        steps_per_execution=steps_per_execution,
    )
    coolkeras.attach(model, eps)
    return model, eps, weights_seen


def _fit(model, epochs=1, callbacks=(), **kwargs):
    data = np.ones((STEPS, 1), "float32")
    return model.fit(
        data,
        data,
        batch_size=1,
        epochs=epochs,
        verbose=0,
        shuffle=False,
        callbacks=list(callbacks),
        **kwargs,
    )


def _execution_settings():
    if keras.backend.backend() == "torch":  # torch refuses steps_per_execution > 1
        return [1]
    return [1, 4]


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_values_used_at_every_step_match_the_schedules(steps_per_execution):
    if steps_per_execution not in _execution_settings():
        pytest.skip("PyTorch refuses steps_per_execution > 1")
    model, eps, weights_seen = _probe(steps_per_execution)
    _fit(model)

    np.testing.assert_allclose(
        model.eps_seen.values(), _reference(EPS_SCHEDULE, range(STEPS)), rtol=1e-6
    )
    learning_rates = -np.diff(weights_seen.values())
    np.testing.assert_allclose(
        learning_rates, _reference(LR_SCHEDULE, range(STEPS - 1)), rtol=1e-4, atol=1e-7
    )
    assert eps.step == STEPS


def test_gradient_accumulation_counts_updates():
    model, eps, weights_seen = _probe(accumulation=2)
    _fit(model)

    updates = np.arange(STEPS) // 2
    np.testing.assert_allclose(
        model.eps_seen.values(), _reference(EPS_SCHEDULE, updates), rtol=1e-6
    )
    weights = weights_seen.values()[::2]  # the weight seen at the start of each update
    np.testing.assert_allclose(
        -np.diff(weights),
        _reference(LR_SCHEDULE, range(len(weights) - 1)),
        rtol=1e-4,
        atol=1e-7,
    )
    assert eps.step == STEPS // 2


class _AssignAt(keras.callbacks.Callback):
    def __init__(self, hyperparameter, batch, value):
        super().__init__()
        self.hyperparameter, self.batch, self.value = hyperparameter, batch, value

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.batch:
            self.hyperparameter.assign(self.value)


def test_value_assigned_mid_epoch_is_used_from_the_next_step():
    model, eps, _ = _probe()
    _fit(model, callbacks=[_AssignAt(eps, batch=4, value=0.25)])

    expected = _reference(EPS_SCHEDULE, range(STEPS))
    expected[5:] = 0.25
    np.testing.assert_allclose(model.eps_seen.values(), expected, rtol=1e-6)


def test_scale_and_reset():
    eps = Hyperparameter(EPS_SCHEDULE, name="eps")
    model, _, _ = _probe(eps=eps)
    eps.scale(0.5)
    _fit(model)
    np.testing.assert_allclose(
        model.eps_seen.values(), 0.5 * _reference(EPS_SCHEDULE, range(STEPS)), rtol=1e-6
    )
    eps.reset()
    assert float(eps) == pytest.approx(float(EPS_SCHEDULE(STEPS)), rel=1e-6)


class _StopAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated interruption")


def test_resume_with_backup_and_restore_follows_the_same_trajectory(tmp_path):
    uninterrupted, _, seen_a = _probe()
    _fit(uninterrupted, epochs=4)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    first, _, _ = _probe()
    with pytest.raises(RuntimeError, match="simulated interruption"):
        _fit(first, epochs=4, callbacks=[backup, _StopAfterEpoch(1)])
    resumed, eps, seen_b = _probe()
    history = _fit(resumed, epochs=4, callbacks=[backup])

    assert history.epoch == [2, 3]  # really resumed, not restarted

    # The recorders are restored too, so they hold the whole 4-epoch trajectory.
    np.testing.assert_allclose(
        resumed.eps_seen.values(), uninterrupted.eps_seen.values(), rtol=1e-6
    )
    np.testing.assert_allclose(seen_b.values(), seen_a.values(), rtol=1e-6)
    np.testing.assert_allclose(
        to_numpy(resumed.layers[1].kernel), to_numpy(uninterrupted.layers[1].kernel)
    )
    assert eps.step == 4 * STEPS


def test_reading_without_attach_fails_clearly():
    eps = Hyperparameter(0.1, name="eps")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", loss=lambda y, p: eps.value * ops.mean((y - p) ** 2))
    data = np.ones((4, 1), "float32")
    with pytest.raises(RuntimeError, match=r"coolkeras.attach\(model, eps\)"):
        model.fit(data, data, verbose=0)


def test_attach_needs_a_keras_model():
    with pytest.raises(TypeError, match="Received: model="):
        coolkeras.attach("model")


def test_a_second_model_starts_its_own_clock():
    first, eps, _ = _probe()
    _fit(first)
    second, _, _ = _probe(eps=eps)
    _fit(second)
    np.testing.assert_allclose(
        second.eps_seen.values(), _reference(EPS_SCHEDULE, range(STEPS)), rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"value": float("nan")}, ValueError),
        ({"value": "0.1"}, TypeError),
        ({"value": float("inf")}, ValueError),
        ({"value": 0.1, "name": ""}, ValueError),
    ],
)
def test_bad_construction_names_the_argument(kwargs, error):
    with pytest.raises(error, match="Received:"):
        Hyperparameter(**kwargs)


def test_bad_changes_name_the_argument():
    eps = Hyperparameter(0.1)
    with pytest.raises(ValueError, match="Received: factor=0"):
        eps.scale(0)
    with pytest.raises(TypeError, match="Received: value=None"):
        eps.assign(None)


def test_config_keeps_the_current_state():
    eps = Hyperparameter(EPS_SCHEDULE, name="eps")
    eps.scale(0.5)
    eps.assign(0.3)
    clone = Hyperparameter.from_config(eps.get_config())
    assert float(clone) == pytest.approx(0.15)
    assert clone.name == "eps"


def _learning_rate_model(learning_rate):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    coolkeras.attach(model)
    return model


def test_learning_rate_hyperparameter_resumes_after_a_full_reload(tmp_path):
    learning_rate = Hyperparameter(LR_SCHEDULE, name="lr")
    model = _learning_rate_model(learning_rate)
    data = np.ones((8, 2), "float32")
    model.fit(data, data[:, :1], batch_size=2, verbose=0)
    learning_rate.scale(0.5)

    path = str(tmp_path / "m.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    coolkeras.attach(reloaded)

    assert float(reloaded.optimizer.learning_rate) == pytest.approx(
        0.5 * float(LR_SCHEDULE(4)), rel=1e-6
    )


def test_hyperparameter_in_a_regularizer_follows_its_schedule():
    strength = Hyperparameter(EPS_SCHEDULE, name="strength")

    def regularizer(kernel):
        return strength.value * ops.sum(ops.square(kernel))

    inputs = keras.Input((1,))
    layer = keras.layers.Dense(
        1, use_bias=False, kernel_initializer="ones", kernel_regularizer=regularizer
    )
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    coolkeras.attach(model, strength)
    data = np.zeros((STEPS, 1), "float32")

    history = model.fit(data, data, batch_size=1, epochs=1, verbose=0)

    # With a zero learning rate the kernel stays 1, so the loss is the mean
    # strength over the epoch's steps.
    expected = np.mean(_reference(EPS_SCHEDULE, range(STEPS)))
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_sequential_model_owns_its_hyperparameters(tmp_path):
    eps = Hyperparameter(EPS_SCHEDULE, name="eps")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss=lambda y_true, y_pred: eps.value + 0.0 * ops.mean(y_pred),
    )
    coolkeras.attach(model, eps)
    data = np.zeros((STEPS, 1), "float32")

    history = model.fit(data, data, batch_size=1, epochs=2, verbose=0)

    values = _reference(EPS_SCHEDULE, range(2 * STEPS))
    np.testing.assert_allclose(
        history.history["loss"],
        [values[:STEPS].mean(), values[STEPS:].mean()],
        rtol=1e-5,
    )
    path = str(tmp_path / "sequential.weights.h5")
    model.save_weights(path)
    eps.assign(0.123)
    model.load_weights(path)
    assert eps.step == 2 * STEPS
    assert float(eps) == pytest.approx(float(EPS_SCHEDULE(2 * STEPS)))


def test_a_second_attach_keeps_counting_the_first_hyperparameters():
    first = Hyperparameter(EPS_SCHEDULE, name="first")
    second = Hyperparameter(EPS_SCHEDULE, name="second")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(
        optimizer="sgd",
        loss=lambda y, p: (first.value + second.value) * ops.mean((y - p) ** 2),
    )
    coolkeras.attach(model, first)
    coolkeras.attach(model, second)
    data = np.zeros((4, 1), "float32")
    model.fit(data, data, batch_size=1, verbose=0)
    assert (first.step, second.step) == (4, 4)


def test_an_eager_cpu_step_reads_the_value_in_numpy():
    eps = Hyperparameter(EPS_SCHEDULE, name="eps")
    settings = np.array([0.5, 0.0, 0.0], "float32")
    value = eps._evaluate_on_host(keras.ops.convert_to_tensor(3, "int32"), settings)
    assert isinstance(value, np.float32)
    np.testing.assert_allclose(value, 0.5 * float(EPS_SCHEDULE(3)), rtol=1e-6)


def test_arithmetic_between_two_hyperparameters():
    a, b = Hyperparameter(0.5, name="a"), Hyperparameter(0.25, name="b")
    values = [a + b, a - b, a * b, a / b, a**b]
    np.testing.assert_allclose(
        [float(to_numpy(v)) for v in values],
        [0.75, 0.25, 0.125, 2.0, 0.5**0.25],
        rtol=1e-6,
    )
