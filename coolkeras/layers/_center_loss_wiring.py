"""How a `CenterLoss` layer, its loss and the model they train in find each other.

No process-wide state: the loss holds its layer (`layer.loss()`), or, read
from a file, the layer's path inside the model. The binding is made, and the
wiring checked, in the layer's `call` during the first forward pass of the
model compiled with the loss (the symbolic build `fit` and `evaluate` start
with on JAX and PyTorch, the first traced step on TensorFlow), before any
variable changes: the layer finds the model whose forward pass runs, the
model outputs it produces, and the compiled loss of each of them. The loss
of such an output must be a `CenterLossObjective`; one read from a file binds
to this layer, one made by another layer is refused.
"""

from __future__ import annotations

import weakref

import keras

from coolkeras import _keras_internals


def check_order(layer, head, features) -> None:
    """Refuses `[features, head]`: the head must not be computed from features."""
    if _keras_internals.depends_on(features, head):
        raise ValueError(
            f"`CenterLoss` layer '{layer.name}' expects `[head, features]`, the "
            "classifier output first, but its second input is computed from its "
            "first: the inputs look reversed. Call it as `layer([logits, "
            f"features])`. Received: inputs=[{head!r}, {features!r}]"
        )


def layer_path(model, layer) -> str | None:
    """The names from `model` down to `layer`, joined by "/"."""
    stack = [(model, ())]
    while stack:
        parent, path = stack.pop()
        for child in _keras_internals.child_layers(parent):
            if child is layer:
                return "/".join((*path, child.name))
            stack.append((child, (*path, child.name)))
    return None


def resolve(model, path: str) -> list:
    """The `CenterLoss` layers of `model` at `path`; a bare name matches at any
    depth (a loss saved before its model ever ran knows only the name)."""
    from coolkeras.layers.center_loss import CenterLoss

    found = [
        layer
        for layer in _keras_internals.all_layers(model)
        if isinstance(layer, CenterLoss) and layer_path(model, layer) == path
    ]
    if found or "/" in path:
        return found
    return [
        layer
        for layer in _keras_internals.all_layers(model)
        if isinstance(layer, CenterLoss) and layer.name == path
    ]


def _produced_by(tensor, layer) -> bool:
    """Whether the model output `tensor` is `layer`'s output (also through
    nested models)."""
    while True:
        history = _keras_internals.keras_history(tensor)
        if history is None:
            return False
        operation, _, index = history
        if operation is layer:
            return True
        outputs = _outputs(operation) if isinstance(operation, keras.Model) else None
        if not outputs:
            return False
        tensor = outputs[index]


def _outputs(model) -> list | None:
    try:
        return list(model.outputs or [])
    except (AttributeError, ValueError):  # a subclassed model has no graph
        return None


def _losses_by_output(model, count: int) -> list | None:
    """The compiled loss of each flat model output, `None` where unknown."""
    loss = model.loss
    if not keras.tree.is_nested(loss):
        return [loss] * count
    if isinstance(loss, (list, tuple)) and len(loss) == count:
        if not any(keras.tree.is_nested(item) for item in loss):
            return list(loss)
    if isinstance(loss, dict):
        structure = model.output
        if isinstance(structure, dict):
            keys = [path[0] for path, _ in keras.tree.flatten_with_path(structure)]
        else:
            keys = list(getattr(model, "output_names", None) or [])
        if len(keys) == count:
            return [loss.get(key) for key in keys]
    return None


class _Checked:
    """The model, loss and optimizer a layer's wiring was last checked for (a
    plain object: Keras' saving walks a layer's attributes and would follow a
    tuple or list into the model's losses)."""

    __slots__ = ("model", "loss", "optimizer")

    def __init__(self, model: keras.Model):
        self.model = weakref.ref(model)
        self.loss = model.loss
        self.optimizer = model.optimizer

    def holds(self, model: keras.Model) -> bool:
        return (
            self.model() is model
            and self.loss is model.loss
            and self.optimizer is model.optimizer
        )


def bind(layer, model: keras.Model) -> None:
    """Binds and checks the losses of `layer`'s outputs in `model` (once per
    model, loss and optimizer: an eager step pays one comparison)."""
    checked = layer.__dict__.get("_coolkeras_wiring")
    if checked is not None and checked.holds(model):
        return
    if model.loss is not None:
        _bind(layer, model)
    object.__setattr__(layer, "_coolkeras_wiring", _Checked(model))


def _bind(layer, model: keras.Model) -> None:
    from coolkeras.layers.center_loss_objective import CenterLossObjective

    steps = int(
        _keras_internals.inner_optimizer(model.optimizer).gradient_accumulation_steps
        or 1
    )
    path = layer_path(model, layer)
    outputs = _outputs(model)
    losses = None if outputs is None else _losses_by_output(model, len(outputs))
    if losses is None:  # no graph: bind the losses that name this layer
        for loss in keras.tree.flatten(model.loss):
            if not isinstance(loss, CenterLossObjective):
                continue
            if loss.layer is None and any(
                found is layer for found in resolve(model, loss.path)
            ):
                _check_unique(model, loss.path)
                loss._bind(layer, model, path, steps)
            elif loss.layer is layer:
                loss._bind(layer, model, path, steps)
        if steps > 1 and layer.update == "paper":
            _count_micro_batches(layer, model)
        return
    mine = [i for i, tensor in enumerate(outputs) if _produced_by(tensor, layer)]
    if not mine:
        raise ValueError(
            f"The output of `CenterLoss` layer '{path}' must be an output of the "
            f"model that trains it, compiled with `layer.loss()`, but model "
            f"'{model.name}' does not output it. Received: outputs={outputs}"
        )
    for index in mine:
        loss = losses[index]
        if not isinstance(loss, CenterLossObjective):
            raise ValueError(
                f"Output {index} of model '{model.name}' is the joined output of "
                f"`CenterLoss` layer '{path}', so its loss must be `layer.loss()` "
                "(it splits the output, computes the classification loss and the "
                "center term, and updates the centers); the loss given would train "
                f"without the center term. Received: loss={loss!r}"
            )
        if loss.layer is not None and loss.layer is not layer:
            raise ValueError(
                f"Output {index} of model '{model.name}' comes from `CenterLoss` "
                f"layer '{path}', but its loss was made by another `CenterLoss` "
                f"layer, '{loss.layer.name}' (of another model, or another output "
                "of this one): use this layer's `loss()`. Received: "
                f"loss={loss!r}"
            )
        loss._bind(layer, model, path, steps)
    if steps > 1 and layer.update == "paper":
        _count_micro_batches(layer, model)


def _check_unique(model, path: str) -> None:
    found = resolve(model, path)
    if len(found) > 1:
        paths = sorted(layer_path(model, layer) for layer in found)
        raise ValueError(
            f"The loss saved for `CenterLoss` layer '{path}' matches "
            f"{len(found)} layers of model '{model.name}' ({paths}): it was saved "
            "before its model ever ran, and this model has no functional graph "
            f"to tell them apart. Recompile with each layer's `loss()`. Received: "
            f"layer={path!r}"
        )


def _count_micro_batches(layer, model: keras.Model) -> None:
    """Gradient accumulation: the model is attached (its schedules count
    updates, as the rule does), and on JAX a step hook gives the loss the
    optimizer's micro-batch counter."""
    from coolkeras import _training_state
    from coolkeras.attach import attach_calling_model
    from coolkeras.layers._center_loss_rule import MicroBatchHook

    attach_calling_model()
    state = _training_state.own_state(model)
    if state is None or keras.backend.backend() != "jax":
        return
    hook = layer.__dict__.get("_coolkeras_micro_batch_hook")
    if hook is None:
        hook = MicroBatchHook(layer.paper_state)
        object.__setattr__(layer, "_coolkeras_micro_batch_hook", hook)
    state.add_step_hook(hook)
