"""The values of a model's hyperparameters inside one train, test or predict step.

A step of an attached model opens a `StepValues` before Keras' own step runs
and closes it after. It holds, as tensors of that step, the model's clock (the
number of optimizer updates so far) and each hyperparameter's settings, read
from the step's own state: on JAX from the state arrays Keras threads through
the compiled step, elsewhere from the variables. Every read of a
hyperparameter inside the step (forward pass, loss, metrics, optimizer update,
constraints) then sees the values of this step, whichever Keras scope it runs
in, so nothing depends on which variables a backend maps where.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

_LOCAL = threading.local()


class StepValues:
    """The clock and settings of one step, and the values computed from them.

    Args:
        state: the `TrainingState` of the model whose step this is.
        clock: the update count at the start of the step (scalar int32).
        settings: the settings tensor `[scale, assigned, is_assigned]` of each
            hyperparameter, by hyperparameter.
        learning_rate: the hyperparameter the model's optimizer uses as its
            learning rate, if any.
        precompute: compute every value at once, now (traced steps: a value
            first computed inside a gradient trace could not be used outside
            it); otherwise on first use (eager steps).
        kind: the kind of step: `"train"`, `"test"` or `"predict"`.
    """

    def __init__(
        self,
        state: Any,
        clock: Any,
        settings: dict,
        learning_rate: Any = None,
        precompute: bool = True,
        kind: str = "train",
    ):
        self.state = state
        self.kind = kind
        self.clock = clock
        self.settings = settings
        self.learning_rate = learning_rate
        self._values: dict = {}
        if precompute:
            for hyperparameter in settings:
                self.value(hyperparameter)

    def has(self, hyperparameter: Any) -> bool:
        return hyperparameter in self.settings

    def value(self, hyperparameter: Any):
        value = self._values.get(hyperparameter)
        if value is None:
            value = hyperparameter._evaluate(
                self.clock, self.settings[hyperparameter]
            )
            self._values[hyperparameter] = value
        return value


def current() -> StepValues | None:
    """The values of the step under way in this thread, if any."""
    stack = getattr(_LOCAL, "stack", None)
    return stack[-1] if stack else None


@contextlib.contextmanager
def active(values: StepValues):
    """Makes `values` the current step's values for the duration of the block."""
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack.append(values)
    try:
        yield values
    finally:
        stack.pop()
