"""Cost of coolkeras schedules and hyperparameters, as ratios to a constant rate.

Variants of the same small MLP, same data, same process:
  (a) constant learning rate (the baseline),
  (b) Warmup + PiecewiseLinear learning rate,
  (c) a Hyperparameter epsilon in the loss (the baseline's loss has it as a float),
  (d) the article's per-batch Python callback setting the learning rate.
  (e) a periodic learning rate, Restarts(Cosine) (SGDR).
The A/A control pairs the baseline with a second copy of it, built the same way.
Each setting also times alone the work (b), (c) and (e) add per step, compiled as
the train step is, and prints the ratio that cost implies: far more precise than
the end-to-end ratios, whose single runs vary by +-20% on a shared 2-core machine.

Then the cost of a schedule's size: PiecewiseLinear with 10, 1,000 and 10,000
points and a Join of 10, 1,000 and 5,000 alternating Linear and Cosine pieces, as
ratios to the 10-point (10-piece) one: the first training step (trace, compile
and one step of a new model) and the optimizer update alone, each with its A/A
control (a second 10-point schedule).
Run: KERAS_BACKEND=jax python bench/schedules.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import keras
import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(__file__))
import _timing  # noqa: E402

import coolkeras  # noqa: E402
from coolkeras import _training_state as training_state  # noqa: E402
from coolkeras import schedules  # noqa: E402
from coolkeras.losses import SmoothedCrossEntropy  # noqa: E402

BATCH, STEPS, EPOCHS, WIDTH = 128, 320, 2, 256
RNG = np.random.default_rng(0)
X = RNG.normal(size=(BATCH * STEPS, 64)).astype("float32")
Y = RNG.integers(0, 10, size=(BATCH * STEPS,))


class PerBatchLearningRate(keras.callbacks.Callback):
    """The article's warmup: set the learning rate from Python before every batch."""

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = 1e-3 * min(1.0, (batch + 1) / 100)


def _variant(learning_rate, epsilon=0.1, callbacks=(), steps_per_execution=1):
    model = _timing.mlp(WIDTH)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=SmoothedCrossEntropy(epsilon, from_logits=True),
        steps_per_execution=steps_per_execution,
    )
    coolkeras.attach(model)

    def run():
        model.fit(
            X,
            Y,
            batch_size=BATCH,
            epochs=EPOCHS,
            verbose=0,
            shuffle=False,
            callbacks=list(callbacks),
        )
        return STEPS * EPOCHS

    run.model = model
    return run


def _optimizer_update(learning_rate, model: keras.Model):
    """One SGD update of `model`'s weights, run as `fit` runs it; a 0-arg callable."""
    backend = keras.backend.backend()
    weights = [keras.Variable(w) for w in model.get_weights()]
    grads = [ops.ones(w.shape) for w in weights]
    optimizer = keras.optimizers.SGD(learning_rate)
    optimizer.build(weights)
    if backend == "jax":
        update = _timing.compiled(optimizer.stateless_apply)
        state = [v.value for v in optimizer.variables]
        values = [w.value for w in weights]
        return lambda: update(state, grads, values)[0][0]
    if backend == "tensorflow":
        return _timing.compiled(lambda: optimizer.apply(grads, weights))
    return lambda: optimizer.apply(grads, weights)


def _threaded_arrays(model: keras.Model) -> tuple:
    return tuple(
        [v.value for v in variables]
        for variables in (
            model.trainable_variables,
            model.non_trainable_variables,
            model.optimizer.variables,
        )
    )


def _no_hyperparameter(model: keras.Model):
    """The baseline of (c): the same compiled call, without the hyperparameter.

    On JAX the function takes and returns the arrays a train step threads, as
    the hyperparameter read does: dispatching a `jit` call with the whole state
    costs tens of µs, which a train step pays anyway.
    """
    backend = keras.backend.backend()
    if backend == "torch":  # eager: a float epsilon costs nothing per step
        return lambda: 0.1
    if backend == "jax":
        arrays = _threaded_arrays(model)

        def pass_through(trainable, non_trainable, optimizer_variables):
            return ops.cast(optimizer_variables[0], "float32"), non_trainable

        compiled = _timing.compiled(pass_through)
        return lambda: compiled(*arrays)[0]
    step = ops.convert_to_tensor(7, "int32")
    compiled = _timing.compiled(lambda step: ops.cast(step, "float32"))
    return lambda: compiled(step)


def _hyperparameter_read(epsilon, model: keras.Model):
    """What an attached model's train step adds for a hyperparameter.

    The step's values are opened from its state (the clock from the optimizer's
    counter and the model's offset, the settings), `epsilon` is read, and the
    clock is recorded at the end of the step, as the wrapped `train_step` does;
    on JAX from the state arrays `fit` threads through the step.
    """
    backend = keras.backend.backend()
    state = training_state.own_state(model)
    if backend == "torch":  # eager

        def read():
            value = state.step_values("train", (None,), model).value(epsilon)
            state.after_train_step(None)
            return value

        return read
    if backend == "jax":
        arrays = _threaded_arrays(model)

        def read_threaded(trainable, non_trainable, optimizer_variables):
            threaded = (trainable, non_trainable, optimizer_variables, [])
            value = state.step_values("train", (threaded, None), model).value(epsilon)
            _, threaded = state.after_train_step((None, threaded))
            return value, threaded[1]

        compiled = _timing.compiled(read_threaded)
        return lambda: compiled(*arrays)[0]

    def read_live():
        value = state.step_values("train", (None,), model).value(epsilon)
        state.after_train_step(None)
        return value

    return _timing.compiled(read_live)


def _restarts():
    return schedules.Restarts(schedules.Cosine(1e-3, 1e-5, steps=100), 100, 2)


def _piecewise(points: int):
    steps = np.arange(points) * 7
    values = 1e-3 * (1.0 + np.cos(np.arange(points)))
    return schedules.PiecewiseLinear(
        dict(zip(steps.tolist(), values.tolist(), strict=True))
    )


def _join(pieces: int):
    parts = [
        schedules.Linear(1e-3, 5e-4, 5) if k % 2 else schedules.Cosine(5e-4, steps=5)
        for k in range(pieces)
    ]
    return schedules.Join(parts, [5 * k for k in range(1, pieces)])


def _first_step_seconds(learning_rate) -> float:
    """A new model's first `fit` step: building, tracing and compiling included."""
    start = time.perf_counter()
    run = _variant(learning_rate)
    run.model.fit(X[:BATCH], Y[:BATCH], batch_size=BATCH, epochs=1, verbose=0)
    return time.perf_counter() - start


def _per_call_ratio(baseline, variant, calls: int = 300, rounds: int = 7) -> float:
    """Median over adjacent rounds of (µs per `variant()`) / (µs per `baseline()`)."""
    for function in (baseline, variant):
        keras.ops.convert_to_numpy(function())
    ratios = []
    for round_ in range(rounds):
        pair = [baseline, variant] if round_ % 2 else [variant, baseline]
        times = {id(f): _timing._microseconds_per_call(f, calls) for f in pair}
        ratios.append(times[id(variant)] / times[id(baseline)])
    return statistics.median(ratios)


def _size_costs(model) -> None:
    """First step and per-update cost of large schedules, as ratios to small ones."""
    backend = keras.backend.backend()
    families = {
        "PiecewiseLinear": (_piecewise, [10, 1000, 10_000]),
        "Join of Linear and Cosine pieces": (_join, [10, 1000, 5000]),
    }
    for family, (make, sizes) in families.items():
        small = make(sizes[0])
        variants = {"A/A control": make(sizes[0])}
        variants |= {f"{n}": make(n) for n in sizes[1:]}
        runs = {"base": small, **variants}
        first = {name: [] for name in runs}
        _first_step_seconds(small)  # warm-up: one-time costs of the process
        for repeat in range(5):  # interleaved, each starting in turn
            names = list(runs)
            shift = repeat % len(names)
            for name in names[shift:] + names[:shift]:
                first[name].append(_first_step_seconds(runs[name]))
        base_first = statistics.median(first["base"])
        update = _optimizer_update(small, model)
        for name, schedule in variants.items():
            ratio = statistics.median(first[name]) / base_first
            per_step = _per_call_ratio(update, _optimizer_update(schedule, model))
            label = name if name.startswith("A/A") else f"{name} vs {sizes[0]}"
            print(
                f"{backend} {family} {label}: first step {ratio:.3f} "
                f"({statistics.median(first[name]):.2f} s vs {base_first:.2f} s), "
                f"optimizer update {per_step:.3f}"
            )


def _isolated_costs(
    schedule, epsilon, model, attached, steps_per_second: float
) -> None:
    """Times alone what (b) and (c) add to a train step, compiled as `fit` does.

    (b): an optimizer update of the MLP with the schedule against the same
    update with a constant learning rate (and, for reference, the same for
    Keras' own `CosineDecay`). (c): what an attached train step adds for a
    hyperparameter (open the step's values, read it, record the clock), against
    the same compiled call without it (on PyTorch, against nothing). Each pair
    is timed in adjacent rounds (`_timing.added_microseconds`).
    """
    backend = keras.backend.backend()
    pairs = {
        "(b) schedule alone": (
            _optimizer_update(1e-3, model),
            _optimizer_update(schedule, model),
        ),
        "(e) restarts alone": (
            _optimizer_update(1e-3, model),
            _optimizer_update(_restarts(), model),
        ),
        "(b, for reference) Keras' CosineDecay alone": (
            _optimizer_update(1e-3, model),
            _optimizer_update(
                keras.optimizers.schedules.CosineDecay(1e-3, 1000), model
            ),
        ),
        "(c) hyperparameter alone": (
            _no_hyperparameter(attached),
            _hyperparameter_read(epsilon, attached),
        ),
    }
    for title, (baseline, variant) in pairs.items():
        cost = _timing.added_microseconds(baseline, variant)
        _timing.added_cost(f"{backend} {title}", cost, steps_per_second)


def main() -> None:
    backend = keras.backend.backend()
    settings = [1] if backend == "torch" else [1, 16]
    for steps_per_execution in settings:
        schedule = schedules.Warmup(
            schedules.PiecewiseLinear({0: 1e-3, 100: 1e-4}), steps=50
        )
        epsilon = coolkeras.Hyperparameter(
            schedules.PiecewiseLinear({0: 0.1, 100: 0.01}), name="eps"
        )
        variants = {
            "(a) constant": _variant(1e-3, steps_per_execution=steps_per_execution),
            "(b) warmup+piecewise": _variant(
                schedule, steps_per_execution=steps_per_execution
            ),
            "(c) hyperparameter eps": _variant(
                1e-3, epsilon=epsilon, steps_per_execution=steps_per_execution
            ),
            "(d) per-batch callback": _variant(
                1e-3,
                callbacks=[PerBatchLearningRate()],
                steps_per_execution=steps_per_execution,
            ),
            "(e) restarts": _variant(
                _restarts(), steps_per_execution=steps_per_execution
            ),
        }
        results = _timing.compare(
            variants,
            baseline="(a) constant",
            repeats=5,
            control=_variant(1e-3, steps_per_execution=steps_per_execution),
        )
        _timing.report(f"{backend} spe={steps_per_execution}", results)
        if steps_per_execution == 1:
            model = variants["(a) constant"].model
            attached = variants["(c) hyperparameter eps"].model
            _isolated_costs(
                schedule, epsilon, model, attached, results["baseline steps/s"]
            )
            _size_costs(model)


if __name__ == "__main__":
    main()
