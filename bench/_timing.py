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
from collections.abc import Callable


def steps_per_second(run: Callable[[], int]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        steps = run()
        return steps / (time.perf_counter() - start)
    finally:
        gc.enable()


def _pair_ratio(variant: Callable[[], int], baseline: Callable[[], int], flip: bool):
    if flip:
        speed = steps_per_second(variant)
        return speed / steps_per_second(baseline)
    base = steps_per_second(baseline)
    return steps_per_second(variant) / base


def compare(
    variants: dict[str, Callable[[], int]], baseline: str, repeats: int = 5
) -> dict:
    """Median over `repeats` adjacent pairs of (variant ÷ baseline) steps/s.

    Also returns the A/A control's median and its interquartile range.
    """
    for run in variants.values():
        run()  # warm-up: tracing and compilation are not measured
    base = variants[baseline]
    ratios: dict[str, list[float]] = {
        name: [] for name in variants if name != baseline
    }
    control: list[float] = []
    for repeat in range(repeats):
        flip = bool(repeat % 2)
        control.append(_pair_ratio(base, base, flip))
        for name in ratios:
            ratios[name].append(_pair_ratio(variants[name], base, flip))
    quartiles = statistics.quantiles(control, n=4)
    return {name: statistics.median(values) for name, values in ratios.items()} | {
        "control (A/A)": statistics.median(control),
        "control IQR low": quartiles[0],
        "control IQR high": quartiles[2],
    }


def report(title: str, results: dict) -> None:
    for name, value in results.items():
        print(f"{title} {name}: {value:.3f}")
