"""`--data PATH.npz`: every unusable file is refused before training, in one line."""

import numpy as np
import pytest

from coolkeras.demo import data
from tests.cli.helpers import assert_one_line_error, run_cli


def _arrays(train=24, test=12, features=(5,), classes=3):
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.normal(size=(train, *features)).astype("float32"),
        "y_train": np.arange(train) % classes,
        "x_test": rng.normal(size=(test, *features)).astype("float32"),
        "y_test": np.arange(test) % classes,
    }


def _with(**changes):
    arrays = _arrays()
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def _text(path):
    path.write_text("x_train,y_train\n1,2\n")


def _npy(path):
    with open(path, "wb") as file:
        np.save(file, np.zeros((4, 2)))


def _zip_garbage(path):
    path.write_bytes(b"PK\x03\x04 not really a zip")


def _folder(path):
    path.mkdir()


BAD = {
    "one class": (_with(y_train=np.zeros(24, int)), "y_train has a single class (0)"),
    "empty x_train": (
        _with(x_train=np.zeros((0, 5)), y_train=np.zeros(0, int)),
        "x_train must have one row per sample and at least one sample",
    ),
    "empty everything": (
        {k: np.zeros(0) for k in _arrays()},
        "x_train must have one row per sample",
    ),
    "no values per sample": (_with(x_test=np.zeros((12, 0))), "received shape (12, 0)"),
    "1-D x": (_with(x_train=np.arange(24.0)), "received shape (24,)"),
    "string x": (
        _with(x_train=np.array(["a"] * 24)),
        "x_train must hold numbers (received dtype <U1)",
    ),
    "complex x": (
        _with(x_test=np.ones((12, 5), complex)),
        "x_test must hold numbers (received dtype complex128)",
    ),
    "feature mismatch": (
        _with(x_test=np.zeros((12, 7), "float32")),
        "x_train and x_test differ in values per sample: 5 and 7",
    ),
    "nan": (
        _with(x_train=np.full((24, 5), np.nan, "float32")),
        "x_train holds 120 NaN or infinite values",
    ),
    "inf": (
        _with(x_test=np.full((12, 5), np.inf)),
        "x_test holds 60 NaN or infinite values",
    ),
    "beyond float32": (
        _with(x_train=np.full((24, 5), 1e300)),
        "x_train holds values beyond the float32 range",
    ),
    "missing arrays": (
        _with(y_test=None, x_test=None),
        "lacks the arrays ['x_test', 'y_test']",
    ),
    "label count": (
        _with(y_test=np.zeros(5, int)),
        "y_test has 5 labels for 12 samples",
    ),
    "one-hot labels": (
        _with(y_train=np.eye(3)[np.arange(24) % 3]),
        "y_train must be 1-D, one class label per sample (received shape (24, 3)",
    ),
    "fractional labels": (
        _with(y_train=np.arange(24) % 3 + 0.5),
        "y_train holds float labels that are not whole numbers",
    ),
    "nan labels": (
        _with(y_test=np.full(12, np.nan)),
        "y_test holds float labels that are not whole numbers",
    ),
    "unseen test class": (
        _with(y_test=np.arange(12) % 4),
        "y_test has classes that y_train lacks: [3]",
    ),
    "string and number labels": (
        _with(y_test=np.array(["a"] * 12)),
        "y_train and y_test mix string and number labels",
    ),
    "object array": (
        _with(y_train=np.array([1, "a", None] * 8, dtype=object)),
        "y_train cannot be read (Object arrays cannot be loaded",
    ),
    "text file": (_text, "is not an .npz archive"),
    ".npy file": (_npy, "holds one array (.npy format), not an .npz archive"),
    "broken zip": (_zip_garbage, "is not an .npz archive"),
    "folder": (_folder, "is a folder, not an .npz file"),
    "missing file": (None, "no such file"),
}


@pytest.mark.filterwarnings("error")  # no numpy RuntimeWarning on the way
@pytest.mark.parametrize("case", BAD)
def test_unusable_file_is_refused_in_one_line(tmp_path, capsys, no_keras_start, case):
    content, message = BAD[case]
    path = tmp_path / "data.npz"
    if isinstance(content, dict):
        np.savez(path, **content)
    elif content is not None:
        content(path)
    status, out, err = run_cli(
        capsys, "demo", "--data", str(path), "--output", str(tmp_path / "out")
    )
    assert_one_line_error(
        status,
        err,
        "coolkeras demo: error: argument --data: ",
        message,
        repr(str(path)),
    )
    assert not (tmp_path / "out").exists()


def test_any_number_of_classes_and_label_values():
    arrays = _arrays(train=60, test=30, classes=12)
    arrays["y_train"] = arrays["y_train"] * 10 + 5  # labels 5, 15, ..., 115
    arrays["y_test"] = arrays["y_test"] * 10 + 5
    dataset = data.from_arrays("twelve", **arrays)
    assert dataset.num_classes == 12
    assert dataset.classes == tuple(range(5, 120, 10))
    np.testing.assert_array_equal(dataset.y_train, np.arange(60) % 12)


def test_string_float_and_column_labels():
    arrays = _arrays()
    names = np.array(["cat", "dog", "eel"])
    dataset = data.from_arrays(
        "animals",
        arrays["x_train"],
        names[arrays["y_train"]],
        arrays["x_test"],
        names[arrays["y_test"]],
    )
    assert dataset.classes == ("cat", "dog", "eel")
    floats = data.from_arrays(
        "floats",
        arrays["x_train"],
        arrays["y_train"].astype("float32")[:, None],
        arrays["x_test"],
        arrays["y_test"].astype("float64"),
    )
    np.testing.assert_array_equal(floats.y_test, arrays["y_test"])


def test_train_and_test_share_one_scale():
    x_train = np.array([[0.0, 255.0], [10.0, 20.0]])
    x_test = np.array([[51.0, 0.0]])
    dataset = data.from_arrays("s", x_train, np.array([0, 1]), x_test, np.array([1]))
    np.testing.assert_allclose(dataset.x_test, [[0.2, 0.0]])
    assert dataset.x_train.dtype == np.float32 and dataset.x_train.max() == 1.0


def test_mnist_offline_says_it_needs_a_network(tmp_path, capsys, monkeypatch):
    import keras

    def offline():
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/tensorflow/"
            "tf-keras-datasets/mnist.npz: None -- [Errno -3] Temporary failure "
            "in name resolution"
        )

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    status, _, err = run_cli(
        capsys, "demo", "--data", "mnist", "--output", str(tmp_path / "out")
    )
    assert_one_line_error(
        status,
        err,
        "argument --data: 'mnist' downloads MNIST once and needs a network",
        "Temporary failure in name resolution",
        "--data PATH.npz",
        "(received 'mnist')",
    )
