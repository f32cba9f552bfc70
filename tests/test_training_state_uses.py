"""Where a hyperparameter is used, and what happens around training (issue 10).

In a callback, inside a schedule, a metric, a constraint, a nested model;
with `restore_best_weights`, a second model, mixed precision, a reload, and
counts beyond int32; each checked against a numpy reference.
"""

import keras
import numpy as np
import pytest
from keras import ops

import coolkeras
from coolkeras import Hyperparameter, schedules
from coolkeras.layers import AddLoss
from coolkeras.losses import SmoothedCrossEntropy
from coolkeras.schedules._checks import MAX_STEP
from tests.helpers import save_and_load, to_numpy
from tests.recording import Recorder
from tests.state_probe import (
    EPS,
    LR,
    STEPS,
    fit,
    learning_rates,
    probe_model,
    reference,
)


class _Seen(keras.callbacks.Callback):
    """Reads hyperparameters at every batch end: float(hp), hp.value, the LR."""

    def __init__(self, eps, lr):
        super().__init__()
        self.eps, self.lr = eps, lr
        self.floats, self.values, self.rates, self.learning_rates = [], [], [], []
        self.lr_values = []

    def on_train_batch_end(self, batch, logs=None):
        self.floats.append(float(self.eps))
        self.values.append(float(to_numpy(self.eps.value)))
        self.rates.append(float(self.lr))
        self.learning_rates.append(float(to_numpy(self.model.optimizer.learning_rate)))
        self.lr_values.append(float(to_numpy(self.lr.value)))


def test_float_and_value_agree_in_a_callback_and_for_the_learning_rate():
    lr = Hyperparameter(LR, name="lr")
    model, eps, probe, _ = probe_model(learning_rate=lr)
    coolkeras.attach(model)
    seen = _Seen(eps, lr)
    fit(model, callbacks=[seen])

    # After batch t the next update is t + 1.
    np.testing.assert_allclose(seen.floats, reference(EPS, range(1, STEPS + 1)))
    np.testing.assert_allclose(seen.values, seen.floats, rtol=1e-6)
    np.testing.assert_allclose(seen.rates, reference(LR, range(1, STEPS + 1)))
    np.testing.assert_allclose(seen.learning_rates, seen.rates, rtol=1e-6)
    np.testing.assert_allclose(seen.lr_values, seen.rates, rtol=1e-6)
    lr.scale(0.5)
    assert float(to_numpy(lr.value)) == pytest.approx(float(lr)) == pytest.approx(
        0.5 * float(LR(STEPS))
    )


def test_a_hyperparameter_inside_a_learning_rate_schedule():
    peak = Hyperparameter(schedules.Constant(0.1), name="peak")
    learning_rate = schedules.Warmup(peak, steps=4)

    class HalveAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 7:
                peak.scale(0.5)

    model, _, _, weights_seen = probe_model(learning_rate=learning_rate)
    coolkeras.attach(model)
    fit(model, callbacks=[HalveAt()])
    expected = np.array([0.1 * min(t, 4) / 4 for t in range(STEPS - 1)])
    expected[8:] *= 0.5
    np.testing.assert_allclose(learning_rates(weights_seen), expected, rtol=1e-4)


def test_a_hyperparameter_in_a_metric():
    eps = Hyperparameter(EPS, name="eps")

    def eps_metric(y_true, y_pred):
        return eps.value + 0.0 * ops.mean(y_pred)

    model, _, _, _ = probe_model(eps=eps, metrics=[eps_metric])
    coolkeras.attach(model)
    history = fit(model, epochs=2, steps=6)
    values = reference(EPS, range(12))
    np.testing.assert_allclose(
        history.history["eps_metric"], [values[:6].mean(), values[6:].mean()], rtol=1e-5
    )


def test_a_hyperparameter_in_a_kernel_constraint():
    bound = Hyperparameter(schedules.Linear(1.0, 0.4, steps=6), name="bound")

    def clip(kernel):
        return ops.clip(kernel, -bound.value, bound.value)

    inputs = keras.Input((1,))
    dense = keras.layers.Dense(
        1, use_bias=False, kernel_initializer="ones", kernel_constraint=clip
    )
    seen = Recorder(64, name="seen")
    model = keras.Model(inputs, seen(dense(inputs)))
    # The loss pushes the kernel up by 10 per step; the constraint caps it.
    model.compile(keras.optimizers.SGD(10.0), loss=lambda y, p: -ops.mean(p))
    coolkeras.attach(model)
    fit(model, steps=8)
    # The kernel after update t is the bound at update t.
    expected = [float(bound.schedule(t)) for t in range(7)]
    np.testing.assert_allclose(seen.values()[1:], expected, rtol=1e-6)


def test_a_nested_model_predicts_with_the_current_value():
    eps = Hyperparameter(EPS, name="eps")

    class Times(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.eps = eps

        def call(self, x):
            return x * self.eps

    inner_inputs = keras.Input((1,))
    inner = keras.Model(inner_inputs, Times()(inner_inputs), name="inner")
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    model = keras.Model(inputs, inner(dense(inputs)))
    model.compile(keras.optimizers.SGD(0.0), loss="mse")
    coolkeras.attach(model)
    x = np.ones((STEPS, 1), "float32")
    for steps in (3, 5):
        fit(model, steps=steps)
        np.testing.assert_allclose(
            inner.predict(x[:1], verbose=0), float(EPS(eps.step)), rtol=1e-6
        )
    assert eps.step == 8


def test_restore_best_weights_keeps_the_clock_of_the_optimizer():
    eps = Hyperparameter(schedules.Linear(0.0, 1.0, steps=24), name="eps")
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(
        keras.optimizers.SGD(0.01), loss=lambda y, p: eps.value + 0.0 * ops.mean(p)
    )
    coolkeras.attach(model)
    stop = keras.callbacks.EarlyStopping(
        monitor="loss", patience=1, restore_best_weights=True
    )
    history = fit(model, epochs=5, steps=4, callbacks=[stop])

    assert len(history.epoch) == 2  # the loss (eps) rises: stopped, weights restored
    updates = int(to_numpy(model.optimizer.iterations.value))
    assert eps.step == updates == 8
    assert float(eps) == pytest.approx(float(eps.schedule(8)))


def test_one_loss_object_trains_two_models_each_from_update_zero():
    loss = SmoothedCrossEntropy(schedules.Linear(0.5, 0.0, steps=6), from_logits=True)
    epsilon = loss.epsilon

    def train():
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        model.compile(keras.optimizers.SGD(0.0), loss=loss)
        coolkeras.attach(model)
        used = []

        class Read(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                used.append(float(epsilon))

        data = np.ones((4, 3), "float32")
        model.fit(data, np.zeros(4), batch_size=1, verbose=0, callbacks=[Read()])
        return model, used

    first, used_first = train()
    second, used_second = train()
    np.testing.assert_allclose(used_first, [0.5, 5 / 12, 1 / 3, 0.25], rtol=1e-6)
    np.testing.assert_allclose(used_second, used_first, rtol=1e-6)
    assert float(epsilon) == pytest.approx(0.25 - 0.5 / 6)


def _saved_model(tmp_path):
    """A trained model with a scheduled AddLoss weight, ε and learning rate."""
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="hidden")(inputs)
    penalty = ops.mean(ops.square(hidden), axis=-1)
    hidden = AddLoss(schedules.Linear(1.0, 0.0, steps=10), output_index=1, name="l2")(
        [penalty, hidden]
    )
    model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(hidden))
    model.compile(
        keras.optimizers.Adam(Hyperparameter(schedules.Linear(0.01, 0.0, 20), "lr")),
        loss=SmoothedCrossEntropy(
            schedules.Linear(0.4, 0.0, steps=10), from_logits=True
        ),
    )
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.arange(8) % 2
    model.fit(x, y, batch_size=2, verbose=0)  # AddLoss attaches the model
    path = str(tmp_path / "model.keras")
    model.save(path)
    return model, path, x, y


def test_a_loaded_model_predicts_and_evaluates_with_no_extra_line(tmp_path):
    model, path, x, y = _saved_model(tmp_path)
    loaded = keras.models.load_model(path)

    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5
    )
    assert loaded.get_layer("l2").weight.step == 4


def test_a_loaded_model_resumes_with_the_optimizer_state(tmp_path):
    model, path, x, y = _saved_model(tmp_path)
    loaded = keras.models.load_model(path)
    saved = [to_numpy(v.value) for v in model.optimizer.variables]
    restored = [to_numpy(v.value) for v in loaded.optimizer.variables]
    assert len(saved) == len(restored)
    for a, b in zip(saved, restored, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)

    model.fit(x, y, batch_size=2, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=2, verbose=0, shuffle=False)  # AddLoss attaches it
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_training_a_loaded_loss_hyperparameter_needs_the_line(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(
        "sgd",
        loss=SmoothedCrossEntropy(
            schedules.Linear(0.4, 0.0, steps=10), from_logits=True
        ),
    )
    coolkeras.attach(model)
    x, y = np.ones((4, 3), "float32"), np.zeros(4)
    model.fit(x, y, verbose=0)
    loaded = save_and_load(model, tmp_path)
    loaded.evaluate(x, y, verbose=0)  # no line needed
    if keras.backend.backend() == "jax":
        with pytest.warns(coolkeras.CoolkerasWarning, match="attach"):
            loaded.fit(x, y, verbose=0)
    else:
        with pytest.raises(RuntimeError, match="attach"):
            loaded.fit(x, y, verbose=0)
    coolkeras.attach(loaded)
    loaded.fit(x, y, verbose=0)
    assert loaded.loss.epsilon.step == (3 if keras.backend.backend() == "jax" else 2)


@pytest.fixture
def mixed(request):
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("mixed", ["mixed_float16", "mixed_bfloat16"], indirect=True)
def test_a_learning_rate_hyperparameter_under_mixed_precision(mixed):
    lr = Hyperparameter(LR, name="lr")
    kernels = []

    class HalveAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            # The float32 kernel (the layer computes in float16 or bfloat16).
            kernels.append(to_numpy(self.model.layers[1].kernel.value).item())
            if batch == 5:
                lr.scale(0.5)

    model, _, _, _ = probe_model(learning_rate=lr)
    coolkeras.attach(model)
    assert model.optimizer.__class__.__name__ == (
        "LossScaleOptimizer" if mixed == "mixed_float16" else "SGD"
    )
    fit(model, callbacks=[HalveAt()])
    expected = reference(LR, range(STEPS))
    expected[6:] *= 0.5
    used = -np.diff([1.0, *kernels])
    np.testing.assert_allclose(used, expected, rtol=1e-5)
    assert lr.step == STEPS
    assert float(lr) == pytest.approx(0.5 * float(LR(STEPS)))


def test_jit_compile_true_on_every_backend():
    lr = Hyperparameter(LR, name="lr")
    model, eps, probe, weights_seen = probe_model(learning_rate=lr, jit_compile=True)
    coolkeras.attach(model)
    fit(model)
    np.testing.assert_allclose(probe.values(), reference(EPS, range(STEPS)), rtol=1e-6)
    np.testing.assert_allclose(
        learning_rates(weights_seen), reference(LR, range(STEPS - 1)), rtol=1e-4
    )


def test_the_clock_saturates_instead_of_wrapping_at_two_to_the_31():
    model, eps, probe, _ = probe_model()
    coolkeras.attach(model)
    model.optimizer.iterations.assign(MAX_STEP - 2)
    fit(model, steps=4)
    assert eps.step == MAX_STEP
    final = float(EPS(10))  # the schedule ends at step 10
    np.testing.assert_allclose(probe.values(), [final] * 4, rtol=1e-6)


@pytest.mark.parametrize("save_best", [None, "best.weights.h5"])
def test_evaluator_restore_best_keeps_the_clock_of_the_optimizer(tmp_path, save_best):
    from coolkeras.callbacks import Evaluator

    model, eps, _, _ = probe_model()
    coolkeras.attach(model)
    scores = iter([3.0, 1.0, 2.0, 0.5, 0.1])  # best at epoch 1 (mode="max")
    evaluator = Evaluator(
        {"score": lambda y_true, y_pred: next(scores)},
        data=(np.ones((2, 1), "float32"), np.ones((2, 1), "float32")),
        mode="max",
        restore_best=True,
        save_best=None if save_best is None else str(tmp_path / save_best),
    )
    fit(model, epochs=4, steps=3, callbacks=[evaluator])
    updates = int(to_numpy(model.optimizer.iterations.value))
    assert evaluator.best_epoch == 0
    assert eps.step == updates
    assert float(eps) == pytest.approx(float(EPS(updates)))
