"""Moved to `coolkeras._validation`; this name stays until every importer moves.

`coolkeras/_training_state.py` (changed in parallel) still imports `MAX_STEP`
from here: change that import to `coolkeras._validation` and delete this file.
"""

from coolkeras._validation import MAX_STEP

__all__ = ["MAX_STEP"]
