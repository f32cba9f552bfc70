"""Keras: its formulas in float64 (checked against Keras' own float32 schedules)."""

import math

from tests.schedules.porting_cases import KERAS, case, values_of


def keras_exponential(a, t):
    p = t / a["decay_steps"]
    p = math.floor(p) if a["staircase"] else p
    return a["initial_learning_rate"] * a["decay_rate"] ** p


def keras_piecewise(a, t):
    if t <= a["b1"]:
        return a["v0"]
    return a["v1"] if t <= a["b2"] else a["v2"]


def keras_polynomial(a, t):
    p = min(t, a["decay_steps"]) / a["decay_steps"]
    span = a["initial_learning_rate"] - a["end_learning_rate"]
    return span * (1 - p) ** a["power"] + a["end_learning_rate"]


def keras_inverse_time(a, t):
    p = t / a["decay_steps"]
    p = math.floor(p) if a["staircase"] else p
    return a["initial_learning_rate"] / (1 + a["decay_rate"] * p)


def keras_cosine(a, t):
    initial, alpha = a["initial_learning_rate"], a["alpha"]
    if "warmup_target" not in a:
        p = min(t, a["decay_steps"]) / a["decay_steps"]
        return initial * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * p)) + alpha)
    target, warmup = a["warmup_target"], a["warmup_steps"]
    t = min(t, a["decay_steps"] + warmup)
    if t < warmup:
        return (target - initial) * t / warmup + initial
    p = (t - warmup) / a["decay_steps"]
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * p)) + alpha)


def keras_cosine_restarts(a, t):
    initial, first = a["initial_learning_rate"], a["first_decay_steps"]
    t_mul, m_mul, alpha = a["t_mul"], a["m_mul"], a["alpha"]
    fraction = t / first
    if t_mul == 1.0:
        restart = math.floor(fraction)
        fraction -= restart
    else:
        restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
        done = (1.0 - t_mul**restart) / (1.0 - t_mul)
        fraction = (fraction - done) / t_mul**restart
    decayed = 0.5 * m_mul**restart * (1.0 + math.cos(math.pi * fraction))
    return initial * ((1 - alpha) * decayed + alpha)


def keras_case(name, expression, arguments, formula, make, **kwargs):
    KERAS[name] = (formula, make, arguments)
    case(name, expression, arguments, values_of(formula), **kwargs)


for name, staircase in [("", False), (" staircase", True)]:
    keras_case(
        "keras ExponentialDecay" + name,
        "Exponential(initial_learning_rate, decay_steps, decay_rate, staircase)",
        dict(
            initial_learning_rate=0.1,
            decay_steps=4,
            decay_rate=0.5,
            staircase=staircase,
        ),
        keras_exponential,
        lambda s, a: s.ExponentialDecay(**a),
        atol=1e-38,
    )
keras_case(
    "keras ExponentialDecay long",
    "Exponential(initial_learning_rate, decay_steps, decay_rate, staircase)",
    dict(initial_learning_rate=0.1, decay_steps=10**6, decay_rate=0.9, staircase=False),
    keras_exponential,
    lambda s, a: s.ExponentialDecay(**a),
)
keras_case(
    "keras PiecewiseConstantDecay",
    "PiecewiseConstant({0: v0, b1 + 1: v1, b2 + 1: v2})",
    dict(b1=3, b2=7, v0=1.0, v1=0.5, v2=0.1),
    keras_piecewise,
    lambda s, a: s.PiecewiseConstantDecay(
        [a["b1"], a["b2"]], [a["v0"], a["v1"], a["v2"]]
    ),
)
for name, steps in [("", 10), (" long", 40_000_000)]:
    keras_case(
        "keras PolynomialDecay" + name,
        "Polynomial(initial_learning_rate, end_learning_rate, steps=decay_steps, "
        "power=power)",
        dict(
            initial_learning_rate=1.0,
            decay_steps=steps,
            end_learning_rate=0.01,
            power=1.7,
        ),
        keras_polynomial,
        lambda s, a: s.PolynomialDecay(**a),
    )
for name, staircase in [("", False), (" staircase", True)]:
    keras_case(
        "keras InverseTimeDecay" + name,
        "InverseTime(initial_learning_rate, decay_steps, decay_rate, staircase)",
        dict(
            initial_learning_rate=0.5,
            decay_steps=3,
            decay_rate=0.8,
            staircase=staircase,
        ),
        keras_inverse_time,
        lambda s, a: s.InverseTimeDecay(**a),
    )
keras_case(
    "keras CosineDecay",
    "Cosine(initial_learning_rate, alpha * initial_learning_rate, steps=decay_steps)",
    dict(initial_learning_rate=1.0, decay_steps=10, alpha=0.1),
    keras_cosine,
    lambda s, a: s.CosineDecay(**a),
)
keras_case(
    "keras CosineDecay warmup",
    "Warmup(Cosine(warmup_target, alpha * warmup_target, steps=decay_steps), "
    "warmup_steps, start=initial_learning_rate)",
    dict(
        initial_learning_rate=0.0,
        decay_steps=10,
        alpha=0.1,
        warmup_target=1.0,
        warmup_steps=4,
    ),
    keras_cosine,
    lambda s, a: s.CosineDecay(**a),
)
for name, t_mul in [(" t_mul=2", 2.0), (" t_mul=1", 1.0), (" t_mul=1.5", 1.5)]:
    keras_case(
        "keras CosineDecayRestarts" + name,
        "alpha * initial_learning_rate + Restarts(Cosine((1 - alpha) * "
        "initial_learning_rate, steps=first_decay_steps), first_decay_steps, t_mul, "
        "m_mul)",
        dict(
            initial_learning_rate=1.0,
            first_decay_steps=4,
            t_mul=t_mul,
            m_mul=0.9,
            alpha=0.1,
        ),
        keras_cosine_restarts,
        lambda s, a: s.CosineDecayRestarts(**a),
        last=40,
    )
