"""Data for `coolkeras demo`: scikit-learn's digits, MNIST, or a local `.npz`.

A local file is checked completely before any training: every problem is a
`DataError` whose message says what is wrong with which array, so the command
line can print it as one line naming `--data`.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np

NPZ_LAYOUT = (
    "an .npz archive (np.savez) with x_train, y_train, x_test, y_test: x_* numbers, "
    "one row per sample, the same number of values per sample in train and test, "
    "all finite; y_* one class label per sample (integers or strings), at least 2 "
    "classes in y_train, every y_test class also in y_train"
)
_KEYS = ("x_train", "y_train", "x_test", "y_test")
_FLOAT32_MAX = float(np.finfo("float32").max)


class DataError(ValueError):
    """A `--data` source the demo cannot use; the message says what is wrong."""


@dataclass
class Dataset:
    """Flattened float32 features and class indices `0 .. len(classes) - 1`.

    `classes[i]` is the label that class index `i` stands for in the source.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple = tuple(range(10))

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _features(x: np.ndarray, key: str) -> np.ndarray:
    """`x` as float32 `(samples, values)`, refused unless finite numbers."""
    if x.dtype.kind not in "biuf":
        raise DataError(f"{key} must hold numbers (received dtype {x.dtype})")
    if x.ndim < 2 or x.shape[0] == 0 or x[0].size == 0:
        raise DataError(
            f"{key} must have one row per sample and at least one sample and one "
            f"value per sample (received shape {x.shape})"
        )
    values = x.reshape(len(x), -1)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise DataError(f"{key} holds {bad} NaN or infinite values")
    if values.dtype.kind in "iuf" and np.abs(values).max() > _FLOAT32_MAX:
        raise DataError(f"{key} holds values beyond the float32 range")
    return values.astype("float32")


def _labels(y: np.ndarray, key: str, samples: int) -> np.ndarray:
    """`y` as a 1-D array of labels, one per sample."""
    if y.ndim == 2 and y.shape[1:] == (1,):
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"{key} must be 1-D, one class label per sample (received shape "
            f"{y.shape}; for one-hot labels save y.argmax(-1))"
        )
    if len(y) != samples:
        raise DataError(
            f"{key} has {len(y)} labels for {samples} samples in x_{key[2:]}"
        )
    if y.dtype.kind == "f":
        if not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise DataError(
                f"{key} holds float labels that are not whole numbers (NaN, inf "
                "or fractions)"
            )
        y = y.astype("int64")
    if y.dtype.kind not in "biuU":
        raise DataError(
            f"{key} must hold integer or string labels (received dtype {y.dtype})"
        )
    return y


def _read(path: str) -> dict[str, np.ndarray]:
    if os.path.isdir(path):
        raise DataError("is a folder, not an .npz file")
    if not os.path.exists(path):
        raise DataError("no such file")
    try:
        file = open(path, "rb")  # numpy leaves its own file open on a bad zip
    except OSError as error:
        raise DataError(f"cannot be read ({error.strerror})") from error
    with file:
        try:
            archive = np.load(file, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            raise DataError(f"is not an .npz archive ({error})") from error
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise DataError("holds one array (.npy format), not an .npz archive")
        return _arrays_of(archive)


def _arrays_of(archive: np.lib.npyio.NpzFile) -> dict[str, np.ndarray]:
    with archive:
        missing = [key for key in _KEYS if key not in archive.files]
        if missing:
            raise DataError(
                f"lacks the arrays {missing}; the demo reads x_train, y_train, "
                f"x_test, y_test (found: {sorted(archive.files)})"
            )
        arrays = {}
        for key in _KEYS:
            try:
                arrays[key] = np.asarray(archive[key])
            except ValueError as error:  # object arrays need pickle
                raise DataError(f"{key} cannot be read ({error})") from error
    return arrays


def from_arrays(
    name: str, x_train, y_train, x_test, y_test, scale: float | None = None
) -> Dataset:
    """Checks four arrays and returns them as a `Dataset`; `DataError` otherwise.

    Features are divided by `scale`, by default the largest absolute value of
    `x_train` when above 1 (images of 0..255 become 0..1).
    """
    x_train = _features(np.asarray(x_train), "x_train")
    x_test = _features(np.asarray(x_test), "x_test")
    if x_train.shape[1] != x_test.shape[1]:
        raise DataError(
            "x_train and x_test differ in values per sample: "
            f"{x_train.shape[1]} and {x_test.shape[1]}"
        )
    y_train = _labels(np.asarray(y_train), "y_train", len(x_train))
    y_test = _labels(np.asarray(y_test), "y_test", len(x_test))
    if (y_train.dtype.kind == "U") != (y_test.dtype.kind == "U"):
        raise DataError(
            f"y_train and y_test mix string and number labels (received dtypes "
            f"{y_train.dtype} and {y_test.dtype})"
        )
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise DataError(
            f"y_train has a single class ({classes[0]}); the demo needs at least 2"
        )
    unseen = np.setdiff1d(np.unique(y_test), classes)
    if len(unseen):
        raise DataError(
            f"y_test has classes that y_train lacks: {unseen[:10].tolist()}"
        )
    if scale is None:
        scale = max(float(np.abs(x_train).max()), 1.0)
    return Dataset(
        name,
        x_train / np.float32(scale),
        np.searchsorted(classes, y_train).astype("int32"),
        x_test / np.float32(scale),
        np.searchsorted(classes, y_test).astype("int32"),
        tuple(classes.tolist()),
    )


def npz(path: str) -> Dataset:
    """A local file in Keras' MNIST `.npz` layout: x_train, y_train, x_test, y_test."""
    try:
        return from_arrays(os.path.basename(path), **_read(path))
    except DataError as error:
        raise DataError(f"{error} (received {path!r})") from None


def digits(seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=seed, stratify=y
    )
    return from_arrays("digits", x_train, y_train, x_test, y_test, scale=16.0)


def mnist() -> Dataset:
    """`keras.datasets.mnist` (downloads once; needs a network)."""
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception for URL failures
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise DataError(
            "'mnist' downloads MNIST once and needs a network, which failed "
            f"({type(error).__name__}: {reason}); use --data digits (bundled) or "
            "--data PATH.npz with a local copy (received 'mnist')"
        ) from error
    return from_arrays("mnist", x_train, y_train, x_test, y_test, scale=255.0)


def load(name: str, seed: int = 0) -> Dataset:
    """`digits`, `mnist`, or a path to an `.npz` file."""
    if name == "digits":
        return digits(seed)
    if name == "mnist":
        return mnist()
    return npz(name)
