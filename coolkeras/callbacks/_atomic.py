"""Atomic file writes for the `Evaluator`: a crash never leaves a broken file.

Each writer saves to a temporary file in the destination's own directory (same
file system, so the final `os.replace` is atomic on POSIX and Windows), flushes
it to disk, then renames it over the destination. If anything fails before the
rename, the temporary file is removed and the previous destination is untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import keras

MODEL_SUFFIX = ".keras"
WEIGHTS_SUFFIX = ".weights.h5"


def _suffix(path: str) -> str:
    for suffix in (WEIGHTS_SUFFIX, MODEL_SUFFIX, ".json"):
        if path.endswith(suffix):
            return suffix
    return ""


def _temporary_path(path: str) -> str:
    directory, base = os.path.split(os.path.abspath(path))
    suffix = _suffix(base)
    stem = base[: len(base) - len(suffix)] if suffix else base
    # Keras picks the file format from the suffix, so the temporary file keeps it.
    return os.path.join(directory, f".{stem}.tmp-{uuid.uuid4().hex[:12]}{suffix}")


def _fsync(path: str) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        os.fsync(f.fileno())


def atomic_write(path: str, write: Callable[[str], Any]) -> None:
    """Calls `write(temporary_path)`, then moves the result over `path`."""
    temporary = _temporary_path(path)
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def save_model_or_weights(model: keras.Model, path: str) -> None:
    """Saves the whole model (`.keras`) or its weights (`.weights.h5`) atomically."""
    if path.endswith(WEIGHTS_SUFFIX):
        atomic_write(path, lambda p: model.save_weights(p, overwrite=True))
    else:
        atomic_write(path, lambda p: model.save(p, overwrite=True))


def write_json(path: str, data: Any) -> None:
    def write(p):
        with open(p, "w", encoding="utf-8") as f:
            json.dump(data, f)

    atomic_write(path, write)


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_writable(path: str) -> None:
    """Raises `OSError` now if `path` could not be written later."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory")
    probe = _temporary_path(os.path.join(directory, ".coolkeras-write-probe"))
    with open(probe, "wb") as f:
        f.write(b"")
    os.remove(probe)
