"""Shared benchmark method: adjacent A/B pairs, median ratio, A/A control.

Each variant is timed right next to the baseline (A B, then B A on the next
repetition, so neither always goes first), after one warm-up run each; the
ratio of a pair is variant speed ÷ baseline speed. An A/A pair of the baseline
against itself is the control: a ratio is only meaningful to the precision that
the control's interquartile range shows. Python's garbage collector is paused
while a run is timed.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def _gc_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def steps_per_second(run: Callable[[], int]) -> float:
    gc.collect()
    with _gc_paused():
        start = time.perf_counter()
        steps = run()
        return steps / (time.perf_counter() - start)


def _pair(variant: Callable[[], int], baseline: Callable[[], int], flip: bool):
    """(variant ÷ baseline steps/s, baseline steps/s) of one adjacent pair."""
    if flip:
        speed = steps_per_second(variant)
        base = steps_per_second(baseline)
    else:
        base = steps_per_second(baseline)
        speed = steps_per_second(variant)
    return speed / base, base


def compare(
    variants: dict[str, Callable[[], int]],
    baseline: str,
    repeats: int = 5,
    control: Callable[[], int] | None = None,
) -> dict:
    """Median over `repeats` adjacent pairs of (variant ÷ baseline) steps/s.

    Also returns the A/A control's median and its interquartile range, and the
    baseline's median steps/s. The control pairs the baseline with `control`, a
    second, separately built copy of it (so differences between two instances
    of one model show too), or with itself.
    """
    base = variants[baseline]
    control_run = control or base
    for run in [*variants.values(), control_run]:
        run()  # warm-up: tracing and compilation are not measured
    ratios: dict[str, list[float]] = {
        name: [] for name in variants if name != baseline
    }
    controls: list[float] = []
    speeds: list[float] = []
    for repeat in range(repeats):
        flip = bool(repeat % 2)
        controls.append(_pair(control_run, base, flip)[0])
        for name in ratios:
            ratio, speed = _pair(variants[name], base, flip)
            ratios[name].append(ratio)
            speeds.append(speed)
    quartiles = statistics.quantiles(controls, n=4)
    return {name: statistics.median(values) for name, values in ratios.items()} | {
        "control (A/A)": statistics.median(controls),
        "control IQR low": quartiles[0],
        "control IQR high": quartiles[2],
        "baseline steps/s": statistics.median(speeds),
    }


def report(title: str, results: dict) -> None:
    for name, value in results.items():
        print(f"{title} {name}: {value:.3f}")


def mlp(width: int = 256, features: int = 64, classes: int = 10):
    """The benches' small MLP (features-width-width-classes, ReLU), seeded."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((features,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(classes),
        ]
    )


def compiled(function: Callable) -> Callable:
    """`function` compiled the way `fit` compiles a train step on this backend.

    JAX: `jax.jit`; TensorFlow: `tf.function` with XLA; PyTorch: unchanged (its
    train step runs eagerly).
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(function)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    return function


def _microseconds_per_call(function: Callable, calls: int) -> float:
    import keras

    with _gc_paused():
        start = time.perf_counter()
        for _ in range(calls):
            result = function()
        keras.ops.convert_to_numpy(result)  # asynchronous backends finish too
        return (time.perf_counter() - start) / calls * 1e6


def added_microseconds(
    baseline: Callable, variant: Callable, calls: int = 1000, rounds: int = 15
) -> float:
    """Median over adjacent rounds of the µs one `variant()` adds to `baseline()`."""
    import keras

    for function in (baseline, variant):  # compile outside the timing
        keras.ops.convert_to_numpy(function())
    differences = []
    for round_ in range(rounds):
        pair = [baseline, variant] if round_ % 2 else [variant, baseline]
        times = {id(f): _microseconds_per_call(f, calls) for f in pair}
        differences.append(times[id(variant)] - times[id(baseline)])
    return statistics.median(differences)


def added_cost(title: str, extra_us: float, steps_per_second: float) -> None:
    """Prints an isolated per-step cost and the ratio it implies.

    End-to-end ratios on a shared 2-core machine are only as precise as the A/A
    control; timing the added work alone, thousands of times, resolves a few µs.
    The implied ratio `1 / (1 + cost × baseline steps/s)` is what the end-to-end
    ratio would be if the added work were the only difference.
    """
    share = max(extra_us, 0.0) * 1e-6 * steps_per_second
    print(
        f"{title}: {extra_us:.1f} µs per step = {100 * share:.2f}% of a baseline "
        f"step -> implied ratio {1 / (1 + share):.3f}"
    )
