"""The one place where coolkeras touches Keras internals or a backend directly.

Everything here reads or works around private Keras 3.15 machinery, or asks a
backend (jax, tensorflow, torch) something `keras.ops` cannot answer. Each
function has its own test in `tests/test_keras_internals.py`, so a Keras upgrade
that moves one of these breaks exactly one module and one test file. The other
modules of coolkeras use public Keras APIs only.

The private names used, for `docs/design/state.md`: `keras.src.backend`
(`in_stateless_scope`, `get_stateless_scope`, `in_symbolic_scope`),
`keras.src.backend.common.global_state` (the layer call context, the global
seed generator), `keras.src.random.seed_generator`,
`keras.src.saving.serialization_lib.in_safe_mode`, `Optimizer._learning_rate`,
`Optimizer._iterations`, `Trainer._compile_config`, PyTorch's `Variable._value`
and `keras.src.backend.torch.core.get_device`, `Layer._tracker`,
`Trainer.jax_state_sync`, `Layer._flatten_layers`, JAX's
`jax._src.core.trace_ctx` and TensorFlow's `tensorflow.python.eager.record`.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import sys

import keras
import numpy as np
from keras.src import backend as _backend
from keras.src.backend.common import global_state as _global_state
from keras.src.random import seed_generator as _seed_generator
from keras.src.saving import serialization_lib as _serialization_lib


def in_safe_mode() -> bool:
    """Whether the deserialization under way runs with `safe_mode=True`.

    Keras sets a global flag for the duration of `load_model(..., safe_mode=...)`;
    outside a load, the flag is unset and Keras treats that as safe.
    """
    return _serialization_lib.in_safe_mode() is not False


def is_unmapped_in_stateless_scope(variable: keras.Variable) -> bool:
    """True when `variable` is read inside a stateless scope that does not map it.

    During JAX `fit`, Keras runs parts of the train step in a `StatelessScope` that
    maps only some variables; reading any other variable there yields a value frozen
    at trace time (or a purged placeholder), not its current value.
    """
    if not _backend.in_stateless_scope():
        return False
    scope = _backend.get_stateless_scope()
    return scope.get_current_value(variable) is None


def in_symbolic_build() -> bool:
    """True while Keras runs a layer on symbolic inputs to infer output shapes."""
    return _backend.in_symbolic_scope()


def sync_training_state(model: keras.Model | None) -> None:
    """Writes the state a JAX `fit` holds outside the variables back into them.

    During JAX `fit`, the current weights live in the trainer, not in the
    variables; Keras syncs them when a callback touches `callback.model`. Code
    that reads or assigns model-owned variables from a callback must sync first,
    and the sync also makes the next train step re-read the variables.
    """
    if model is not None and keras.backend.backend() == "jax":
        sync = getattr(model, "jax_state_sync", None)
        if sync is not None:
            sync()


def inner_optimizer(optimizer: keras.optimizers.Optimizer):
    """The optimizer that holds the learning rate and counts the updates.

    Under a `mixed_float16` policy, `compile` wraps the user's optimizer in a
    `LossScaleOptimizer`, which delegates both to its `inner_optimizer`.
    """
    while isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = optimizer.inner_optimizer
    return optimizer


def optimizer_learning_rate_object(optimizer: keras.optimizers.Optimizer):
    """The object the optimizer evaluates: a float variable, schedule or callable.

    `optimizer.learning_rate` returns the current *value*; the schedule object
    behind it is only reachable through a private attribute.
    """
    return inner_optimizer(optimizer)._learning_rate


def set_learning_rate_object(optimizer: keras.optimizers.Optimizer, schedule) -> None:
    """Replaces the optimizer's learning-rate schedule by another schedule.

    The public setter `optimizer.learning_rate = schedule` evaluates the current
    learning rate on TensorFlow (its attribute tracking reads the property),
    which a `by_epoch` schedule cannot do before `fit` tells it its epoch length.
    """
    inner_optimizer(optimizer)._learning_rate = schedule


STEP_NAMES = ("train_step", "test_step", "predict_step")


def forget_compiled_functions(model: keras.Model) -> None:
    """Makes the next `fit`/`evaluate`/`predict` trace the step functions again.

    On JAX, emptying `train_function` is not enough: `jax.jit` keeps the trace
    of a function object, and Keras jits `self.train_step` again, the same
    instance attribute when coolkeras wraps the step, so a change that only
    Python sees (no new variable) would not be traced. Each wrapped step is
    replaced by a new function object that calls the same step.
    """
    model.train_function = None
    model.test_function = None
    model.predict_function = None
    if keras.backend.backend() != "jax":
        return
    for name in STEP_NAMES:
        step = model.__dict__.get(name)
        if step is not None:
            object.__setattr__(model, name, _fresh(step))


def _fresh(step):
    base = getattr(step, "_coolkeras_step", step)

    def fresh_step(*args):
        return base(*args)

    fresh_step._coolkeras_step = base
    return fresh_step


def calling_callback_list(callback: keras.callbacks.Callback):
    """The `keras.callbacks.CallbackList` that is calling `callback` right now.

    `fit` wraps its callbacks in a `CallbackList` and never hands that list to
    the callbacks. A callback method called by the list (`set_model`,
    `on_train_begin`, ...) finds it up the stack: the nearest frame of a method
    of a `CallbackList` that holds `callback`, however many frames (overriding
    subclass methods, decorators) stand in between. Returns `None` when no such
    list is calling (for example a custom training loop that calls the
    callback directly).
    """
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.callbacks.CallbackList) and any(
            c is callback for c in getattr(owner, "callbacks", ())
        ):
            return owner
        frame = frame.f_back
    return None


def backup_resume_epoch(backup: keras.callbacks.BackupAndRestore) -> int | None:
    """The epoch at which `fit` resumes from `backup`'s checkpoint, or `None`.

    `BackupAndRestore` writes its weights, then a small JSON file whose
    `"epoch"` is the epoch a resumed `fit` starts at; its path and format are
    private. `None` when there is no checkpoint (or it cannot be read, in which
    case `BackupAndRestore` itself reports the problem).
    """
    path = backup._training_metadata_path
    try:
        with open(path, encoding="utf-8") as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def global_seed_generator_state():
    """The state of Keras' global seed generator as numpy, or `None` if unused.

    Random ops called without `seed=` draw from a global `SeedGenerator` that
    Keras creates lazily; each eager draw advances its state. That generator
    cannot be used while JAX traces a function, so a change of this state around
    an eager call reveals an unseeded random op that would fail under JAX `jit`.
    """
    generator = _global_state.get_global_attribute(
        _seed_generator.GLOBAL_SEED_GENERATOR
    )
    if generator is None:
        return None
    return keras.ops.convert_to_numpy(generator.state.value).copy()


def optimizer_batch_counter(optimizer: keras.optimizers.Optimizer) -> keras.Variable:
    """The optimizer's raw step variable, counting batches (micro-batches).

    With `gradient_accumulation_steps`, the public `optimizer.iterations` counts
    updates (`_iterations // steps`); learning-rate schedules are evaluated at
    this raw count. Under a `LossScaleOptimizer`, the inner optimizer's.
    """
    return inner_optimizer(optimizer)._iterations


def compile_arguments(model: keras.Model) -> dict:
    """The live objects the model was compiled with (loss, metrics, weights...).

    `model.get_compile_config()` serializes them; the objects themselves are
    kept in a private `SerializableDict`.
    """
    compile_config = getattr(model, "_compile_config", None)
    return dict(getattr(compile_config, "config", None) or {})


def all_layers(model: keras.Model) -> list:
    """Every layer inside `model` at any depth (sublayers of custom layers and
    of nested models included), without `model` itself."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def call_entry():
    """The outermost layer whose call is running now, or `None`.

    Keras keeps a call context for the outermost layer call under way; inside
    a model's forward pass (including the symbolic build `fit` and `evaluate`
    start with), its entry layer is that model. While a functional model is
    being constructed, it is the layer being called on symbolic inputs.
    """
    context = _global_state.get_global_attribute("current_call_ctx")
    return getattr(context, "entry_layer", None)


def in_compiled_trace() -> bool:
    """True while a backend traces a function: `jax.jit`, `tf.function`,
    `torch.compile` (values read now become constants of the compiled code,
    unless they are tensors the function receives or, on TensorFlow and
    PyTorch, variables)."""
    backend = keras.backend.backend()
    if backend == "jax":
        from jax._src import core as jax_core

        return not jax_core.trace_ctx.is_top_level()
    if backend == "tensorflow":
        import tensorflow as tf

        return not tf.executing_eagerly()
    if backend == "torch":
        import torch

        return bool(torch.compiler.is_compiling())
    return False


def recording_gradients(tensor) -> bool:
    """True when gradients with respect to `tensor` are being recorded.

    That is, `tensor` is being computed in a training step: inside
    `jax.grad`/`jax.value_and_grad`, a `tf.GradientTape`, or with PyTorch's
    autograd on a tensor that requires gradients (`evaluate` and `predict`
    record none).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        from jax._src import core as jax_core

        trace = type(jax_core.trace_ctx.trace).__name__
        return trace in ("JVPTrace", "LinearizeTrace")
    if backend == "tensorflow":
        from tensorflow.python.eager import record

        return bool(record.could_possibly_record())
    if backend == "torch":
        import torch

        return bool(
            torch.is_grad_enabled()
            and isinstance(tensor, torch.Tensor)
            and tensor.requires_grad
        )
    return False


def track_layer(model: keras.Model, name: str, layer: keras.layers.Layer) -> None:
    """Makes `model` own `layer`'s variables without calling it.

    A functional or subclassed model tracks a layer assigned as an attribute.
    A `Sequential` model treats every layer it tracks as part of its stack, so
    there the layer is tracked by the stack's last layer instead. Either way
    its variables are in `model.variables` (so JAX threads them through the
    train step) and `save_weights`/`load_weights` keep them.
    """
    owner = model
    if isinstance(model, keras.Sequential):
        if not model.layers:
            raise ValueError(
                f"Sequential model '{model.name}' has no layers to hold "
                "coolkeras' training state; add its layers first."
            )
        owner = model.layers[-1]
    set_tracked_attribute(owner, name, layer)


def wrap_method(obj, name: str, make_wrapper) -> None:
    """Replaces `obj.name` by `make_wrapper(original)` on this instance only.

    Keras looks its trainer methods up on the instance (`self.train_step`,
    `self.compile`), so an instance attribute takes effect for every later
    call, including calls from a subclass's own overrides. The original bound
    method stays reachable as `obj.__dict__["_coolkeras_original_" + name]`.
    """
    original = getattr(obj, name)
    obj.__dict__["_coolkeras_original_" + name] = original
    wrapper = make_wrapper(original)
    object.__setattr__(obj, name, wrapper)


@contextlib.contextmanager
def unlocked(layer: keras.layers.Layer):
    """Lets a built layer take new state (`add_weight`, tracked attributes).

    Keras locks a built layer against new state; it unlocks its own tracker the
    same way when it adds quantization variables.
    """
    tracker = getattr(layer, "_tracker", None)
    locked = bool(tracker is not None and tracker.locked)
    if locked:
        tracker.unlock()
    try:
        yield layer
    finally:
        if locked:
            tracker.lock()


def set_tracked_attribute(layer: keras.layers.Layer, name: str, value) -> None:
    """Sets an attribute that Keras tracks, even on a layer that is already built."""
    with unlocked(layer):
        setattr(layer, name, value)


def sum_over_replicas(values: list) -> list:
    """Sums each tensor of `values` over the replicas of a `tf.distribute` step.

    Under `tf.distribute.MirroredStrategy`, Keras runs the train step once per
    replica on its slice of the global batch, and a non-trainable variable
    (Keras creates them with `aggregation="none"`) assigned there is updated
    per replica: the copies silently diverge. A layer that updates state from
    batch statistics must first sum them over the replicas, so that every
    replica assigns the same global-batch value. Elsewhere (no strategy, JAX
    `keras.distribution`, which traces one global computation, and PyTorch)
    the values are returned unchanged.
    """
    if keras.backend.backend() != "tensorflow":
        return list(values)
    import tensorflow as tf

    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return list(values)
    context = tf.distribute.get_replica_context()
    return list(context.all_reduce(tf.distribute.ReduceOp.SUM, list(values)))


def host_value(x) -> np.ndarray | None:
    """`x` as a numpy array when its value is known on the host now, else `None`.

    Known now: a Python or numpy number, or an eager tensor (or variable) on the
    CPU. Not known: a JAX tracer, a tensor inside `tf.function`, a tensor while
    `torch.compile` traces, a KerasTensor, and any tensor on an accelerator (the
    transfer would stall the device queue at every step). Callers compute with
    the numpy value and fall back to `keras.ops` on `None`.
    """
    if isinstance(x, (numbers.Number, np.generic, np.ndarray)):
        return None if isinstance(x, (bool, np.bool_)) else np.asarray(x)
    if isinstance(x, keras.Variable):
        x = x.value
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        if (
            isinstance(x, torch.Tensor)
            and x.device.type == "cpu"
            and not torch.compiler.is_compiling()
        ):
            return x.detach().numpy()
    elif backend == "jax":
        import jax

        if (
            isinstance(x, jax.Array)
            and not isinstance(x, jax.core.Tracer)
            and all(device.platform == "cpu" for device in x.devices())
        ):
            return np.asarray(x)
    elif backend == "tensorflow":
        import tensorflow as tf

        if isinstance(x, tf.Variable):
            x = x.value()
        if (
            tf.executing_eagerly()
            and isinstance(x, tf.Tensor)
            and hasattr(x, "numpy")
            and "CPU" in x.device
        ):
            return x.numpy()
    return None


def scalar_tensor(value: np.floating):
    """A float32 scalar tensor from a host number, on Keras' default device.

    On eager PyTorch, `keras.ops.convert_to_tensor` costs ~25 µs per call
    (dtype standardization, device lookup); a step reads each hyperparameter
    through this, so there it is `torch.tensor` on Keras' device (~3 µs).
    """
    if keras.backend.backend() == "torch":
        import torch
        from keras.src.backend.torch.core import get_device

        return torch.tensor(float(value), dtype=torch.float32, device=get_device())
    return keras.ops.convert_to_tensor(value, "float32")


def host_int(variable: keras.Variable) -> int:
    """An integer variable's value on the host, outside any trace.

    On PyTorch, the variable's storage tensor (`_value`) is read directly; the
    public `value` property costs ~10 µs of dtype and autocast checks.
    """
    if keras.backend.backend() == "torch":
        return int(variable._value.item())
    return int(read_eagerly(variable))


def assign_add(variable: keras.Variable, amount) -> None:
    """`variable.assign_add(amount)`, in place on PyTorch.

    On eager PyTorch, Keras' `assign_add` costs ~17 µs (it converts the sum
    and checks its shape and dtype); an in-place add of the variable's storage
    costs ~4 µs. The in-place add is used on PyTorch (eager, or traced by
    `torch.compile`, where Keras' own assign is an in-place copy too) outside
    a stateless scope, on a float variable, with `amount` a number or a
    tensor on the variable's device (not the meta tensors of a symbolic
    call); everywhere else, Keras' `assign_add` runs. It also adds to an
    autocast variable under mixed precision, where Keras 3.15's `assign_add`
    on PyTorch writes into the float16 copy it reads and loses the update.
    """
    if not _added_in_place(variable, amount):
        variable.assign_add(amount)


def _added_in_place(variable: keras.Variable, amount) -> bool:
    if keras.backend.backend() != "torch" or _backend.in_stateless_scope():
        return False
    import torch

    storage = variable._value
    if not storage.is_floating_point() or (
        isinstance(amount, torch.Tensor) and amount.device != storage.device
    ):
        return False  # Keras converts the amount (an int counter, the meta device)
    with torch.no_grad():
        storage.add_(amount)
    return True


def read_eagerly(variable: keras.Variable) -> np.ndarray:
    """The variable's current value as numpy, also while TensorFlow traces a
    `tf.function` (there, from outside the graph: `tf.init_scope`)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.init_scope():
            return np.asarray(variable.value.numpy())
    value = host_value(variable)
    if value is None:
        value = keras.ops.convert_to_numpy(variable.value)
    return np.asarray(value)


def reduce_loss(values, sample_weight, reduction: str, dtype):
    """Reduces per-sample loss values the way a Keras `Loss` does.

    Applies `sample_weight` (broadcast to the values' rank), then `reduction`,
    and under a `tf.distribute` strategy divides by the number of replicas, as
    `keras.losses.Loss.__call__` does. For a loss that overrides `__call__` to
    see `sample_weight`.
    """
    from keras.src.losses import loss as _loss

    return _loss.reduce_weighted_values(
        values, sample_weight=sample_weight, reduction=reduction, dtype=dtype
    )


def keras_history(tensor):
    """`(operation, node_index, tensor_index)` of the call that made a symbolic
    tensor (an `Input`'s is its `InputLayer`), or `None` for other values."""
    history = getattr(tensor, "_keras_history", None)
    if history is None or history.operation is None:
        return None
    return tuple(history)


def depends_on(tensor, other) -> bool:
    """Whether the symbolic `tensor` is computed from the symbolic `other`.

    Walks the functional graph upward from `tensor` through the nodes Keras
    records when a layer is called on symbolic tensors.
    """
    target = keras_history(other)
    stack, seen = [tensor], set()
    while stack:
        current = stack.pop()
        history = keras_history(current)
        if current is other or (history is not None and history == target):
            return True
        if history is None:
            continue
        operation, node_index, _ = history
        if (id(operation), node_index) in seen:
            continue
        seen.add((id(operation), node_index))
        stack.extend(operation._inbound_nodes[node_index].input_tensors)
    return False


def child_layers(layer: keras.layers.Layer) -> list:
    """The layers `layer` tracks directly (a model's layers, a layer's sublayers)."""
    return list(layer._flatten_layers(include_self=False, recursive=False))
