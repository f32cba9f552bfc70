"""The demo's figures: integer epoch ticks, any number of classes."""

import numpy as np
import pytest

from coolkeras.demo import plots

pytest.importorskip("matplotlib")


def _results(epochs: int, classes: int = 3) -> dict:
    rng = np.random.default_rng(0)
    curve = list(np.linspace(1.0, 0.5, epochs))
    return {
        variant: {
            "curves": {"learning_rate": curve, "loss": curve, "macro_f1": curve},
            "features": rng.normal(size=(6 * classes, 2)),
            "centers": None if variant == "softmax" else rng.normal(size=(classes, 2)),
            "intra_inter_ratio": 0.5,
        }
        for variant in ("softmax", "center-gradient", "center-paper")
    }


@pytest.mark.parametrize("epochs", [2, 3, 7])
def test_short_runs_get_integer_epoch_ticks(epochs):
    import matplotlib.pyplot as plt

    figure = plots.curves_figure(_results(epochs))
    try:
        for axis in figure.axes:
            low, high = axis.get_xlim()
            shown = [t for t in axis.get_xticks() if low <= t <= high]
            assert shown and all(float(t).is_integer() for t in shown), shown
    finally:
        plt.close(figure)


@pytest.mark.parametrize("classes", [12, 25])
def test_feature_scatter_for_any_number_of_classes(tmp_path, classes):
    import matplotlib.image

    labels = np.arange(6 * classes) % classes
    path = tmp_path / "features.png"
    plots.features(
        _results(2, classes), labels, str(path), [f"c{i}" for i in range(classes)]
    )
    assert matplotlib.image.imread(path).shape[:2] == (450, 1350)
