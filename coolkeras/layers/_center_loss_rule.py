"""The paper's center update rule: batch statistics, accumulation, the update.

c_j ← c_j − α·(n_j·c_j − s_j) / (1 + n_j), with n_j the (weighted) count of
class `j` in the batch and s_j the (weighted) sum of its features: the rule of
Wen et al. (ECCV 2016), Σ_{i: y_i=j}(c_j − f_i) = n_j·c_j − s_j.

Under `gradient_accumulation_steps=k` the optimizer updates the weights on
every k-th micro-batch, with the mean of the k gradients. The rule follows it:
n_j and s_j are summed over the k micro-batches of one update in the layer's
state and the centers move once, on the micro-batch where the optimizer
updates (its raw counter `r` has `(r + 1) % k == 0`), as if the k micro-batches
were one batch. The first micro-batch of an update starts the sums afresh, so
a new optimizer (whose counter restarts) also restarts them, as Keras restarts
its accumulated gradients.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
from keras import ops

from coolkeras import _keras_internals
from coolkeras._training_state import StepHook


class PaperRuleState(keras.layers.Layer):
    """The paper rule's accumulated counts and sums, and the micro-batch counter.

    State, not weights (as an optimizer's accumulated gradients are not):
    `get_weights()` and `EarlyStopping(restore_best_weights=True)` leave it
    alone; `save`, `save_weights` and `BackupAndRestore` keep it.
    """

    def __init__(self, classes: int, dim: int, **kwargs: Any):
        super().__init__(trainable=False, **kwargs)
        # autocast=False: float32 sums under mixed precision (see LossLayer).
        self.counts = self.add_weight(
            shape=(classes,),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            name="counts",
        )
        self.sums = self.add_weight(
            shape=(classes, dim),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,
            name="sums",
        )
        # The optimizer's raw (micro-batch) counter at the start of the step,
        # written by `MicroBatchHook` on JAX, whose loss cannot read it.
        self.micro_batch = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            name="micro_batch",
        )
        self.built = True

    @property
    def weights(self) -> list:
        return []

    def load_own_variables(self, store) -> None:
        # Files saved before this state existed have none: start from zeros.
        variables = [self.counts, self.sums, self.micro_batch]
        for i, variable in enumerate(variables):
            if str(i) in store:
                variable.assign(store[str(i)])


class MicroBatchHook(StepHook):
    """Copies the optimizer's raw counter into `PaperRuleState.micro_batch` at
    the start of each JAX train step (the loss phase of a JAX step does not see
    the optimizer's variables)."""

    def __init__(self, state: PaperRuleState):
        self._state = weakref.ref(state)

    def before_step(self, kind: str, args: tuple, model: keras.Model) -> tuple:
        state = self._state()
        optimizer = getattr(model, "optimizer", None)
        if kind != "train" or state is None or optimizer is None:
            return args
        counter = _keras_internals.optimizer_batch_counter(optimizer)
        (trainable, non_trainable, optimizer_values, *rest), data = args
        position = [id(v) for v in optimizer.variables].index(id(counter))
        index = [id(v) for v in model.non_trainable_variables]
        if id(state.micro_batch) not in index:
            return args
        non_trainable = list(non_trainable)
        non_trainable[index.index(id(state.micro_batch))] = ops.cast(
            optimizer_values[position], "int32"
        )
        return ((trainable, non_trainable, optimizer_values, *rest), data)


def batch_statistics(membership, features):
    """Weighted class counts `(classes,)` and feature sums `(classes, dim)` of
    the global batch (summed over `tf.distribute` replicas, whose copies of the
    centers must move alike)."""
    counts = ops.sum(membership, axis=0)
    sums = ops.matmul(ops.transpose(membership), features)
    return _keras_internals.sum_over_replicas([counts, sums])


def apply(layer, counts, sums, micro_batch=None, steps: int = 1) -> None:
    """Moves `layer.centers` by the rule; with `steps > 1`, accumulates first and
    moves only on the last micro-batch of an update."""
    centers = ops.cast(layer.centers.value, "float32")
    if steps > 1:
        state = layer.paper_state
        phase = ops.mod(micro_batch, steps)
        first = ops.equal(phase, 0)
        counts = ops.where(first, counts, state.counts.value + counts)
        sums = ops.where(first, sums, state.sums.value + sums)
        state.counts.assign(counts)
        state.sums.assign(sums)
    counts = counts[:, None]
    moved = centers - layer.alpha * (counts * centers - sums) / (1.0 + counts)
    if steps > 1:
        moved = ops.where(ops.equal(phase, steps - 1), moved, centers)
    layer.centers.assign(ops.cast(moved, layer.centers.dtype))
