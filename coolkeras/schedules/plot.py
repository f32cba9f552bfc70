"""`plot`: a PNG of a schedule's value against the step (needs matplotlib)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot"]


def _default_steps(schedule) -> np.ndarray:
    horizon = schedule._horizon() or 100
    stop = int(horizon * 1.2) + 1
    return np.unique(np.linspace(0, stop, 501).round().astype("int64"))


def plot(schedule, path: Any, steps: Any = None) -> Any:
    """Writes a PNG plot of `schedule`'s value against the step to `path`.

    Args:
        schedule: a coolkeras `Schedule`.
        path: where to write the PNG.
        steps: the steps to plot: a list or array, or an int `n` for steps
            `0..n`. Defaults to a range that covers the schedule's changes.

    Returns:
        `path`.

    Raises:
        ImportError: if matplotlib is not installed.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as error:
        raise ImportError(
            "Plotting a schedule needs matplotlib: `pip install coolkeras[plot]`."
        ) from error
    if steps is None:
        steps = _default_steps(schedule)
    elif isinstance(steps, int):
        steps = np.arange(steps + 1)
    steps = np.asarray(steps)
    values = schedule.values(steps)
    figure = Figure(figsize=(6, 3.5), layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(steps, values)
    axes.set_xlabel("step")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole
    axes.set_ylabel("value")
    axes.set_title(type(schedule).__name__)
    axes.grid(alpha=0.3)
    figure.savefig(path, format="png")
    return path
