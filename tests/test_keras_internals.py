"""Each function of coolkeras._keras_internals against the Keras it wraps."""

import functools

import keras
import numpy as np
import pytest

from coolkeras import _keras_internals as internals
from tests.helpers import traced


def test_safe_mode_flag_follows_load_model(tmp_path):
    seen = []

    @keras.saving.register_keras_serializable(package="coolkeras_test")
    class Probe(keras.layers.Layer):
        def call(self, x):
            return x

        @classmethod
        def from_config(cls, config):
            seen.append(internals.in_safe_mode())
            return cls(**config)

    inputs = keras.Input((1,))
    path = str(tmp_path / "probe.keras")
    keras.Model(inputs, Probe()(inputs)).save(path)
    keras.models.load_model(path)
    keras.models.load_model(path, safe_mode=False)
    assert seen == [True, False]
    assert internals.in_safe_mode()  # outside a load: safe


def test_unmapped_variable_in_stateless_scope():
    mapped = keras.Variable(1.0)
    other = keras.Variable(2.0)
    assert not internals.is_unmapped_in_stateless_scope(other)
    with keras.StatelessScope(state_mapping=[(mapped, keras.ops.ones(()))]):
        assert internals.is_unmapped_in_stateless_scope(other)
        assert not internals.is_unmapped_in_stateless_scope(mapped)


def test_symbolic_build_is_seen_during_functional_construction():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x):
            seen.append(internals.in_symbolic_build())
            return x

    layer = Probe()
    layer(keras.Input((1,)))
    layer(np.ones((1, 1), "float32"))
    # Torch may also trace the eager call symbolically first; the real call is last.
    assert seen[0] is True and seen[-1] is False


def _compiled():
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_sync_makes_the_variables_current_during_fit():
    inputs = keras.Input((1,))
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    model = keras.Model(inputs, dense(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=lambda y, p: p)
    seen = []

    class Read(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            internals.sync_training_state(self.model)
            seen.append(internals.read_eagerly(dense.kernel).item())

    data = np.ones((3, 1), "float32")
    model.fit(data, data, batch_size=1, verbose=0, callbacks=[Read()])
    np.testing.assert_allclose(seen, [0.9, 0.8, 0.7], rtol=1e-6)
    internals.sync_training_state(None)  # no model: nothing to do


def test_learning_rate_object_and_batch_counter():
    model = _compiled()
    learning_rate = internals.optimizer_learning_rate_object(model.optimizer)
    assert isinstance(learning_rate, keras.Variable)
    data = np.ones((4, 1), "float32")
    model.fit(data, data, batch_size=1, verbose=0)
    counter = internals.optimizer_batch_counter(model.optimizer)
    assert int(keras.ops.convert_to_numpy(counter)) == 4


def test_forget_compiled_functions():
    model = _compiled()
    data = np.ones((4, 1), "float32")
    model.fit(data, data, verbose=0)
    assert model.train_function is not None
    internals.forget_compiled_functions(model)
    assert model.train_function is None
    model.fit(data, data, verbose=0)  # and fit makes it again


def test_forget_compiled_functions_traces_a_wrapped_step_again():
    # A wrapped step reads a Python flag at trace time: after forgetting, the
    # next fit must see the new flag (JAX keeps traces per function object).
    model = _compiled()
    flag = {"value": 1.0, "traced": []}

    def make(original):
        def step(*args):
            flag["traced"].append(flag["value"])
            return original(*args)

        return step

    internals.wrap_method(model, "train_step", make)
    data = np.ones((4, 1), "float32")
    model.fit(data, data, verbose=0)
    flag["value"] = 2.0
    internals.forget_compiled_functions(model)
    model.fit(data, data, verbose=0)
    assert flag["traced"][-1] == 2.0


class ListProbe(keras.callbacks.Callback):
    """Records the CallbackList found from its hooks."""

    def __init__(self):
        super().__init__()
        self.found = []

    def set_model(self, model):
        super().set_model(model)
        self.found.append(("set_model", internals.calling_callback_list(self)))

    def on_train_begin(self, logs=None):
        self.found.append(("on_train_begin", internals.calling_callback_list(self)))


def logged(method):
    """A decorator that adds a frame between the CallbackList and the hook."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self.calls = getattr(self, "calls", 0) + 1
        return method(self, *args, **kwargs)

    return wrapper


class DecoratedProbe(ListProbe):
    @logged
    @logged
    def set_model(self, model):
        super().set_model(model)

    @logged
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)


@pytest.mark.parametrize("probe_class", [ListProbe, DecoratedProbe])
def test_calling_callback_list_is_the_list_fit_calls(probe_class):
    model = _compiled()
    probe, other = probe_class(), keras.callbacks.History()
    data = np.ones((4, 1), "float32")
    model.fit(data, data, epochs=1, verbose=0, callbacks=[other, probe])
    assert [hook for hook, _ in probe.found] == ["set_model", "on_train_begin"]
    lists = [found for _, found in probe.found]
    assert isinstance(lists[0], keras.callbacks.CallbackList)
    assert lists[0] is lists[1]  # the same list at both hooks
    assert lists[0].callbacks[:2] == [other, probe]  # and fit's own list
    if probe_class is DecoratedProbe:
        assert probe.calls == 3  # the decorators did run between list and hook


def test_calling_callback_list_is_none_without_a_list_that_holds_it():
    model = _compiled()
    probe = ListProbe()
    probe.set_model(model)  # called by hand: no list
    assert probe.found == [("set_model", None)]
    seen = []

    class Asker(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(internals.calling_callback_list(probe))

    keras.callbacks.CallbackList([Asker()], model=model).on_train_begin()
    assert seen == [None]  # a list is calling, but it does not hold `probe`


def test_backup_resume_epoch_reads_the_checkpoint(tmp_path):
    model = _compiled()
    backup = keras.callbacks.BackupAndRestore(
        str(tmp_path / "backup"), delete_checkpoint=False
    )
    assert internals.backup_resume_epoch(backup) is None  # no checkpoint yet
    seen = []

    class AfterBackup(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(internals.backup_resume_epoch(backup))

    data = np.ones((4, 1), "float32")
    model.fit(data, data, epochs=3, verbose=0, callbacks=[backup, AfterBackup()])
    assert seen == [1, 2, 3]
    # A fresh model resumes at the epoch read: only epoch 4 of 4 runs.
    history = _compiled().fit(data, data, epochs=4, verbose=0, callbacks=[backup])
    assert len(history.history["loss"]) == 1
    assert internals.backup_resume_epoch(backup) == 4


def test_global_seed_generator_state_moves_only_with_unseeded_ops():
    keras.random.normal((2,))  # unseeded: creates and advances the global generator
    before = internals.global_seed_generator_state()
    assert before is not None and before.shape == (2,)
    keras.random.normal((2,), seed=keras.random.SeedGenerator(1))
    keras.random.normal((2,), seed=7)
    np.testing.assert_array_equal(internals.global_seed_generator_state(), before)
    keras.random.normal((2,))
    assert not np.array_equal(internals.global_seed_generator_state(), before)


def test_tracked_attribute_on_a_built_layer():
    layer = keras.layers.Dense(1)
    layer.build((None, 2))
    extra = keras.Variable(0.0, trainable=False)
    internals.set_tracked_attribute(layer, "extra", extra)
    assert any(v is extra for v in layer.non_trainable_variables)
    assert layer._tracker.locked  # locked again afterwards


def test_sum_over_replicas_is_identity_without_a_strategy():
    values = [keras.ops.ones((2,)), keras.ops.full((1, 2), 3.0)]
    summed = internals.sum_over_replicas(values)
    for before, after in zip(values, summed, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(after), keras.ops.convert_to_numpy(before)
        )


def test_sum_over_replicas_all_reduces_in_a_tf_replica_context():
    # Two replicas need devices configured before TensorFlow starts: the
    # distributed scenario (tests/distributed/test_tf_mirrored.py) runs that in
    # a subprocess. Here, one replica: the all-reduce path runs and keeps values.
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute replica contexts exist only on TensorFlow")
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])

    @tf.function
    def step():
        def replica_fn():
            context = tf.distribute.get_replica_context()
            (summed,) = internals.sum_over_replicas([tf.constant([1.0, 2.0])])
            return summed, context.num_replicas_in_sync

        return strategy.run(replica_fn)

    summed, replicas = step()
    assert int(replicas) == 1
    np.testing.assert_array_equal(summed.numpy(), [1.0, 2.0])
    with strategy.scope():  # cross-replica context: unchanged
        (value,) = internals.sum_over_replicas([tf.constant(4.0)])
    assert float(value) == 4.0


def test_host_value_is_known_for_numbers_and_eager_cpu_tensors():
    counter = keras.Variable(7, dtype="int32", trainable=False)
    for value in (7, 2.5, np.float32(2.5), keras.ops.convert_to_tensor([1.0, 2.0])):
        np.testing.assert_array_equal(
            internals.host_value(value), keras.ops.convert_to_numpy(value)
        )
    assert internals.host_value(counter).item() == 7
    assert internals.host_value(True) is None  # not a step
    assert internals.host_value(keras.KerasTensor((), "int32")) is None


def test_host_value_is_unknown_inside_a_trace():
    seen = []

    def probe(x):
        seen.append(internals.host_value(x))
        return x + 1

    traced(probe)(keras.ops.ones(()))
    assert seen == [None]


def test_inner_optimizer_and_counter_under_loss_scaling():
    inner = keras.optimizers.SGD(0.5)
    wrapped = keras.optimizers.LossScaleOptimizer(inner)
    assert internals.inner_optimizer(wrapped) is inner
    assert internals.inner_optimizer(inner) is inner
    assert internals.optimizer_batch_counter(wrapped) is inner._iterations
    assert isinstance(internals.optimizer_learning_rate_object(wrapped), keras.Variable)


def test_compile_arguments_are_the_live_objects():
    loss = keras.losses.MeanSquaredError()
    metric = keras.metrics.MeanAbsoluteError()
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", loss=loss, metrics=[metric], loss_weights=[0.5])
    arguments = internals.compile_arguments(model)
    assert arguments["loss"] is loss
    assert arguments["metrics"][0] is metric
    assert arguments["loss_weights"] == [0.5]


def test_all_layers_reaches_nested_models_and_sublayers():
    class Outer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = keras.layers.Dense(1)

        def call(self, x):
            return self.inner(x)

    inner_inputs = keras.Input((1,))
    outer = Outer()
    inner_model = keras.Model(inner_inputs, outer(inner_inputs))
    inputs = keras.Input((1,))
    model = keras.Model(inputs, inner_model(inputs))
    layers = internals.all_layers(model)
    assert inner_model in layers and outer in layers and outer.inner in layers
    assert model not in layers


def test_call_entry_is_the_outermost_layer_called():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x):
            seen.append(internals.call_entry())
            return x

    probe = Probe()
    inputs = keras.Input((1,))
    model = keras.Model(inputs, probe(inputs))
    model(np.ones((1, 1), "float32"))
    assert seen[0] is probe  # constructing the model: the layer itself
    assert seen[-1] is model
    assert internals.call_entry() is None


def test_in_compiled_trace_and_recording_gradients():
    seen = []

    def probe(x):
        seen.append(internals.in_compiled_trace())
        return x + 1

    assert not internals.in_compiled_trace()
    traced(probe)(keras.ops.ones(()))
    assert seen == [True]

    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    recorded = []

    def loss(y_true, y_pred):
        recorded.append(internals.recording_gradients(y_pred))
        return keras.ops.mean(y_pred)

    model.compile("sgd", loss=loss)
    data = np.ones((2, 1), "float32")
    model.fit(data, data, verbose=0)
    fitted = list(recorded)
    recorded.clear()
    model.evaluate(data, data, verbose=0)
    assert fitted and fitted[-1] is True
    assert recorded and not any(recorded)


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_track_layer_makes_the_model_own_the_variables(kind):
    if kind == "sequential":
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    else:
        inputs = keras.Input((1,))
        model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    holder = keras.layers.Layer(name="holder")
    holder.state = holder.add_weight(shape=(), initializer="ones", trainable=False)
    internals.track_layer(model, "_holder", holder)
    assert any(v is holder.state for v in model.non_trainable_variables)
    # A Sequential model's stack is unchanged: it still computes the same.
    assert model.predict(np.ones((1, 1)), verbose=0).shape == (1, 1)


def test_wrap_method_replaces_it_on_one_instance():
    first = keras.layers.Dense(1)
    second = keras.layers.Dense(1)

    def make(original):
        return lambda *args, **kwargs: ("wrapped", original(*args, **kwargs))

    internals.wrap_method(first, "compute_output_shape", make)
    assert first.compute_output_shape((None, 3)) == ("wrapped", (None, 1))
    assert second.compute_output_shape((None, 3)) == (None, 1)


def test_unlocked_lets_a_built_layer_take_a_weight():
    layer = keras.layers.Dense(1)
    layer.build((None, 2))
    with internals.unlocked(layer):
        extra = layer.add_weight(shape=(), initializer="zeros", name="extra")
    assert any(v is extra for v in layer.weights)
    assert layer._tracker.locked


def test_read_eagerly_also_inside_a_tf_function():
    variable = keras.Variable(3, dtype="int32", trainable=False)
    assert internals.read_eagerly(variable).item() == 3
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        seen = []
        tf.function(lambda: seen.append(internals.read_eagerly(variable).item()))()
        assert seen == [3]


def test_set_learning_rate_object_evaluates_nothing():
    class Refuses(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            raise AssertionError("evaluated")

    optimizer = keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(1.0, 9))
    schedule = Refuses()
    internals.set_learning_rate_object(optimizer, schedule)
    assert internals.optimizer_learning_rate_object(optimizer) is schedule


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_reduce_loss_weighs_and_reduces_like_a_keras_loss(reduction):
    values = np.array([1.0, 2.0, 4.0], "float32")
    weights = np.array([0.5, 0.0, 2.0], "float32")
    got = internals.reduce_loss(values, weights, reduction, "float32")
    expected = {"sum_over_batch_size": 8.5 / 3, "sum": 8.5, "none": values * weights}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected[reduction])
    mse = keras.losses.MeanSquaredError(reduction=reduction)
    y_true, y_pred = np.zeros((3, 1), "float32"), np.sqrt(values)[:, None]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(got),
        keras.ops.convert_to_numpy(mse(y_true, y_pred, sample_weight=weights)),
        rtol=1e-6,
    )


def test_keras_history_and_depends_on_follow_the_functional_graph():
    inputs = keras.Input((4,))
    dense = keras.layers.Dense(2)
    features = dense(inputs)
    logits = keras.layers.Dense(3)(features)
    other = keras.layers.Dense(3)(inputs)
    assert internals.keras_history(features) == (dense, 0, 0)
    assert isinstance(internals.keras_history(inputs)[0], keras.layers.InputLayer)
    assert internals.keras_history(np.zeros(2)) is None
    assert internals.depends_on(logits, features)
    assert internals.depends_on(logits, inputs)
    assert not internals.depends_on(features, logits)
    assert not internals.depends_on(other, features)


def test_child_layers_are_the_direct_ones():
    inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")])
    inputs = keras.Input((2,))
    outer = keras.Model(inputs, inner(inputs))
    names = [layer.name for layer in internals.child_layers(outer)]
    assert inner.name in names and "d" not in names
    assert "d" in [layer.name for layer in internals.child_layers(inner)]


def test_scalar_tensor_and_host_int():
    tensor = internals.scalar_tensor(np.float32(0.25))
    assert keras.backend.standardize_dtype(tensor.dtype) == "float32"
    assert float(keras.ops.convert_to_numpy(tensor)) == 0.25
    counter = keras.Variable(41, dtype="int32", trainable=False)
    counter.assign(42)
    assert internals.host_int(counter) == 42


def test_assign_add_in_place_only_where_keras_assign_add_does_the_same():
    total = keras.Variable(1.0, dtype="float32", trainable=False, autocast=False)
    storage = total.value
    internals.assign_add(total, 2.0)
    internals.assign_add(total, keras.ops.ones(()))
    assert float(total.numpy()) == 4.0
    if keras.backend.backend() == "torch":
        assert total.value is storage  # updated in place
    # A stateless scope records the update and leaves the variable alone.
    with keras.StatelessScope(state_mapping=[(total, keras.ops.zeros(()))]) as scope:
        internals.assign_add(total, 5.0)
    assert float(keras.ops.convert_to_numpy(scope.get_current_value(total))) == 5.0
    assert float(total.numpy()) == 4.0
    counter = keras.Variable(1, dtype="int32", trainable=False)
    internals.assign_add(counter, 2.0)  # Keras converts it to the dtype
    assert int(counter.numpy()) == 3
    # Under mixed precision an autocast variable reads as a float16 copy;
    # Keras' own `assign_add` on PyTorch adds into that copy and loses it.
    autocast = keras.Variable(1.0, dtype="float32", trainable=False)
    with keras.src.backend.AutocastScope("float16"):
        internals.assign_add(autocast, 1.0)
    assert float(autocast.numpy()) == 2.0
