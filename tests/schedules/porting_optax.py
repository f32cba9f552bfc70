"""optax: each expression against optax itself, in float64."""

from tests.schedules.porting_cases import case, optax

case(
    "optax linear_schedule",
    "Join([Constant(init_value), Linear(init_value, end_value, transition_steps)], "
    "[transition_begin])",
    dict(init_value=1.0, end_value=0.1, transition_steps=10, transition_begin=3),
    optax(lambda o, a: o.linear_schedule(**a)),
)
for name, steps, power in [("", 12, 2.5), (" long", 40_000_000, 0.7)]:
    case(
        "optax polynomial_schedule" + name,
        "Polynomial(init_value, end_value, steps=transition_steps, power=power)",
        dict(init_value=1.0, end_value=0.05, power=power, transition_steps=steps),
        optax(lambda o, a: o.polynomial_schedule(**a)),
    )
for name, arguments in [
    ("", dict(transition_steps=3, decay_rate=0.7, staircase=False, end_value=0.01)),
    (
        " staircase",
        dict(transition_steps=3, decay_rate=0.7, staircase=True, end_value=0.01),
    ),
    (
        " long",
        dict(transition_steps=10**6, decay_rate=0.8, staircase=False, end_value=None),
    ),
]:
    case(
        "optax exponential_decay" + name,
        "Exponential(init_value, transition_steps, decay_rate, staircase=staircase, "
        "end=end_value)",
        dict(init_value=0.5, **arguments),
        optax(lambda o, a: o.exponential_decay(**a)),
    )
for name, steps in [("", 10), (" long", 40_000_000)]:
    case(
        "optax cosine_decay_schedule" + name,
        "Cosine(init_value, alpha * init_value, steps=decay_steps, exponent=exponent)",
        dict(init_value=2.0, decay_steps=steps, alpha=0.1, exponent=2.0),
        optax(lambda o, a: o.cosine_decay_schedule(**a)),
    )
case(
    "optax warmup_constant_schedule",
    "Linear(init_value, peak_value, warmup_steps)",
    dict(init_value=0.1, peak_value=1.0, warmup_steps=5),
    optax(lambda o, a: o.warmup_constant_schedule(**a)),
)
for name, decay_steps in [("", 14), (" long", 40_000_000)]:
    case(
        "optax warmup_cosine_decay_schedule" + name,
        "Warmup(Cosine(peak_value, end_value, steps=decay_steps - warmup_steps, "
        "exponent=exponent), warmup_steps, start=init_value)",
        dict(
            init_value=0.0,
            peak_value=1.0,
            warmup_steps=4,
            decay_steps=decay_steps,
            end_value=0.05,
            exponent=1.5,
        ),
        optax(lambda o, a: o.warmup_cosine_decay_schedule(**a)),
    )
case(
    "optax warmup_exponential_decay_schedule",
    "Warmup(Exponential(peak_value, transition_steps, decay_rate), warmup_steps, "
    "start=init_value)",
    dict(
        init_value=0.0,
        peak_value=1.0,
        warmup_steps=3,
        transition_steps=4,
        decay_rate=0.5,
    ),
    optax(lambda o, a: o.warmup_exponential_decay_schedule(**a)),
    atol=1e-30,  # 0.5 ** 7.5e6 underflows
)
case(
    "optax piecewise_constant_schedule",
    "PiecewiseConstant({0: init_value, b1: init_value * s1, b2: init_value * s1 * s2})",
    dict(init_value=1.0, b1=5, s1=0.1, b2=9, s2=0.5),
    optax(
        lambda o, a: o.piecewise_constant_schedule(a["init_value"], {5: 0.1, 9: 0.5})
    ),
)
case(
    "optax piecewise_interpolate_schedule",
    "PiecewiseLinear({0: init_value, b1: init_value * s1, b2: init_value * s1 * s2})",
    dict(init_value=1.0, b1=4, s1=0.1, b2=8, s2=0.5),
    optax(
        lambda o, a: o.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.5})
    ),
)
# optax's sgdr stops after its cycles: 5 short ones cover steps 0..34 only.
for name, decay_steps, cycles, late in [("", 7, 5, False), (" long", 10**7, 4, True)]:
    case(
        "optax sgdr_schedule" + name,
        "Restarts(Warmup(Cosine(peak_value, end_value, steps=decay_steps - "
        "warmup_steps), warmup_steps, start=init_value), decay_steps)",
        dict(
            init_value=0.0,
            peak_value=1.0,
            warmup_steps=2,
            decay_steps=decay_steps,
            end_value=0.1,
        ),
        optax(lambda o, a, n=cycles: o.sgdr_schedule([a] * n)),
        last=34,
        late=late,
    )
case(
    "optax cosine_onecycle_schedule",
    "Join([Cosine(peak_value / div_factor, peak_value, steps=up), Cosine(peak_value, "
    "peak_value / (div_factor * final_div_factor), steps=transition_steps - up)], "
    "[up])",
    dict(
        transition_steps=20,
        peak_value=1.0,
        pct_start=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
        up=int(0.3 * 20),
    ),
    optax(
        lambda o, a: o.cosine_onecycle_schedule(
            **{k: v for k, v in a.items() if k != "up"}
        )
    ),
)
case(
    "optax linear_onecycle_schedule",
    "PiecewiseLinear({0: peak_value / div_factor, int(pct_start * transition_steps): "
    "peak_value, int(pct_final * transition_steps): peak_value / div_factor, "
    "transition_steps: peak_value / div_factor / final_div_factor})",
    dict(
        transition_steps=20,
        peak_value=1.0,
        pct_start=0.3,
        pct_final=0.85,
        div_factor=25.0,
        final_div_factor=1e4,
    ),
    optax(lambda o, a: o.linear_onecycle_schedule(**a)),
)
