"""A CenterLoss loss finds its own layer: same names, save/load, clones, threads;
and miswiring is refused before anything trains."""

import threading

import keras
import numpy as np
import pytest
from keras import ops

from coolkeras.layers import CenterLoss
from tests.helpers import save_and_load, to_numpy
from tests.layers.center_loss_reference import (
    CentersAfterEachBatch,
    data,
    features_of,
    paper_centers,
    paper_model,
)


def _two_sub_models():
    a, center_a = paper_model(name="a", seed=3)
    b, center_b = paper_model(name="b", seed=4)
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, [a(inputs), b(inputs)])
    outer.compile(
        optimizer=keras.optimizers.SGD(0.0), loss=[center_a.loss(), center_b.loss()]
    )
    return outer, a, b


def _fit_and_check(outer, x, y, steps=2):
    """Fits `steps` batches of 3; checks each layer's centers after each one."""
    a, b = outer.get_layer("a"), outer.get_layer("b")
    expected = {
        path: paper_centers(
            to_numpy(model.get_layer("center").centers), features_of(model, x), y, 3
        )
        for path, model in (("a/center", a), ("b/center", b))
    }
    recorder = CentersAfterEachBatch("a/center", "b/center")
    outer.fit(x, [y, y], batch_size=3, shuffle=False, verbose=0, callbacks=[recorder])
    for path in ("a/center", "b/center"):
        assert len(recorder.seen[path]) == steps
        for got, want in zip(recorder.seen[path], expected[path], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("run_before_saving", [True, False])
def test_two_same_named_layers_each_train_their_own_centers(
    run_before_saving, tmp_path
):
    outer, a, b = _two_sub_models()
    x, y = data()
    if run_before_saving:
        _fit_and_check(outer, x, y)
    loaded = save_and_load(outer, tmp_path)
    # Saved before any run, the losses know only the name "center": each
    # binds to the layer whose output it is compiled on.
    _fit_and_check(loaded, x, y)
    centers = [loaded.get_layer(n).get_layer("center") for n in ("a", "b")]
    assert [loss.layer for loss in loaded.loss] == centers
    if run_before_saving:
        assert [loss.get_config()["layer"] for loss in outer.loss] == [
            "a/center",
            "b/center",
        ]


def test_a_clone_does_not_take_the_binding():
    train, center = paper_model()
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss=center.loss())
    clone = keras.models.clone_model(train)
    clone_center = clone.get_layer("center")
    clone_center.centers.assign(to_numpy(center.centers) + 1.0)
    x, y = data()

    train.compile_from_config(train.get_compile_config())  # a loss read from config
    before = to_numpy(clone_center.centers)
    expected = paper_centers(to_numpy(center.centers), features_of(train, x), y, 6)
    train.fit(x, y, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(to_numpy(center.centers), expected[-1], rtol=1e-5)
    np.testing.assert_array_equal(to_numpy(clone_center.centers), before)

    clone.compile_from_config(train.get_compile_config())
    before = to_numpy(center.centers)
    expected = paper_centers(
        to_numpy(clone_center.centers), features_of(clone, x), y, 6
    )
    clone.fit(x, y, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(to_numpy(clone_center.centers), expected[-1], rtol=1e-5)
    np.testing.assert_array_equal(to_numpy(center.centers), before)
    assert clone.loss.layer is clone_center and train.loss.layer is center


@keras.saving.register_keras_serializable(package="coolkeras_tests")
class MeetingInitializer(keras.initializers.Initializer):
    """Constant centers; while `barrier` is set, each build waits for the other
    loading thread, so both models' layers exist before either loss is read."""

    barrier = None

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        if MeetingInitializer.barrier is not None:
            MeetingInitializer.barrier.wait(timeout=120)
        return ops.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


def test_models_loaded_in_threads_bind_to_their_own_layers(tmp_path):
    x, y = data()
    paths, expected = [], []
    for value in (1.0, -1.0):
        train, center = paper_model(centers_initializer=MeetingInitializer(value))
        train.compile(optimizer=keras.optimizers.SGD(0.0), loss=center.loss())
        expected.append(
            paper_centers(to_numpy(center.centers), features_of(train, x), y, 3)
        )
        paths.append(str(tmp_path / f"model_{value}.keras"))
        train.save(paths[-1])

    results, errors = {}, []

    def load_and_fit(path):
        try:
            model = keras.models.load_model(path)
            recorder = CentersAfterEachBatch()
            model.fit(
                x, y, batch_size=3, shuffle=False, verbose=0, callbacks=[recorder]
            )
            results[path] = recorder.seen["center"]
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    MeetingInitializer.barrier = threading.Barrier(2)
    try:
        threads = [threading.Thread(target=load_and_fit, args=(p,)) for p in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        MeetingInitializer.barrier = None
    assert not errors, errors
    for path, want in zip(paths, expected, strict=True):
        for got, centers in zip(results[path], want, strict=True):
            np.testing.assert_allclose(got, centers, rtol=1e-5, atol=1e-6)


def test_reversed_inputs_are_refused_when_the_layer_is_called():
    inputs = keras.Input((4,))
    features = keras.layers.Dense(2)(inputs)
    logits = keras.layers.Dense(3)(features)
    with pytest.raises(ValueError, match="inputs look reversed"):
        CenterLoss(name="center")([features, logits])


@pytest.mark.parametrize(
    "loss", ["sparse_categorical_crossentropy", keras.losses.MeanSquaredError()]
)
def test_a_plain_loss_on_the_joined_output_is_refused_before_training(loss):
    train, center = paper_model()
    x, y = data()
    train.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    before = [to_numpy(w) for w in train.weights]
    with pytest.raises(ValueError, match=r"its loss must be `layer.loss\(\)`"):
        train.fit(x, y, batch_size=6, verbose=0)
    for got, want in zip(train.weights, before, strict=True):
        np.testing.assert_array_equal(to_numpy(got), want)
    # Nothing was lost: compiled correctly, the same model trains.
    train.compile(optimizer=keras.optimizers.SGD(0.0), loss=center.loss())
    expected = paper_centers(to_numpy(center.centers), features_of(train, x), y, 6)
    train.fit(x, y, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(to_numpy(center.centers), expected[-1], rtol=1e-5)


def test_another_layers_loss_and_the_inference_model_are_refused():
    train, center = paper_model()
    clone = keras.models.clone_model(train)
    x, y = data()
    clone.compile(optimizer="sgd", loss=center.loss())  # the original's loss
    with pytest.raises(ValueError, match="made by another `CenterLoss` layer"):
        clone.fit(x, y, verbose=0)
    inference = keras.Model(train.input, train.get_layer("head").output)
    inference.compile(optimizer="sgd", loss=center.loss())
    with pytest.raises(ValueError, match=r"joined output, of width 5 \(3 classes"):
        inference.fit(x, y, verbose=0)
