import keras
import numpy as np
import pytest

from coolkeras.layers import AddLoss, LossLayer
from tests.helpers import save_and_load, to_numpy

WEIGHT = 0.5
LEARNING_RATE = 0.1


def _data():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(8, 4)).astype("float32"),
        rng.normal(size=(8, 1)).astype("float32"),
    )


def _models():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(1, use_bias=False, name="dense")(inputs)
    penalty = keras.ops.squeeze(keras.ops.square(hidden), axis=-1)
    outputs = AddLoss(weight=WEIGHT, output_index=1, name="penalty")([penalty, hidden])
    train = keras.Model(inputs, outputs)
    return train, keras.Model(inputs, hidden)


def test_trained_loss_and_update_match_numpy():
    train, _ = _models()
    train.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    x, y = _data()
    w = to_numpy(train.get_layer("dense").kernel)

    logs = train.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history

    h = x @ w
    term = WEIGHT * np.mean(h**2)
    np.testing.assert_allclose(logs["loss"][0], np.mean((h - y) ** 2) + term, rtol=1e-5)
    np.testing.assert_allclose(logs["penalty"][0], term, rtol=1e-5)
    grad = 2 / len(x) * x.T @ (h - y) + WEIGHT * 2 / len(x) * x.T @ h
    np.testing.assert_allclose(
        to_numpy(train.get_layer("dense").kernel), w - LEARNING_RATE * grad, rtol=1e-5
    )


def test_term_is_logged_as_an_epoch_mean_with_validation():
    train, _ = _models()
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = _data()
    w = to_numpy(train.get_layer("dense").kernel)

    logs = train.fit(
        x, y, batch_size=2, epochs=2, verbose=0, shuffle=False, validation_data=(x, y)
    ).history

    batch_terms = [WEIGHT * np.mean((x[i : i + 2] @ w) ** 2) for i in range(0, 8, 2)]
    np.testing.assert_allclose(logs["penalty"], [np.mean(batch_terms)] * 2, rtol=1e-5)
    np.testing.assert_allclose(
        logs["val_penalty"], [np.mean(batch_terms)] * 2, rtol=1e-5
    )


def test_running_term_is_state_not_weights():
    train, inference = _models()
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = _data()
    train.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert train.get_layer("penalty").weights == []
    weights = train.get_weights()
    assert len(weights) == len(inference.get_weights()) == 1  # the Dense kernel
    train.set_weights(weights)  # what EarlyStopping(restore_best_weights) does


def test_inference_model_has_no_extra_loss():
    train, inference = _models()
    inference.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    inference(x)
    assert inference.losses == []
    h = to_numpy(inference.predict(x, verbose=0))
    np.testing.assert_allclose(
        inference.evaluate(x, y, verbose=0), np.mean((h - y) ** 2), rtol=1e-5
    )
    assert not any(isinstance(layer, AddLoss) for layer in inference.layers)


def test_training_model_round_trips(tmp_path):
    train, _ = _models()
    train.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    reloaded = save_and_load(train, tmp_path)
    np.testing.assert_allclose(
        reloaded.evaluate(x, y, verbose=0), train.evaluate(x, y, verbose=0), rtol=1e-6
    )
    assert reloaded.get_layer("penalty").weight == WEIGHT


class _PairDistance(LossLayer):
    def compute_loss(self, inputs, training=None):
        a, b = inputs
        return keras.ops.sum(keras.ops.square(a - b), axis=-1)


def test_subclass_writes_only_compute_loss_and_selects_outputs():
    a = np.ones((2, 3), "float32")
    b = np.zeros((2, 3), "float32")
    layer = _PairDistance(weight=2.0, output_index=[1, 0])
    first, second = layer([a, b])
    np.testing.assert_array_equal(to_numpy(first), b)
    np.testing.assert_array_equal(to_numpy(second), a)
    np.testing.assert_allclose([to_numpy(loss) for loss in layer.losses], [6.0])


def test_missing_compute_loss_says_what_to_write():
    with pytest.raises(NotImplementedError, match="compute_loss"):
        LossLayer()(np.ones((1, 2), "float32"))


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_bad_weight_names_the_argument(bad):
    with pytest.raises(ValueError, match="Received: weight="):
        AddLoss(weight=bad)


def test_non_numeric_weight_names_the_argument():
    with pytest.raises(TypeError, match="Received: weight='big'"):
        AddLoss(weight="big")


def test_scheduled_weight_is_used_at_every_step(tmp_path):
    import coolkeras

    schedule = keras.optimizers.schedules.PolynomialDecay(1.0, 6, 0.1)
    inputs = keras.Input((1,))
    hidden = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs)
    outputs = AddLoss(weight=schedule, output_index=1, name="penalty")(
        [keras.ops.squeeze(hidden, -1), hidden]
    )
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    coolkeras.attach(model)
    data = np.ones((8, 1), "float32")

    logs = model.fit(data, data, batch_size=1, epochs=1, verbose=0).history

    expected = np.mean([float(schedule(step)) for step in range(8)])
    np.testing.assert_allclose(logs["penalty"][0], expected, rtol=1e-5)
    reloaded = save_and_load(model, tmp_path)
    assert reloaded.get_layer("penalty").weight.step == 8
