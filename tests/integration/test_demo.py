"""`coolkeras demo` end to end: what it reports is what it wrote and kept."""

import json
import os

import keras
import numpy as np
import pytest

from coolkeras.cli.main import main
from coolkeras.demo.center_loss_demo import (
    FILES,
    VARIANTS,
    Settings,
    TrainingDiverged,
    intra_inter_ratio,
    run,
)
from coolkeras.demo.data import digits

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


def _reloaded_accuracy(path, x, y) -> float:
    model = keras.models.load_model(path)  # default safe_mode=True
    return float((model.predict(x, verbose=0).argmax(-1) == y).mean())


def test_short_run_learns_and_its_files_reproduce_its_report(
    tmp_path, capsys, monkeypatch
):
    """Two epochs on the bundled digits, through the command line."""
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out"
    assert main(["demo", "--epochs", "2", "--seed", "0", "--output", "out"]) == 0
    out = capsys.readouterr().out

    # Where it wrote: one absolute path per line, every file there.
    written = out.split("wrote:\n", 1)[1].splitlines()
    assert written == [str(output / name) for name in FILES]
    assert all(os.path.isabs(path) and os.path.isfile(path) for path in written)
    assert sorted(os.listdir(output)) == sorted(FILES)

    summary = json.loads((output / "metrics.json").read_text())
    data = digits(seed=0)
    assert summary["classes"] == list(range(10))
    for variant in VARIANTS:
        model = summary["models"][variant]
        assert model["accuracy"] >= 0.2, (variant, model)  # twice chance (0.10)
        curve = model["curves"]["macro_f1"]
        assert len(curve) == len(model["curves"]["learning_rate"]) == 2
        # The Monitor's mean feature norm, logged per epoch.
        norms = model["curves"]["feature_norm"]
        assert len(norms) == 2 and all(np.isfinite(norms)) and min(norms) > 0
        # The kept epoch is the best one, and the kept file predicts as reported.
        assert model["best_epoch"] == int(np.argmax(curve))
        assert model["macro_f1"] == pytest.approx(max(curve), abs=1e-6)
        reloaded = _reloaded_accuracy(
            output / f"{variant}.keras", data.x_test, data.y_test
        )
        assert reloaded == pytest.approx(model["accuracy"], abs=1e-6), variant

    import matplotlib.image

    for figure in ("features.png", "curves.png"):
        height, width = matplotlib.image.imread(output / figure).shape[:2]
        assert height >= 300 and width >= 1000


def test_twelve_classes_from_an_npz(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(96) % 12 + 100  # any label values: 100 .. 111
    x = rng.normal(size=(96, 6)).astype("float32") + (labels[:, None] - 100)
    path = tmp_path / "twelve.npz"
    np.savez(path, x_train=x, y_train=labels, x_test=x[:48], y_test=labels[:48])
    summary = run(Settings(epochs=1, data=str(path), output=str(tmp_path), verbose=0))
    assert summary["classes"] == list(range(100, 112))
    model = keras.models.load_model(tmp_path / "softmax.keras")
    assert model.output_shape == (None, 12)


def test_diverging_training_is_an_error_not_a_table(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(32) % 2
    path = tmp_path / "two.npz"
    np.savez(
        path,
        x_train=rng.normal(size=(32, 3)),
        y_train=labels,
        x_test=rng.normal(size=(8, 3)),
        y_test=labels[:8],
    )
    # λ beyond float32 (the command line refuses it): the center term is inf.
    settings = Settings(epochs=1, weight=1e39, data=str(path), output=str(tmp_path))
    with pytest.raises(TrainingDiverged, match="center-gradient model's loss became"):
        run(settings)


def test_paper_rule_clusters_tighter_without_losing_accuracy(tmp_path):
    """The issue's bar, at the default settings on the bundled digits."""
    summary = run(Settings(output=str(tmp_path), verbose=0))
    softmax = summary["models"]["softmax"]
    paper = summary["models"]["center-paper"]
    assert paper["intra_inter_ratio"] <= 0.65 * softmax["intra_inter_ratio"]
    assert paper["accuracy"] >= softmax["accuracy"] - 0.01


def test_intra_inter_ratio_reference():
    features = np.array([[0.0, 1.0], [0.0, -1.0], [10.0, 1.0], [10.0, -1.0]])
    assert intra_inter_ratio(features, np.array([0, 0, 1, 1])) == pytest.approx(0.1)
