import json

import numpy as np
import pytest

from coolkeras.cli.main import main
from coolkeras.demo.center_loss_demo import Settings, intra_inter_ratio, run

FILES = [
    "features.png",
    "curves.png",
    "metrics.json",
    "softmax.keras",
    "center-gradient.keras",
    "center-paper.keras",
]


def _mnist_like(path, train=120, test=40, labels_high=10):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, size=(train, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, labels_high, size=train).astype(np.uint8),
        x_test=rng.integers(0, 256, size=(test, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, size=test).astype(np.uint8),
    )
    return str(path)


def test_demo_writes_every_output(tmp_path, capsys):
    output = tmp_path / "out"
    assert main(["demo", "--epochs", "2", "--output", str(output)]) == 0
    assert sorted(p.name for p in output.iterdir()) == sorted(FILES)
    summary = json.loads((output / "metrics.json").read_text())
    for variant in ("softmax", "center-gradient", "center-paper"):
        model = summary["models"][variant]
        assert 0 <= model["accuracy"] <= 1 and model["intra_inter_ratio"] > 0
        assert len(model["curves"]["learning_rate"]) == 2
    assert "intra/inter" in capsys.readouterr().out


def test_demo_reads_an_npz_in_mnist_layout(tmp_path):
    path = _mnist_like(tmp_path / "small.npz")
    summary = run(Settings(epochs=1, data=path, output=str(tmp_path / "o"), verbose=0))
    assert summary["models"]["softmax"]["accuracy"] >= 0


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


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--data", "cifar"], "Received: 'cifar'"),
        (["--data", "missing.npz"], "no such file"),
        (["--lambda", "-1"], "Received: weight=-1"),
        (["--alpha", "1.5"], "Received: alpha=1.5"),
        (["--epochs", "0"], "Received: 0"),
    ],
)
def test_bad_options_exit_with_a_clear_error(tmp_path, capsys, arguments, message):
    assert main(["demo", "--output", str(tmp_path), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_malformed_and_out_of_range_files(tmp_path, capsys):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    assert main(["demo", "--data", str(broken), "--output", str(tmp_path)]) == 2
    assert "not a readable .npz" in capsys.readouterr().err

    wrong = _mnist_like(tmp_path / "wrong.npz", labels_high=12)
    assert main(["demo", "--data", wrong, "--output", str(tmp_path)]) == 2
    assert "labels must be in [0, 10)" in capsys.readouterr().err

    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((2, 4)))
    assert main(["demo", "--data", str(partial), "--output", str(tmp_path)]) == 2
    assert "lacks the arrays" in capsys.readouterr().err
