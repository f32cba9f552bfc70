"""Figures of `coolkeras demo`: 2-D feature scatters and training curves."""

from __future__ import annotations

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def features(results: dict, labels: np.ndarray, path: str) -> None:
    """The paper's Figure 3 for our data: one scatter per model, centers marked."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 5))
    colors = plt.get_cmap("tab10")
    for axis, (variant, result) in zip(axes, results.items(), strict=True):
        points = result["features"]
        for c in np.unique(labels):
            mine = points[labels == c]
            axis.scatter(
                mine[:, 0], mine[:, 1], s=6, color=colors(c % 10), label=str(c)
            )
        centers = result["centers"]
        if centers is None:
            centers = np.stack([points[labels == c].mean(0) for c in np.unique(labels)])
        axis.scatter(centers[:, 0], centers[:, 1], marker="x", s=80, color="black")
        axis.set_title(f"{variant}  (intra/inter {result['intra_inter_ratio']:.2f})")
    axes[0].legend(markerscale=3, fontsize=7, loc="best")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def curves(results: dict, path: str) -> None:
    """Learning rate, loss and macro-F1 per epoch, one line per model."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    for variant, result in results.items():
        for axis, key in zip(axes, ("learning_rate", "loss", "macro_f1"), strict=True):
            values = result["curves"][key]
            axis.plot(range(1, len(values) + 1), values, label=variant)
            axis.set_title(key.replace("_", " "))
            axis.set_xlabel("epoch")
    axes[1].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
