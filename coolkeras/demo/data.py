"""Data for `coolkeras demo`: scikit-learn's digits, MNIST, or a local `.npz`."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _flatten(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, "float32").reshape(len(x), -1)
    return x / max(float(x.max()), 1.0)


def _check_labels(y: np.ndarray, where: str, num_classes: int = 10) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"{where}: labels must be a 1-D integer array. "
            f"Received: shape {y.shape}, dtype {y.dtype}"
        )
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{where}: labels must be in [0, {num_classes}). "
            f"Received: labels from {y.min()} to {y.max()}"
        )
    return y.astype("int32")


def digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        _flatten(x), y.astype("int32"), test_size=0.25, random_state=seed, stratify=y
    )
    return Dataset("digits", x_train, y_train, x_test, y_test)


def npz(path: str) -> Dataset:
    """A local file in Keras' MNIST `.npz` layout: x_train, y_train, x_test, y_test."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--data: no such file. Received: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:
        raise ValueError(
            f"--data: {path!r} is not a readable .npz file ({error})"
        ) from error
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise ValueError(
            f"--data: {path!r} lacks the arrays {sorted(missing)}; Keras' MNIST "
            "layout has x_train, y_train, x_test, y_test. "
            f"Received arrays: {sorted(arrays)}"
        )
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise ValueError(
                f"--data: x_{split} and y_{split} differ in length. Received: "
                f"{len(arrays[f'x_{split}'])} and {len(arrays[f'y_{split}'])}"
            )
    return Dataset(
        os.path.basename(path),
        _flatten(arrays["x_train"]),
        _check_labels(arrays["y_train"], f"--data {path} y_train"),
        _flatten(arrays["x_test"]),
        _check_labels(arrays["y_test"], f"--data {path} y_test"),
    )


def mnist() -> Dataset:
    """`keras.datasets.mnist` (downloads once; needs a network)."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return Dataset(
        "mnist",
        _flatten(x_train),
        y_train.astype("int32"),
        _flatten(x_test),
        y_test.astype("int32"),
    )


def load(name: str, seed: int = 0) -> Dataset:
    """`digits`, `mnist`, or a path to an `.npz` file."""
    if name == "digits":
        return digits(seed)
    if name == "mnist":
        return mnist()
    if name.endswith(".npz"):
        return npz(name)
    raise ValueError(
        f"--data must be 'digits', 'mnist' or a path to a .npz file. Received: {name!r}"
    )
