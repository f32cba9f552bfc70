"""Shared benchmark method: interleaved repetitions, median pair ratios, A/A control."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def steps_per_second(run: Callable[[], int]) -> float:
    start = time.perf_counter()
    steps = run()
    return steps / (time.perf_counter() - start)


def compare(
    variants: dict[str, Callable[[], int]], baseline: str, repeats: int = 5
) -> dict:
    """Runs every variant `repeats` times, interleaved, after one warm-up each.

    Returns, per variant, the median over repetitions of (variant / baseline) in
    steps per second, where both were measured in the same repetition. The
    baseline is also run twice per repetition to give an A/A control ratio.
    """
    for run in variants.values():
        run()  # warm-up: tracing and compilation are not measured
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    ratios["control (A/A)"] = []
    for _ in range(repeats):
        base = steps_per_second(variants[baseline])
        for name, run in variants.items():
            ratios[name].append(steps_per_second(run) / base)
        ratios["control (A/A)"].append(steps_per_second(variants[baseline]) / base)
    return {name: statistics.median(values) for name, values in ratios.items()} | {
        "control spread": max(ratios["control (A/A)"]) - min(ratios["control (A/A)"])
    }


def report(title: str, results: dict) -> None:
    for name, value in results.items():
        print(f"{title} {name}: {value:.3f}")
