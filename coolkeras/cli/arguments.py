"""Argument types of the command line: each refuses a bad value with its reason.

argparse turns an `ArgumentTypeError` into `argument --flag: <message>`, so every
message here says what the flag needs and what it received. Standard library
only: the command line checks its arguments before Keras is imported.
"""

from __future__ import annotations

import argparse
import math
import os

_FLOAT32_MAX = 3.4028234663852886e38


def _received(text: str) -> str:
    """The value as typed: bare when it reads as a number, quoted otherwise."""
    try:
        float(text)
    except ValueError:
        return repr(text)
    return text


def _error(requirement: str, text: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(
        f"must be {requirement} (received {_received(text)})"
    )


def _integer(text: str, requirement: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _error(requirement, text) from None


def _finite(text: str, requirement: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _error(requirement, text) from None
    if not math.isfinite(value):
        raise _error(requirement, text)
    return value


def epochs(text: str) -> int:
    """An integer >= 1."""
    value = _integer(text, "an integer >= 1")
    if value < 1:
        raise _error("an integer >= 1", text)
    return value


def seed(text: str) -> int:
    """An integer in [0, 2**32 - 1], the range NumPy and scikit-learn accept."""
    requirement = "an integer in [0, 4294967295]"
    value = _integer(text, requirement)
    if not 0 <= value < 2**32:
        raise _error(requirement, text)
    return value


def center_weight(text: str) -> float:
    """λ: a number >= 0 that float32 holds (a larger one is inf in the loss)."""
    requirement = "a number in [0, 3.4e38] (float32)"
    value = _finite(text, requirement)
    if not 0 <= value <= _FLOAT32_MAX:
        raise _error(requirement, text)
    return value


def center_alpha(text: str) -> float:
    """α: a number in (0, 1]."""
    value = _finite(text, "a number in (0, 1]")
    if not 0 < value <= 1:
        raise _error("a number in (0, 1]", text)
    return value


def data_source(text: str) -> str:
    """'digits', 'mnist', or a path to a `.npz` file (checked when read)."""
    if text in ("digits", "mnist") or text.lower().endswith(".npz"):
        return text
    if os.path.isfile(text):
        return text  # a file by another name: read as .npz, refused if it is not
    raise argparse.ArgumentTypeError(
        f"must be 'digits', 'mnist' or a path to an .npz file (received {text!r})"
    )


def output_folder(text: str) -> str:
    """A folder that exists or can be created (nothing is created here)."""
    if not text:
        raise argparse.ArgumentTypeError("must name a folder (received '')")
    path = os.path.abspath(text)
    if os.path.exists(path) and not os.path.isdir(path):
        raise argparse.ArgumentTypeError(
            f"is an existing file, not a folder (received {text!r})"
        )
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise argparse.ArgumentTypeError(
            f"cannot be created: {existing!r} is a file (received {text!r})"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot be written: no permission in {existing!r} (received {text!r})"
        )
    return text
