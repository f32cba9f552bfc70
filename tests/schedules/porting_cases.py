"""Cases of the porting guide: an expression of docs/porting.md and its reference.

`case()` registers one; the `porting_*` modules hold them by library, and
`test_porting.py` runs them all.
"""

from pathlib import Path

import numpy as np

from tests.schedules.references import optax_values, torch_values

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "porting.md").read_text()
LATE = [10**6, 30_000_000]
CASES = {}
KERAS = {}  # Keras formulas, checked against Keras itself


def case(name, expression, arguments, reference, last=30, late=True, atol=0.0):
    """`reference(arguments, steps)` gives the float64 values at `steps`."""
    steps = list(range(last + 1)) + (LATE if late else [])
    CASES[name] = (expression, arguments, reference, steps, atol)


def values_of(function):
    """A reference from a float64 function of the step."""
    return lambda a, steps: np.array([function(a, t) for t in steps], "float64")


def optax(make):
    def reference(a, steps):
        import optax as optax_module

        return optax_values(make(optax_module, a), steps)

    return reference


def torch(make, lr="lr"):
    def reference(a, steps):
        from torch.optim import lr_scheduler

        return torch_values(lambda opt: make(lr_scheduler, opt, a), steps, a[lr])

    return reference
