import keras
import numpy as np
import pytest

from coolkeras.layers import CenterLoss
from coolkeras.layers.center_loss_objective import CenterLossObjective
from tests.helpers import save_and_load, to_numpy
from tests.layers.center_loss_reference import ALPHA, CLASSES, paper_model

LEARNING_RATE = 0.1
WEIGHT = 0.7
LABELS = np.array([0, 2, 2, 1, 0, 2])  # class counts 2, 1, 3


def _data():
    x = np.random.default_rng(0).normal(size=(len(LABELS), 4)).astype("float32")
    return x, LABELS.copy()


def _models(update, weight=WEIGHT):
    """The training model, its classifier (features -> head) and the layer."""
    train, center = paper_model(weight=weight, update=update)
    return train, keras.Model(train.input, train.get_layer("head").output), center


def _compile(train, center, **kwargs):
    train.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=center.loss(),
        metrics=[center.metric()],
        **kwargs,
    )


def _params(train):
    features, head = train.get_layer("features"), train.get_layer("head")
    return [
        to_numpy(v).astype("float64")
        for v in (
            features.kernel,
            features.bias,
            head.kernel,
            head.bias,
            train.get_layer("center").centers,
        )
    ]


def _assert_step(train, logs, reference):
    """One epoch's logs and the parameters after it equal `_reference_step`'s."""
    loss, term, accuracy, params = reference
    np.testing.assert_allclose(logs["loss"][0], loss, rtol=1e-5)
    np.testing.assert_allclose(logs["center"][0], term, rtol=1e-5)
    np.testing.assert_allclose(logs["accuracy"][0], accuracy, rtol=1e-6)
    for got, expected in zip(_params(train), params, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def _reference_step(params, x, y, update, weights=None):
    """One SGD step of mean_i w_i·(cross-entropy + λ·½‖f − c_y‖²), in float64
    numpy (Keras' `sum_over_batch_size`: the weighted sum over the batch size)."""
    w1, b1, w2, b2, centers = params
    x = x.astype("float64")
    batch = len(y)
    w = np.ones(batch) if weights is None else np.asarray(weights, "float64")
    onehot = np.eye(CLASSES)[y]
    f = x @ w1 + b1
    z = f @ w2 + b2
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    d = f - onehot @ centers
    term = WEIGHT * 0.5 * np.sum(d**2, -1)
    loss = np.mean(w * (-np.log(p[np.arange(batch), y]) + term))
    accuracy = np.mean(np.argmax(z, -1) == y)  # `metrics=` are not weighted
    dz = w[:, None] * (p - onehot) / batch
    df = dz @ w2.T + WEIGHT * w[:, None] * d / batch
    new = [
        w1 - LEARNING_RATE * x.T @ df,
        b1 - LEARNING_RATE * df.sum(0),
        w2 - LEARNING_RATE * f.T @ dz,
        b2 - LEARNING_RATE * dz.sum(0),
    ]
    if update == "gradient":
        grad = (-WEIGHT / batch) * onehot.T @ (w[:, None] * d)
        new.append(centers - LEARNING_RATE * grad)
    else:
        counts = (onehot * w[:, None]).sum(0)[:, None]
        delta = (counts * centers - onehot.T @ (w[:, None] * f)) / (1 + counts)
        new.append(centers - ALPHA * delta)
    return loss, np.mean(w * term), accuracy, new


@pytest.mark.parametrize("labels", ["sparse", "column", "onehot"])
@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_steps_match_numpy_reference(update, labels):
    train, _, center = _models(update)
    _compile(train, center)
    x, y = _data()
    y_fit = {"sparse": y, "column": y[:, None], "onehot": np.eye(CLASSES)[y]}[labels]
    params = _params(train)
    for _ in range(3):
        reference = _reference_step(params, x, y, update)
        params = reference[-1]
        logs = train.fit(
            x, y_fit, batch_size=len(y), epochs=1, shuffle=False, verbose=0
        ).history
        _assert_step(train, logs, reference)


@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_sample_weights_weigh_the_loss_the_term_and_the_paper_rule(update):
    train, _, center = _models(update)
    _compile(train, center)
    x, y = _data()
    weights = np.array([0.0, 2.0, 0.5, 1.0, 0.0, 3.0])  # class 0 has weight 0
    params = _params(train)
    before = to_numpy(center.centers)
    for _ in range(3):
        reference = _reference_step(params, x, y, update, weights)
        params = reference[-1]
        logs = train.fit(
            x, y, sample_weight=weights, batch_size=len(y), shuffle=False, verbose=0
        ).history
        _assert_step(train, logs, reference)
    if update == "paper":  # exactly: class 0 was never seen with a weight
        np.testing.assert_array_equal(to_numpy(center.centers)[0], before[0])


@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_centers_are_trainable_only_for_the_gradient_rule(update):
    train, _, center = _models(update)
    assert [v.name for v in center.trainable_weights] == (
        ["centers"] if update == "gradient" else []
    )
    assert len(center.weights) == 1


@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_evaluate_and_predict_leave_centers_alone(update):
    train, inference, center = _models(update)
    _compile(train, center)
    x, y = _data()
    before = to_numpy(center.centers)
    loss, _, _, _ = _reference_step(_params(train), x, y, update)

    results = train.evaluate(x, y, batch_size=len(y), verbose=0, return_dict=True)
    train.predict(x, verbose=0)
    inference.predict(x, verbose=0)

    np.testing.assert_allclose(results["loss"], loss, rtol=1e-5)
    np.testing.assert_array_equal(to_numpy(center.centers), before)


def test_paper_rule_is_independent_of_weight_and_optimizer():
    train, _, center = _models("paper", weight=0.0)
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss=center.loss())
    x, y = _data()
    centers = to_numpy(center.centers).astype("float64")
    f = x @ to_numpy(train.get_layer("features").kernel)
    f = f + to_numpy(train.get_layer("features").bias)

    train.fit(x, y, batch_size=len(y), epochs=1, shuffle=False, verbose=0)

    onehot = np.eye(CLASSES)[y]
    counts = onehot.sum(0)[:, None]
    expected = centers - ALPHA * (counts * centers - onehot.T @ f) / (1 + counts)
    np.testing.assert_allclose(to_numpy(center.centers), expected, rtol=1e-5)


def test_training_output_joins_head_and_features():
    train, inference, center = _models("gradient")
    x, _ = _data()
    features = keras.Model(train.input, train.get_layer("features").output)
    joined = to_numpy(train(x))
    np.testing.assert_allclose(joined[:, :CLASSES], to_numpy(inference(x)), rtol=1e-6)
    np.testing.assert_allclose(joined[:, CLASSES:], to_numpy(features(x)), rtol=1e-6)
    assert center.compute_output_shape([(None, CLASSES), (None, 2)]) == (None, 5)


@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_compiled_training_model_round_trips_and_keeps_training(update, tmp_path):
    train, inference, center = _models(update)
    _compile(train, center)
    x, y = _data()
    train.fit(x, y, batch_size=len(y), epochs=1, verbose=0)

    reloaded = save_and_load(train, tmp_path)
    loaded_center = reloaded.get_layer("center")
    np.testing.assert_array_equal(
        to_numpy(loaded_center.centers), to_numpy(center.centers)
    )
    np.testing.assert_allclose(to_numpy(reloaded(x)), to_numpy(train(x)), rtol=1e-6)
    assert reloaded.loss.layer is loaded_center
    assert loaded_center.get_config() == center.get_config()

    # The loaded loss updates the loaded layer, exactly as the original does.
    before = to_numpy(center.centers)
    logs = train.fit(x, y, batch_size=len(y), epochs=1, shuffle=False, verbose=0)
    logs_loaded = reloaded.fit(
        x, y, batch_size=len(y), epochs=1, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(
        logs_loaded.history["loss"], logs.history["loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(loaded_center.centers), to_numpy(center.centers), rtol=1e-5
    )
    assert not np.allclose(to_numpy(center.centers), before)

    inference_reloaded = save_and_load(inference, tmp_path, "inference.keras")
    np.testing.assert_allclose(
        to_numpy(inference_reloaded(x)), to_numpy(inference(x)), rtol=1e-6
    )


def test_metric_reads_the_classifier_part_only(tmp_path):
    train, inference, center = _models("gradient")
    x, y = _data()
    metric = center.metric()
    metric.update_state(y, train(x))
    expected = np.mean(np.argmax(to_numpy(inference(x)), -1) == y)
    np.testing.assert_allclose(to_numpy(metric.result()), expected)
    clone = type(metric).from_config(metric.get_config())
    assert (clone.name, clone.num_classes) == ("accuracy", CLASSES)


def test_custom_classification_loss_on_probabilities():
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2)(inputs)
    probs = keras.layers.Dense(CLASSES, activation="softmax")(features)
    center = CenterLoss(weight=0.0)
    train = keras.Model(inputs, center([probs, features]))
    x, y = _data()
    objective = center.loss("sparse_categorical_crossentropy")
    p = to_numpy(keras.Model(inputs, probs)(x))
    expected = np.mean(-np.log(p[np.arange(len(y)), y]))
    np.testing.assert_allclose(to_numpy(objective(y, train(x))), expected, rtol=1e-5)


def test_malformed_labels_are_refused():
    train, _, center = _models("gradient")
    x, _ = _data()
    with pytest.raises(ValueError, match="Received: labels of shape"):
        center.loss()(np.zeros((len(x), 5)), train(x))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"weight": -1}, ValueError, "Received: weight=-1"),
        ({"weight": float("nan")}, ValueError, "Received: weight=nan"),
        ({"weight": "big"}, TypeError, "Received: weight='big'"),
        ({"alpha": 0}, ValueError, r"\(0, 1\]. Received: alpha=0"),
        ({"alpha": 1.5}, ValueError, "Received: alpha=1.5"),
        ({"update": "sgd"}, ValueError, "Received: update='sgd'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        CenterLoss(**kwargs)


def test_bad_inputs_and_unbuilt_layer():
    layer = CenterLoss()
    with pytest.raises(ValueError, match="before asking for its loss"):
        layer.loss()
    with pytest.raises(ValueError, match=r"expects `\[head, features\]`"):
        layer(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="at least 2 classes"):
        CenterLoss()([np.zeros((2, 1), "float32"), np.zeros((2, 2), "float32")])


def test_loss_config_holds_the_layer_path_and_binds_on_the_first_run():
    train, _, center = _models("paper")
    _compile(train, center)
    x, y = _data()
    objective = train.loss
    assert objective.get_config()["layer"] == "center"  # before the model ran
    loaded = CenterLossObjective.from_config(objective.get_config())
    assert (loaded.layer, loaded.path) == (None, "center")
    with pytest.raises(ValueError, match="bound to the layer the first time"):
        loaded(y, train(x))
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss=loaded)
    train(x)
    assert loaded.layer is center
    with pytest.raises(TypeError, match="Received: layer=3"):
        CenterLossObjective(3)


def test_layer_config_round_trips():
    layer = CenterLoss(weight=0.25, update="paper", alpha=0.9, name="c")
    clone = CenterLoss.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def _frozen_center_term(weight):
    """Epoch-mean center term of a model that does not learn (learning rate 0)."""
    import coolkeras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2)(inputs)
    logits = keras.layers.Dense(3)(features)
    center = CenterLoss(
        weight=weight, update="gradient", centers_initializer="ones", name="center"
    )
    model = keras.Model(inputs, center([logits, features]))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=center.loss())
    coolkeras.attach(model)
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = np.arange(8) % 3
    history = model.fit(x, y, batch_size=1, epochs=1, verbose=0, shuffle=False)
    return history.history["center"][0], model


def test_scheduled_weight_is_used_at_every_step(tmp_path):
    schedule = keras.optimizers.schedules.PolynomialDecay(1.0, 8, 0.2)
    constant, _ = _frozen_center_term(1.0)
    scheduled, model = _frozen_center_term(schedule)
    # One sample per step, nothing learns: step t adds λ(t)·½‖f_t − c‖², c = 1.
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    features = model.predict(x, verbose=0)[:, 3:]
    per_step = 0.5 * np.sum((features - 1.0) ** 2, axis=1)
    lambdas = np.array([float(schedule(step)) for step in range(8)])
    np.testing.assert_allclose(scheduled, np.mean(lambdas * per_step), rtol=1e-5)
    np.testing.assert_allclose(constant, np.mean(per_step), rtol=1e-5)
    reloaded = save_and_load(model, tmp_path)
    assert reloaded.get_layer("center").weight.step == 8
