"""Every public constructor refuses bad input at construction, naming it.

Each argument of each constructor in `bad_input_constructors.SPECS` is tried
with every kind of value in `bad_input_specs.KINDS` (negative, zero, NaN,
+-inf, bool, str, None, empty, a wrong type, a numpy scalar, a 0-d and a 1-d
numpy array, a tensor) and with its own extra values: a value the spec marks
valid must be accepted (a numpy scalar must give what the Python number
gives); any other must raise the spec's error type, with a message that names
the argument in backticks and says `Received: <argument>=`. Each case is
classified (clear error, valid accepted, unclear error, valid refused, late:
accepted but failing when used, silent: accepted and usable) and the last test
prints the counts; only the first two pass.
"""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

import coolkeras
from coolkeras import schedules
from coolkeras.callbacks import ReduceOnPlateau
from coolkeras.losses import SmoothedCrossEntropy
from tests.bad_input_constructors import NOT_CONSTRUCTORS, SPECS
from tests.bad_input_specs import KINDS, expected_error, kind_value

COUNTS: collections.Counter = collections.Counter()
OUTCOMES = ("clear", "accepted", "unclear", "refused_valid", "late", "silent")


def _cases():
    for spec in SPECS:
        for arg_name, arg in spec.args.items():
            for kind in KINDS:
                case = (spec, arg_name, kind, None)
                yield pytest.param(*case, id=f"{spec.name}-{arg_name}-{kind}")
            for i, (value, error) in enumerate(arg.bad):
                case = (spec, arg_name, f"bad{i}", (value, error))
                yield pytest.param(*case, id=f"{spec.name}-{arg_name}-bad{i}")
            for i, value in enumerate(arg.good):
                case = (spec, arg_name, f"good{i}", (value, None))
                yield pytest.param(*case, id=f"{spec.name}-{arg_name}-good{i}")


def _same(a, b) -> bool:
    """Equal, with the same Python types all the way down (no numpy leftovers)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _clear(error: BaseException, arg_name: str, expected) -> str | None:
    """Why `error` is not the clear error expected, or `None` if it is."""
    message = str(error)
    if f"`{arg_name}" not in message:
        return f"does not name `{arg_name}`: {message}"
    if not re.search(rf"Received: {re.escape(arg_name)}(\[[^\]]*\])?=", message):
        return f"does not say 'Received: {arg_name}=': {message}"
    if not isinstance(error, expected):
        return f"expected {expected}, got {type(error).__name__}: {message}"
    return None


def _outcome(spec, arg_name, kind, value, error) -> tuple[str, str]:
    """What construction did with the value: (outcome, detail)."""
    kwargs = {**spec.required(), arg_name: value}
    try:
        made = spec.make(**kwargs)
    except Exception as raised:  # noqa: BLE001 - the outcome is the test
        if error is None:
            return "refused_valid", f"{type(raised).__name__}: {raised}"
        problem = _clear(raised, arg_name, error)
        return ("clear", "") if problem is None else ("unclear", problem)
    if error is None:
        if kind == "numpy_scalar":
            python = spec.make(**{**spec.required(), arg_name: value.item()})
            if not _same(spec.observe(made), spec.observe(python)):
                return "refused_valid", "differs from the Python value"
        return "accepted", ""
    try:
        spec.use(made)
    except Exception as raised:  # noqa: BLE001
        return "late", f"raised only when used: {type(raised).__name__}: {raised}"
    return "silent", "accepted without an error"


@pytest.mark.parametrize("spec, arg_name, kind, extra", list(_cases()))
def test_constructor_argument(spec, arg_name, kind, extra):
    arg = spec.args[arg_name]
    if extra is None:
        value = kind_value(arg, kind)
        error = None if kind in arg.oks() else expected_error(arg, kind)
    else:
        value, error = extra
    outcome, detail = _outcome(spec, arg_name, kind, value, error)
    COUNTS[f"{spec.name}:total"] += 1
    COUNTS[f"{spec.name}:{outcome}"] += 1
    assert outcome in ("clear", "accepted"), (
        f"{spec.name}({arg_name}={value!r}): {outcome}, {detail}"
    )


@pytest.mark.parametrize("spec", SPECS, ids=[spec.name for spec in SPECS])
def test_valid_arguments_make_a_usable_object(spec):
    """The spec's valid values work, and `use` (which tells late from silent) too."""
    made = spec.make(
        **{**{k: a.valid for k, a in spec.args.items()}, **spec.required()}
    )
    spec.use(made)


def _public_names() -> set[str]:
    names = set()
    for module in (coolkeras, *(getattr(coolkeras, m) for m in coolkeras.__all__)):
        if not hasattr(module, "__all__") or module.__name__ == "coolkeras.cli":
            continue
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value) and not hasattr(value, "__all__"):
                names.add(name)
    return names


def test_every_public_constructor_has_a_spec():
    names = _public_names()
    specs = {spec.name for spec in SPECS}
    missing = names - specs - set(NOT_CONSTRUCTORS)
    assert not missing, f"public constructors without a bad-input spec: {missing}"
    assert {"Hyperparameter", "CenterLoss", "Evaluator", "attach"} <= names


def test_reduce_on_plateau_numpy_factor_reduces_at_a_plateau():
    import keras

    lr = coolkeras.Hyperparameter(0.01, name="lr")
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    reduce = ReduceOnPlateau(lr, monitor="loss", factor=np.float32(0.5), patience=1)
    assert type(reduce.factor) is float
    x = np.zeros((4, 2), "float32")  # the loss is 0 at every epoch: a plateau
    model.fit(x, x[:, :1], epochs=4, batch_size=4, verbose=0, callbacks=[reduce])
    # Epoch 1 sets the best; epochs 2, 3 and 4 each reduce (patience 1).
    assert float(lr) == pytest.approx(0.01 * 0.5**3, rel=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.00125, rel=1e-6)


@pytest.mark.parametrize("min_delta", [-1, -1e-4, np.float32(-0.5)])
def test_reduce_on_plateau_refuses_a_negative_min_delta(min_delta):
    with pytest.raises(ValueError, match="Received: min_delta="):
        ReduceOnPlateau(coolkeras.Hyperparameter(1.0), min_delta=min_delta)


def test_an_epsilon_hyperparameter_refuses_a_change_out_of_range():
    eps = coolkeras.Hyperparameter(0.1, name="eps")
    SmoothedCrossEntropy(epsilon=eps)
    with pytest.raises(ValueError, match=r"`epsilon`.*\[0, 1\].*Received: value=2.0"):
        eps.assign(2.0)
    assert float(eps) == pytest.approx(0.1)  # unchanged
    eps.assign(np.float32(0.5))
    with pytest.raises(ValueError, match=r"`epsilon`.*Received: factor=4"):
        eps.scale(4)
    eps.scale(0.5)
    assert float(eps) == pytest.approx(0.25)
    scheduled = coolkeras.Hyperparameter(schedules.Constant(2.0), name="eps")
    scheduled.assign(0.5)
    SmoothedCrossEntropy(epsilon=scheduled)  # 0.5 now: accepted
    with pytest.raises(ValueError, match=r"`epsilon`.*reset"):
        scheduled.reset()  # would go back to 2.0


def test_hyperparameter_from_config_refuses_a_scale_that_flips_the_sign():
    config = coolkeras.Hyperparameter(0.1).get_config()
    for scale in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="Received: scale="):
            coolkeras.Hyperparameter.from_config({**config, "scale": scale})


def test_counts_are_reported(capsys):
    """Runs last: prints the outcomes of the cases above (in this process)."""
    by_name = collections.defaultdict(collections.Counter)
    for key, n in COUNTS.items():
        name, what = key.split(":")
        by_name[name][what] = n
    total = sum(by_name.values(), collections.Counter())

    def line(label, c):
        parts = ", ".join(f"{c[o]} {o}" for o in OUTCOMES if c[o] or o in total)
        return f"{label}: {c['total']} cases: {parts}"

    with capsys.disabled():
        print(f"\nbad input, {len(by_name)} constructors")
        print(line("all", total))
        print("\n".join(line(name, c) for name, c in by_name.items()))
