"""Figures of `coolkeras demo`: 2-D feature scatters and training curves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(plt, count: int) -> list:
    """Distinct colors: tab10 or tab20 while they suffice, else a spread of turbo."""
    if count <= 20:
        colormap = plt.get_cmap("tab10" if count <= 10 else "tab20")
        return [colormap(i) for i in range(count)]
    return list(plt.get_cmap("turbo")(np.linspace(0, 1, count)))


def features(
    results: dict,
    labels: np.ndarray,
    path: str,
    classes: Sequence | None = None,
) -> None:
    """The paper's Figure 3 for our data: one scatter per model, centers marked.

    `labels` are class indices; `classes[i]` names class `i` in the legend
    (shown for up to 20 classes).
    """
    plt = _pyplot()
    present = np.unique(labels)
    count = int(max(present.max() + 1, len(classes or ())))
    names = [str(c) for c in classes] if classes else [str(c) for c in range(count)]
    colors = _colors(plt, count)
    figure, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 5))
    for axis, (variant, result) in zip(axes, results.items(), strict=True):
        points = result["features"]
        for c in present:
            mine = points[labels == c]
            axis.scatter(mine[:, 0], mine[:, 1], s=6, color=colors[c], label=names[c])
        centers = result["centers"]
        if centers is None:
            centers = np.stack([points[labels == c].mean(0) for c in present])
        axis.scatter(centers[:, 0], centers[:, 1], marker="x", s=80, color="black")
        axis.set_title(f"{variant}  (intra/inter {result['intra_inter_ratio']:.2f})")
    if len(present) <= 20:
        axes[0].legend(markerscale=3, fontsize=7, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def curves_figure(results: dict):
    """Learning rate, loss and macro-F1 per epoch, one line per model; the figure."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    for variant, result in results.items():
        for axis, key in zip(axes, ("learning_rate", "loss", "macro_f1"), strict=True):
            values = result["curves"][key]
            axis.plot(range(1, len(values) + 1), values, label=variant)
            axis.set_title(key.replace("_", " "))
    for axis in axes:
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "epoch 1.5"
    axes[1].legend()
    figure.tight_layout()
    return figure


def curves(results: dict, path: str) -> None:
    """Writes `curves_figure(results)` to `path`."""
    plt = _pyplot()
    figure = curves_figure(results)
    figure.savefig(path, dpi=90)
    plt.close(figure)
