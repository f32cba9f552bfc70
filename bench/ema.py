"""Cost of `coolkeras.callbacks.EMA`, as ratios to the same model without an EMA.

Variants of the same MLP, same data, same process:
  (a) no EMA (the baseline),
  (b) Keras' built-in `use_ema=True` (momentum 0.99, per train step),
  (c) `coolkeras.callbacks.EMA(0.99)` (bias-corrected, per optimizer update,
      swapped in and out at each epoch end).
The A/A control pairs the baseline with a second, separately built baseline.

Each timing builds a fresh model (Keras' `use_ema` cannot `fit` a model twice on
JAX: its average and the weights then share one buffer) and trains it for
`1 + EPOCHS` epochs; the first epoch (tracing, compilation) is not timed, and a
run's speed is that of its fastest epoch (the least disturbed by other processes
on a shared machine; the epoch includes the `EMA`'s swaps at its ends). Each
repeat runs every variant once, in an order that alternates (forwards, then
backwards); the headline is the median over repeats of variant ÷ baseline
steps/s, and the control's interquartile range is the precision of a ratio on
this machine. The best-of ratios compare the fastest run of each variant, the
one least disturbed by other processes on a shared machine.

Run: KERAS_BACKEND=jax python bench/ema.py
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time

import keras
import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(__file__))
import _timing  # noqa: E402

from coolkeras.callbacks import EMA, _ema_update  # noqa: E402

BATCH, STEPS, EPOCHS, WIDTH, REPEATS = 128, 50, 6, 256, 9
RNG = np.random.default_rng(0)
X = RNG.normal(size=(BATCH * STEPS, 64)).astype("float32")
Y = RNG.integers(0, 10, size=(BATCH * STEPS,))


class _Clock(keras.callbacks.Callback):
    """Wall time of each epoch after the first (it traces and compiles).

    It stands first in the list, so the time includes what the `EMA` does at
    the epoch's start and end (swapping the raw weights back in and out).
    """

    def __init__(self):
        super().__init__()
        self.start, self.seconds = None, []

    def _sync(self):
        keras.ops.convert_to_numpy(self.model.trainable_variables[0].value)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= 1:
            self._sync()
            self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if epoch >= 1:
            self._sync()
            self.seconds.append(time.perf_counter() - self.start)


def _model(keras_ema: bool) -> keras.Model:
    model = _timing.mlp(WIDTH)
    optimizer = keras.optimizers.Adam(1e-3, use_ema=keras_ema, ema_momentum=0.99)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _variant(name: str):
    def run() -> float:
        """Steps/s of a fresh model: its fastest timed epoch (the one least
        disturbed by other processes)."""
        model = _model(keras_ema=name == "keras use_ema")
        callbacks = [EMA(0.99)] if name == "coolkeras EMA" else []
        clock = _Clock()
        gc.collect()
        gc.disable()
        try:
            model.fit(
                X,
                Y,
                batch_size=BATCH,
                epochs=1 + EPOCHS,
                verbose=0,
                shuffle=False,
                callbacks=[clock, *callbacks],
            )
        finally:
            gc.enable()
        return STEPS / min(clock.seconds)

    return run


def compare(repeats: int = REPEATS) -> dict:
    """Per repeat, every variant once, in an order that alternates (forwards,
    then backwards); a ratio is variant ÷ baseline of the same repeat."""
    names = ["no EMA", "control (A/A)", "keras use_ema", "coolkeras EMA"]
    runs = {
        name: _variant("no EMA" if name.startswith("control") else name)
        for name in names
    }
    speeds = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            speeds[name].append(runs[name]())
    base = speeds["no EMA"]

    def ratios(name, over="no EMA"):
        return [a / b for a, b in zip(speeds[name], speeds[over], strict=True)]

    control = ratios("control (A/A)")
    low, _, high = statistics.quantiles(control, n=4)
    results = {f"{n} / no EMA": statistics.median(ratios(n)) for n in names[1:]}
    results |= {
        "control IQR low": low,
        "control IQR high": high,
        "coolkeras EMA / keras use_ema": statistics.median(
            ratios("coolkeras EMA", over="keras use_ema")
        ),
    }
    # The fastest of the repeats is the least disturbed by other processes.
    best = {name: max(values) for name, values in speeds.items()}
    results |= {f"best-of: {n} / no EMA": best[n] / best["no EMA"] for n in names[1:]}
    results["best-of: coolkeras EMA / keras use_ema"] = (
        best["coolkeras EMA"] / best["keras use_ema"]
    )
    results["baseline steps/s"] = statistics.median(base)
    return results


def _keras_average(averages, weights, iterations):
    """Keras' `use_ema` update (`_update_model_variables_moving_average`)."""
    momentum = ops.cast(ops.not_equal(iterations, 0), "float32") * 0.99
    return [
        momentum * a + (1.0 - momentum) * w
        for a, w in zip(averages, weights, strict=True)
    ]


def _update_costs(steps_per_second: float) -> None:
    """Times alone the averaging work each step adds, compiled as `fit` runs it.

    coolkeras: the hook's own code (`AverageUpdate`) on the model's `EMAState`;
    Keras: the same arithmetic as `use_ema`. The baseline returns the weights
    unchanged. Not included: the training clock `EMA` attaches (see
    bench/schedules.py for an attached step's cost).
    """
    model = _model(keras_ema=False)
    ema = EMA(0.99)
    ema.set_model(model)
    state = ema._state
    hook = _ema_update.AverageUpdate(state)
    weights = [v.value for v in state.targets]
    averages = [s.value for s in state.slots]
    backend = keras.backend.backend()
    clock, after = ops.convert_to_tensor(5), ops.convert_to_tensor(6)
    if backend == "jax":
        identity = _timing.compiled(lambda w: [x + 0.0 for x in w])

        def ours(a, w, mass, countdown):
            rate, new_mass = hook._coefficients(clock, after, mass, 0.99)
            last = ops.equal(countdown, 1)
            mixed = [_ema_update._mix(x, y, rate) for x, y in zip(a, w, strict=True)]
            return (
                [ops.where(last, m, y) for m, y in zip(mixed, w, strict=True)],
                [ops.where(last, y, m) for m, y in zip(mixed, w, strict=True)],
                new_mass,
                ops.maximum(countdown - 1, 0),
            )

        ours = _timing.compiled(ours)
        # With the step's weights as outputs too, as both are in a train step.
        keras_update = _timing.compiled(
            lambda a, w, i: (_keras_average(a, w, i), [x + 0.0 for x in w])
        )
        mass, countdown = state.mass.value, state.countdown.value
        baseline = lambda: identity(weights)[0]  # noqa: E731
        coolkeras = lambda: ours(averages, weights, mass, countdown)[0][0]  # noqa: E731
        keras_run = lambda: keras_update(averages, weights, after)[0][0]  # noqa: E731
    elif backend == "tensorflow":
        slots = [keras.Variable(a) for a in averages]

        def keras_assign():
            news = _keras_average([s.value for s in slots], weights, after)
            for slot, new in zip(slots, news, strict=True):
                slot.assign(new)
            return ops.zeros(())

        def ours():
            hook._after_graph(clock, after, 0.99)
            return ops.zeros(())

        baseline = _timing.compiled(lambda: ops.zeros(()))
        coolkeras = _timing.compiled(ours)
        keras_run = _timing.compiled(keras_assign)
    else:
        slots = [keras.Variable(a) for a in averages]

        def keras_run():
            news = _keras_average([s.value for s in slots], weights, after)
            for slot, new in zip(slots, news, strict=True):
                slot.assign(new)
            return news[0]

        def coolkeras():
            host = [float(state.mass.value), int(state.countdown.value)]
            hook._after_host(5, 6, *host, 0.99)
            return state.slots[0].value

        baseline = lambda: weights[0]  # noqa: E731
    backend = keras.backend.backend()
    for name, run in (("keras use_ema", keras_run), ("coolkeras EMA", coolkeras)):
        extra = _timing.added_microseconds(baseline, run, calls=1000, rounds=9)
        _timing.added_cost(f"{backend} update alone, {name}", extra, steps_per_second)


def main() -> None:
    backend = keras.backend.backend()
    print(
        f"backend: {backend}; MLP 64-{WIDTH}-{WIDTH}-10, Adam, batch {BATCH}, "
        f"{STEPS} steps x {EPOCHS} timed epochs, {REPEATS} repeats"
    )
    results = compare()
    for name, value in results.items():
        print(f"{backend} {name}: {value:.3f}")
    _update_costs(results["baseline steps/s"])


if __name__ == "__main__":
    main()
