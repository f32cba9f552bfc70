"""Train steps Keras users write themselves, and loops of their own (issue 10).

The Keras guides' custom `train_step`/`test_step` for each backend, a
`compute_loss` override with or without `training`, a `train_step` that
never calls `compute_loss`, and a custom training loop: each records the
values used at every step, compared with a numpy reference.
"""

import keras
import numpy as np
import pytest
from keras import ops

import coolkeras
from coolkeras import Hyperparameter
from tests.recording import Recorder
from tests.state_probe import EPS, LR, STEPS, ValueProbe, reference


def _functional(model_class, eps):
    inputs = keras.Input((1,))
    weight = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs)
    return model_class(inputs, ValueProbe(eps, name="probe")(weight))


class _EagerGuide(keras.Model):
    """The guides' `test_step` and metric updates, shared by TensorFlow and PyTorch."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        return self._update(loss, y, y_pred)

    def loss_of(self, y, y_pred):
        return self.compute_loss(y=y, y_pred=y_pred)

    def _update(self, loss, y, y_pred):
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _guide_model_class():
    """The custom `train_step`/`test_step` of the Keras guide of this backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        class Guide(_EagerGuide):
            def train_step(self, data):
                x, y = data
                with tf.GradientTape() as tape:
                    y_pred = self(x, training=True)
                    loss = self.loss_of(y, y_pred)
                gradients = tape.gradient(loss, self.trainable_variables)
                self.optimizer.apply(gradients, self.trainable_variables)
                return self._update(loss, y, y_pred)

        return Guide
    if backend == "torch":
        import torch

        class Guide(_EagerGuide):
            def train_step(self, data):
                x, y = data
                self.zero_grad()
                y_pred = self(x, training=True)
                loss = self.loss_of(y, y_pred)
                loss.backward()
                weights = list(self.trainable_weights)
                gradients = [v.value.grad for v in weights]
                with torch.no_grad():
                    self.optimizer.apply(gradients, weights)
                return self._update(loss, y, y_pred)

        return Guide

    import jax

    class Guide(keras.Model):
        def compute_loss_and_updates(
            self, trainable_variables, non_trainable_variables, x, y, training=False
        ):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training
            )
            loss = self.compute_loss(x, y, y_pred)
            return loss, (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable)), grads = grad_fn(
                trainable, non_trainable, x, y, training=True
            )
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable
            )
            logs, metrics_variables = self._update(metrics_variables, loss, y, y_pred)
            return logs, (
                trainable,
                non_trainable,
                optimizer_variables,
                metrics_variables,
            )

        def test_step(self, state, data):
            x, y = data
            trainable, non_trainable, metrics_variables = state
            y_pred, non_trainable = self.stateless_call(
                trainable, non_trainable, x, training=False
            )
            loss = self.compute_loss(x, y, y_pred)
            logs, metrics_variables = self._update(metrics_variables, loss, y, y_pred)
            return logs, (trainable, non_trainable, metrics_variables)

        def _update(self, metrics_variables, loss, y, y_pred):
            new_variables, logs = [], {}
            for metric in self.metrics:
                count = len(metric.variables)
                these = metrics_variables[
                    len(new_variables) : len(new_variables) + count
                ]
                if metric.name == "loss":
                    these = metric.stateless_update_state(these, loss)
                else:
                    these = metric.stateless_update_state(these, y, y_pred)
                logs[metric.name] = metric.stateless_result(these)
                new_variables += these
            return logs, new_variables

    return Guide


def _per_batch_losses():
    losses = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(float(logs["loss"]))
    )
    return losses, callback


def _data(steps=STEPS):
    data = np.ones((steps, 1), "float32")
    return data, data


def test_the_keras_guide_train_and_test_steps():
    eps = Hyperparameter(EPS, name="eps")
    lr = Hyperparameter(LR, name="lr")
    model = _functional(_guide_model_class(), eps)
    model.compile(keras.optimizers.SGD(lr), loss=lambda y, p: eps.value + ops.mean(p))
    coolkeras.attach(model)
    x, y = _data()
    model.fit(x, y, batch_size=1, verbose=0, shuffle=False)

    np.testing.assert_allclose(
        model.get_layer("probe").values(), reference(EPS, range(STEPS)), rtol=1e-6
    )
    # w_12 = 1 - sum of the learning rates used.
    kernel = keras.ops.convert_to_numpy(model.layers[1].kernel.value)
    np.testing.assert_allclose(
        1.0 - kernel.item(), reference(LR, range(STEPS)).sum(), rtol=1e-4
    )
    # The guide's test_step calls compute_loss (training=True by default): it
    # uses the current value and advances nothing.
    for _ in range(2):
        np.testing.assert_allclose(
            model.evaluate(x, y, verbose=0),
            kernel.item() + float(EPS(STEPS)),
            rtol=1e-6,
        )
    assert eps.step == STEPS


@pytest.mark.parametrize("with_training", [True, False])
def test_a_compute_loss_override_with_or_without_training(with_training):
    eps = Hyperparameter(EPS, name="eps")

    class WithTraining(keras.Model):
        def compute_loss(self, x, y, y_pred, sample_weight=None, training=True):
            return eps.value + 0.0 * ops.mean(y_pred)

    class WithoutTraining(keras.Model):
        def compute_loss(self, x, y, y_pred, sample_weight=None):
            return eps.value + 0.0 * ops.mean(y_pred)

    model = _functional(WithTraining if with_training else WithoutTraining, eps)
    model.compile(keras.optimizers.SGD(0.0))
    coolkeras.attach(model)
    losses, callback = _per_batch_losses()
    x, y = _data()
    model.fit(x, y, batch_size=1, verbose=0, shuffle=False, callbacks=[callback])

    values = reference(EPS, range(STEPS))
    np.testing.assert_allclose(model.get_layer("probe").values(), values, rtol=1e-6)
    np.testing.assert_allclose(
        losses, np.cumsum(values) / np.arange(1, STEPS + 1), rtol=1e-5
    )


def test_a_train_step_that_never_calls_compute_loss():
    if keras.backend.backend() == "jax":
        pytest.skip("the JAX guide's train step above already bypasses it")
    eps = Hyperparameter(EPS, name="eps")

    class Bypass(_guide_model_class()):
        def loss_of(self, y, y_pred):  # the guide's step, its loss written inline
            return eps.value + 0.0 * ops.mean(y_pred)

    model = _functional(Bypass, eps)
    model.compile(keras.optimizers.SGD(0.0), loss="mse")
    coolkeras.attach(model)  # found in the probe layer
    x, y = _data()
    model.fit(x, y, batch_size=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(
        model.get_layer("probe").values(), reference(EPS, range(STEPS)), rtol=1e-6
    )
    assert eps.step == STEPS


def test_a_custom_training_loop_follows_the_optimizer():
    backend = keras.backend.backend()
    eps = Hyperparameter(EPS, name="eps")
    inputs = keras.Input((1,))
    model = keras.Model(
        inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs)
    )
    optimizer = keras.optimizers.SGD(0.1)
    model.compile(optimizer)
    coolkeras.attach(model, eps)
    seen = Recorder(64, name="seen")
    x = np.ones((1, 1), "float32")

    if backend == "jax":
        # A stateless loop of one's own: the documented way is to pass the step.
        values = [float(eps(step)) for step in range(STEPS)]
        np.testing.assert_allclose(values, reference(EPS, range(STEPS)), rtol=1e-6)
        return
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                value = eps.value
                seen.record(value)
                loss = ops.mean(model(x, training=True)) * value
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)

        for _ in range(STEPS):
            step()
    else:
        for _ in range(STEPS):
            model.zero_grad()
            value = eps.value
            seen.record(value)
            loss = ops.mean(model(x, training=True)) * value
            loss.backward()
            weights = list(model.trainable_weights)
            import torch

            with torch.no_grad():
                optimizer.apply([v.value.grad for v in weights], weights)
    np.testing.assert_allclose(seen.values(), reference(EPS, range(STEPS)), rtol=1e-6)
    assert eps.step == STEPS


def test_a_jax_function_of_ones_own_is_told_the_value_is_fixed():
    if keras.backend.backend() != "jax":
        pytest.skip("only JAX bakes variables into a compiled function")
    import jax

    eps = Hyperparameter(EPS, name="eps")
    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd")
    coolkeras.attach(model, eps)
    with pytest.warns(coolkeras.CoolkerasWarning, match=r"eps\(step\)"):
        jax.jit(lambda: eps.value)()
