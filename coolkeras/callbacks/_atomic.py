"""Atomic file writes for the `Evaluator`: a crash never leaves a broken file.

Each writer saves to a temporary file in the destination's own directory (same
file system, so the final `os.replace` is atomic on POSIX and Windows), flushes
it to disk, then renames it over the destination. If anything fails before the
rename, the temporary file is removed and the previous destination is untouched.

A process killed mid-write cannot remove its temporary file. Temporary names
carry the writer's host and process id, so every later write in the same
folder removes the temporary files of writers on this host that no longer run
(POSIX only: elsewhere liveness is not checked and nothing is removed).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

MODEL_SUFFIX = ".keras"
WEIGHTS_SUFFIX = ".weights.h5"
_SUFFIXES = (WEIGHTS_SUFFIX, MODEL_SUFFIX, ".json")
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_TEMPORARY = re.compile(
    r"^\..+\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}"
    r"(\.keras|\.weights\.h5|\.json)?$"
)


def _suffix(path: str) -> str:
    return next((s for s in _SUFFIXES if path.endswith(s)), "")


def temporary_path(path: str) -> str:
    """A hidden sibling of `path` that names this host and process."""
    directory, base = os.path.split(os.path.abspath(path))
    suffix = _suffix(base)
    stem = base[: len(base) - len(suffix)]
    # Keras picks the file format from the suffix, so the temporary file keeps it.
    name = f".{stem}.tmp-{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}"
    return os.path.join(directory, name)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temporaries(directory: str) -> list[str]:
    """Removes temporary files left in `directory` by writers that were killed.

    Only files named by `temporary_path` on this host whose process no longer
    runs are removed. Returns their paths.
    """
    if os.name != "posix" or not os.path.isdir(directory):
        return []
    removed = []
    for name in os.listdir(directory):
        match = _TEMPORARY.match(name)
        if match is None or match["host"] != _HOST:
            continue
        if _is_running(int(match["pid"])):
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            os.remove(path)
            removed.append(path)
    return removed


def _fsync(path: str) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as f:
        os.fsync(f.fileno())


def atomic_write(path: str, write: Callable[[str], Any]) -> None:
    """Calls `write(temporary_path)`, then moves the result over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(directory)
    temporary = temporary_path(path)
    try:
        write(temporary)
        _fsync(temporary)
        os.replace(temporary, path)
        if os.path.lexists(temporary):
            # POSIX: a rename between two links of one file does nothing.
            os.remove(temporary)
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


def copy_file(source: str, destination: str) -> None:
    """Makes `destination` a copy of `source`, atomically (a hard link if possible)."""
    with contextlib.suppress(OSError):
        if os.path.samefile(source, destination):
            return  # already a link of `source` (a commit repeated on resume)

    def write(temporary):
        try:
            os.link(source, temporary)
        except OSError:  # another file system, or no hard links
            shutil.copyfile(source, temporary)

    atomic_write(destination, write)


def write_json(path: str, data: Any) -> None:
    def write(p):
        with open(p, "w", encoding="utf-8") as f:
            json.dump(data, f)

    atomic_write(path, write)


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def state_bytes(model: keras.Model) -> int:
    """The bytes of the model's and optimizer's variables: a lower bound on a save."""
    variables = list(model.weights)
    if getattr(model, "optimizer", None) is not None:
        variables += list(model.optimizer.variables)
    total = 0
    for variable in variables:
        try:
            itemsize = np.dtype(variable.dtype).itemsize
        except TypeError:  # bfloat16 and other types numpy does not know
            itemsize = 4
        total += int(np.prod(variable.shape)) * itemsize
    return total


def check_writable(path: str, needed_bytes: int = 0) -> None:
    """Raises `OSError` now if `path` could not be written later.

    Creates the folder, writes and removes a probe file in it, and compares
    the free space the file system reports with `needed_bytes`.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    remove_stale_temporaries(directory)
    probe = temporary_path(os.path.join(directory, "coolkeras-write-probe"))
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    finally:
        with contextlib.suppress(OSError):
            os.remove(probe)
    free = shutil.disk_usage(directory).free
    if free < needed_bytes:
        raise OSError(
            errno.ENOSPC,
            f"{free} bytes free in {directory}, the model's variables alone "
            f"take {needed_bytes} bytes",
        )
