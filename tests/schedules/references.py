"""Reference values from optax and PyTorch themselves, in float64.

Keras and Hugging Face references are their formulas, written out in float64 in
the tests that use them (transformers is not a test dependency).
"""

import warnings

import numpy as np


def optax_values(schedule, steps):
    """optax `schedule` at each step, computed by JAX in float64."""
    import jax

    with jax.enable_x64(True):
        return np.array([float(schedule(np.int64(t))) for t in steps], "float64")


def torch_values(make, steps, lr=1.0):
    """The learning rate a torch scheduler gives at each step, in float64.

    `make(optimizer)` builds the scheduler. Steps up to 1000 are reached as a
    torch user reaches them, by `step()` after each update; later steps by
    the scheduler's closed form (`step(epoch)`), as stepping 3e7 times would.
    """
    import torch

    def scheduler():
        parameter = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
        optimizer = torch.optim.SGD([parameter], lr=lr)
        return optimizer, make(optimizer)

    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated but exact
        small = [t for t in steps if t <= 1000]
        optimizer, sequential = scheduler()
        for t in range(max(small, default=-1) + 1):
            values[t] = sequential.get_last_lr()[0]
            optimizer.step()
            sequential.step()
        for t in steps:
            if t not in values:
                _, late = scheduler()
                late.step(t)
                values[t] = late.get_last_lr()[0]
    return np.array([values[t] for t in steps], "float64")
