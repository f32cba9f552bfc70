"""Hugging Face (transformers/optimization.py, transcribed in float64), bert4keras,
the article and the Transformer."""

import math

import numpy as np

from tests.schedules.porting_cases import case, values_of


def hf(multiplier):
    """`lr * multiplier(t, **arguments)`: a LambdaLR of Hugging Face's."""

    def formula(a, t):
        return a["lr"] * multiplier(int(t), **{k: v for k, v in a.items() if k != "lr"})

    return values_of(formula)


def _warm(t, w):
    return t / max(1, w)


def hf_linear(t, num_warmup_steps, num_training_steps):
    if t < num_warmup_steps:
        return _warm(t, num_warmup_steps)
    return max(
        0.0, (num_training_steps - t) / max(1, num_training_steps - num_warmup_steps)
    )


def hf_cosine(t, num_warmup_steps, num_training_steps, num_cycles=0.5, min_lr_rate=0.0):
    if t < num_warmup_steps:
        return _warm(t, num_warmup_steps)
    progress = (t - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    factor = 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress))
    return max(0.0, factor * (1 - min_lr_rate) + min_lr_rate)


def hf_hard_restarts(t, num_warmup_steps, num_training_steps, num_cycles, cycle):
    if t < num_warmup_steps:
        return _warm(t, num_warmup_steps)
    progress = (t - num_warmup_steps) / max(1, num_training_steps - num_warmup_steps)
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((num_cycles * progress) % 1.0))))


def hf_polynomial(t, num_warmup_steps, num_training_steps, lr_end, power, lr_init):
    if t < num_warmup_steps:
        return _warm(t, num_warmup_steps)
    if t > num_training_steps:
        return lr_end / lr_init
    remaining = 1 - (t - num_warmup_steps) / (num_training_steps - num_warmup_steps)
    return ((lr_init - lr_end) * remaining**power + lr_end) / lr_init


def hf_inverse_sqrt(t, num_warmup_steps, timescale):
    if t < num_warmup_steps:
        return _warm(t, num_warmup_steps)
    shift = timescale - num_warmup_steps
    return 1.0 / math.sqrt((t + shift) / timescale)


def hf_wsd(
    t,
    num_warmup_steps,
    num_stable_steps,
    num_decay_steps,
    warmup_type,
    decay_type,
    min_lr_ratio,
):
    if t < num_warmup_steps:
        progress = t / max(1, num_warmup_steps)
        factor = {
            "linear": progress,
            "cosine": 0.5 * (1.0 - math.cos(math.pi * progress)),
            "1-sqrt": 1.0 - math.sqrt(1.0 - progress),
        }[warmup_type]
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    if t < num_warmup_steps + num_stable_steps:
        return 1.0
    if t < num_warmup_steps + num_stable_steps + num_decay_steps:
        progress = (t - num_warmup_steps - num_stable_steps) / max(1, num_decay_steps)
        factor = {
            "linear": 1.0 - progress,
            "cosine": 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress)),
            "1-sqrt": 1.0 - math.sqrt(progress),
        }[decay_type]
        return max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
    return min_lr_ratio


case("hf get_constant_schedule", "Constant(lr)", dict(lr=0.3), hf(lambda t: 1.0))
case(
    "hf get_constant_schedule_with_warmup",
    "Warmup(Constant(lr), num_warmup_steps)",
    dict(lr=0.3, num_warmup_steps=4),
    hf(lambda t, num_warmup_steps: min(1.0, _warm(t, num_warmup_steps))),
)
case(
    "hf get_linear_schedule_with_warmup",
    "Warmup(Linear(lr, 0.0, num_training_steps - num_warmup_steps), num_warmup_steps)",
    dict(lr=0.3, num_warmup_steps=3, num_training_steps=12),
    hf(hf_linear),
)
for name, total, cycles, late in [
    ("", 15, 0.5, False),  # Hugging Face's cosine rises again past the end
    (" long", 40_000_003, 0.5, True),
    (" num_cycles=1", 15, 1.0, False),
]:
    case(
        "hf get_cosine_schedule_with_warmup" + name,
        "Warmup(Cosine(lr, steps=num_training_steps - num_warmup_steps, "
        "cycles=num_cycles), num_warmup_steps)",
        dict(lr=0.3, num_warmup_steps=3, num_training_steps=total, num_cycles=cycles),
        hf(hf_cosine),
        last=min(total, 30),
        late=late,
        # Away from 0.5 cycles, the float32 angle near an inner zero of the
        # cosine is only good to ~1e-7 of lr, in absolute terms.
        atol=1e-7 * 0.3 if cycles != 0.5 else 0.0,
    )
case(
    "hf get_cosine_with_min_lr_schedule_with_warmup",
    "Warmup(Cosine(lr, min_lr_rate * lr, steps=num_training_steps - num_warmup_steps), "
    "num_warmup_steps)",
    dict(lr=0.3, num_warmup_steps=3, num_training_steps=15, min_lr_rate=0.1),
    hf(hf_cosine),
    last=15,
    late=False,
)
case(
    "hf get_cosine_with_hard_restarts_schedule_with_warmup",
    "Join([Warmup(Restarts(Cosine(lr, steps=cycle), cycle), num_warmup_steps), "
    "Constant(0.0)], [num_training_steps])",
    dict(lr=0.3, num_warmup_steps=3, num_training_steps=23, num_cycles=4, cycle=5),
    hf(hf_hard_restarts),
)
case(
    "hf get_polynomial_decay_schedule_with_warmup",
    "Warmup(Polynomial(lr, lr_end, steps=num_training_steps - num_warmup_steps, "
    "power=power), num_warmup_steps)",
    dict(lr=0.1, num_warmup_steps=2, num_training_steps=12, lr_end=1e-3, power=2.0),
    lambda a, steps: hf(hf_polynomial)(dict(a, lr_init=a["lr"]), steps),
)
for name, timescale in [("", 4), (" timescale", 10)]:
    case(
        "hf get_inverse_sqrt_schedule" + name,
        "Warmup(InverseSqrt(lr, timescale), num_warmup_steps)",
        dict(lr=0.3, num_warmup_steps=4, timescale=timescale),
        hf(hf_inverse_sqrt),
    )
for warmup_type, decay_type in [
    ("linear", "1-sqrt"),
    ("cosine", "cosine"),
    ("1-sqrt", "linear"),
]:
    case(
        f"hf get_wsd_schedule {warmup_type} {decay_type}",
        "warmup_stable_decay(lr, warmup=num_warmup_steps, stable=num_stable_steps, "
        "decay=num_decay_steps, start=min_lr_ratio * lr, end=min_lr_ratio * lr, "
        "warmup_shape=warmup_type, decay_shape=decay_type)",
        dict(
            lr=0.3,
            num_warmup_steps=4,
            num_stable_steps=5,
            num_decay_steps=6,
            warmup_type=warmup_type,
            decay_type=decay_type,
            min_lr_ratio=0.1,
        ),
        hf(hf_wsd),
    )


# -- bert4keras, the article, the Transformer -----------------------------------------


def bert4keras(a, t):
    points = sorted(a["points"].items())
    if points[0][0] != 0:  # from_zero=True, its default
        points = [(0, 0.0)] + points
    return float(np.interp(t, [p[0] for p in points], [p[1] for p in points]))


case(
    "bert4keras piecewise_linear",
    "PiecewiseLinear(points, from_zero=True)",
    dict(points={5: 1e-3, 20: 1e-4}),
    values_of(bert4keras),
)
case(
    "article warmup",
    "Warmup(Constant(lr), N, offset=1)",
    dict(lr=1e-3, N=8),
    values_of(lambda a, t: a["lr"] * min(t + 1, a["N"]) / a["N"]),
)
case(
    "Transformer",
    "Warmup(InverseSqrt(d_model**-0.5 * w**-0.5, timescale=w), w, offset=1)",
    dict(d_model=512, w=16),
    values_of(
        lambda a, t: (
            a["d_model"] ** -0.5 * min((t + 1) ** -0.5, (t + 1) * a["w"] ** -1.5)
        )
    ),
)
