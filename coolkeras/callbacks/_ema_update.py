"""The average's update inside each train step of a model with an `EMAState`.

A step hook of the model's `TrainingState` (see `coolkeras/_training_state.py`):
after Keras' train step, when the step made an optimizer update (the clock
advanced: once per update under gradient accumulation), each slot becomes

    average <- (1 - c) * average + c * w,    c = (1 - d) / mass_new,
    mass_new = d * mass + (1 - d),

with `w` the weights after the update and `d` the decay at the step's clock:
the exact bias-corrected average (bert4keras' zero start divided by
`1 - prod(d)`), kept already divided, so a slot is always usable as weights.
Without bias correction `c = 1 - d`. Before `start_step` the slot follows the
raw weights (`c = 1`). When the callback's countdown reaches this step (the
last of an epoch), the step also swaps the averages into the model's
variables, so everything that reads the model at the epoch end (validation,
`ModelCheckpoint`, `Evaluator`, in any callback order) reads the averages.

On JAX the hook works on the arrays Keras threads through the step; on
TensorFlow and PyTorch on the live variables (in numpy on the host where the
step runs eagerly, as an eager PyTorch step does).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from coolkeras import _keras_internals
from coolkeras import _training_state as training_state
from coolkeras.hyperparameter import Hyperparameter


class AverageUpdate(training_state.StepHook):
    """Updates the averages of `state` (an `EMAState`) in each train step."""

    def __init__(self, state: Any):
        self.state = state
        self._before = None  # the step's values, between before and after

    def _applies(self, kind: str, model: keras.Model) -> bool:
        return (
            kind == "train"
            and model is self.state.owner()
            and self.state.config is not None
            and bool(self.state.slots)
        )

    def before_step(self, kind, args, model):
        if self._applies(kind, model) and keras.backend.backend() != "jax":
            self._before = training_state.own_state(model).step_values(
                kind, args, model
            )
        return args

    def after_step(self, kind, args, result, model):
        if not self._applies(kind, model):
            return result
        clock_state = training_state.own_state(model)
        if keras.backend.backend() == "jax":
            return self._after_jax(clock_state, args, result, model)
        values, self._before = self._before, None
        after = clock_state.updates_tensor()
        # Python numbers at once: a host value may share the memory of a
        # torch tensor that the update overwrites.
        host = [_keras_internals.host_value(x) for x in (
            values.clock, after, self.state.mass, self.state.countdown
        )]
        decay = self._decay(values)
        if all(x is not None for x in host) and not isinstance(decay, _Tensor):
            self._after_host(*(x.item() for x in host), decay)
        else:
            self._after_graph(values.clock, after, decay)
        return result

    # -- the coefficient ----------------------------------------------------------

    def _decay(self, values):
        decay = self.state.config.decay
        if isinstance(decay, Hyperparameter):
            value = values.value(decay)
            host = _keras_internals.host_value(value)
            return _Tensor(value) if host is None else min(max(float(host), 0.0), 1.0)
        return decay

    def _coefficients(self, clock, after, mass, decay):
        """(c, new mass, did this step update the optimizer) as tensors."""
        config = self.state.config
        if isinstance(decay, _Tensor):
            decay = ops.clip(ops.cast(decay.value, "float32"), 0.0, 1.0)
        did = ops.greater(after, clock)
        active = ops.logical_and(did, ops.greater_equal(clock, config.start_step))
        if config.debias:
            new_mass = decay * mass + (1.0 - decay)
            rate = ops.where(
                new_mass > 0, (1.0 - decay) / ops.maximum(new_mass, 1e-30), 1.0
            )
        else:
            new_mass, rate = mass, 1.0 - decay + ops.zeros((), "float32")
        rate = ops.where(active, rate, ops.where(did, 1.0, 0.0))
        return rate, ops.where(active, new_mass, mass)

    # -- JAX: the arrays of the step ----------------------------------------------

    def _after_jax(self, clock_state, args, result, model):
        logs, new = result
        values = clock_state.step_values("train", args, model)
        after = clock_state.step_values("train", (new, args[1]), model).clock
        trainable, non_trainable = list(new[0]), list(new[1])
        t_index = {id(v): i for i, v in enumerate(model.trainable_variables)}
        n_index = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
        state = self.state
        mass = non_trainable[n_index[id(state.mass)]]
        countdown = non_trainable[n_index[id(state.countdown)]]
        rate, new_mass = self._coefficients(
            values.clock, after, mass, self._decay(values)
        )
        last = ops.equal(countdown, 1)
        for variable, slot in state.pairs():
            if id(variable) in t_index:
                arrays, i = trainable, t_index[id(variable)]
            else:
                arrays, i = non_trainable, n_index[id(variable)]
            weights = arrays[i]
            average = _mix(non_trainable[n_index[id(slot)]], weights, rate)
            arrays[i] = ops.where(last, average, weights)
            non_trainable[n_index[id(slot)]] = ops.where(last, weights, average)
        non_trainable[n_index[id(state.mass)]] = new_mass
        non_trainable[n_index[id(state.countdown)]] = ops.maximum(countdown - 1, 0)
        swapped = n_index[id(state.swapped)]
        non_trainable[swapped] = ops.where(last, 1, non_trainable[swapped])
        return logs, (trainable, non_trainable, *new[2:])

    # -- TensorFlow / PyTorch: the live variables ----------------------------------

    def _after_host(self, clock, after, mass, countdown, decay):
        """An eager step: scalars in Python, one fused update per variable."""
        config, state = self.state.config, self.state
        clock, after, mass = int(clock), int(after), float(mass)
        if after > clock:
            if clock >= config.start_step:
                if config.debias:
                    new_mass = decay * mass + (1.0 - decay)
                    rate = (1.0 - decay) / new_mass if new_mass > 0 else 1.0
                    state.mass.assign(new_mass)
                else:
                    rate = 1.0 - decay
            else:
                rate = 1.0
            for variable, slot in state.pairs():
                slot.assign(_mix(slot.value, variable.value, rate))
        if int(countdown) > 0:
            state.countdown.assign(int(countdown) - 1)
            if int(countdown) == 1:
                state.swap()

    def _after_graph(self, clock, after, decay):
        """A traced step (`tf.function`, `torch.compile`)."""
        state = self.state
        countdown = state.countdown.value
        rate, new_mass = self._coefficients(
            clock, after, state.mass.value, decay
        )
        state.mass.assign(new_mass)
        last = ops.equal(countdown, 1)
        state.countdown.assign(ops.maximum(countdown - 1, 0))
        averages = [_mix(s.value, v.value, rate) for v, s in state.pairs()]

        def swap_in():
            for (variable, slot), average in zip(state.pairs(), averages, strict=True):
                slot.assign(variable.value)
                variable.assign(average)
            state.swapped.assign(1)
            return ops.zeros(())

        def keep():
            for (_, slot), average in zip(state.pairs(), averages, strict=True):
                slot.assign(average)
            return ops.zeros(())

        ops.cond(last, swap_in, keep)


class _Tensor:
    """A decay known only as a tensor (inside a trace)."""

    def __init__(self, value):
        self.value = value


def _mix(average, weights, rate):
    """`(1 - rate) * average + rate * weights`, exact at rate 0 and 1."""
    dtype = keras.backend.standardize_dtype(weights.dtype)
    if dtype in ("float16", "bfloat16"):
        result = _mix(ops.cast(average, "float32"), ops.cast(weights, "float32"), rate)
        return ops.cast(result, dtype)
    if not isinstance(rate, float):
        rate = ops.cast(rate, dtype)
    return (1.0 - rate) * average + rate * weights
