"""The coolkeras scenario under `keras.distribution.DataParallel` on 4 CPU devices.

The scenario (tests/distributed/scenario.py) runs in a subprocess, because the
simulated devices must be configured before JAX starts. It trains the same
model (CenterLoss with λ on a schedule, SmoothedCrossEntropy with a scheduled
Hyperparameter ε, a warmup learning rate, an AddLoss term, an Evaluator) on
one device and on four, for both center update rules.

Tolerance: atol 1e-5 on float32 values (measured, keras 3.15.1 / jax 0.10.2:
at most 2.4e-7 on losses, 6e-8 on centers and weights: float32 reduction order).
"""

import keras
import numpy as np
import pytest

from tests.distributed import scenario

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel is only implemented for JAX",
)

ATOL = 1e-5
RULES = ("gradient", "paper")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("data_parallel") / "results.npz"
    return scenario.run("data_parallel", out, "--add-loss")


@pytest.mark.parametrize("rule", RULES)
def test_multi_device_run_is_sharded_and_replicas_agree(results, rule):
    assert results[f"single_{rule}_replicas"] == 1
    assert results[f"multi_{rule}_replicas"] == 4
    assert results[f"multi_{rule}_spread"] == 0.0  # every device holds the same state
    np.testing.assert_array_equal(
        results[f"single_{rule}_initial"], results[f"multi_{rule}_initial"]
    )


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("key", ["loss", "term", "l2", "centers", "weights"])
def test_multi_device_matches_single_device(results, rule, key):
    single, multi = results[f"single_{rule}_{key}"], results[f"multi_{rule}_{key}"]
    np.testing.assert_allclose(multi, single, rtol=0, atol=ATOL)


@pytest.mark.parametrize("rule", RULES)
def test_schedules_count_global_steps_and_evaluator_agrees(results, rule):
    # The hyperparameter and the optimizer count 8 steps, not 8 per device.
    np.testing.assert_array_equal(results[f"multi_{rule}_steps"], [scenario.STEPS] * 2)
    np.testing.assert_array_equal(results[f"single_{rule}_steps"], [scenario.STEPS] * 2)
    np.testing.assert_array_equal(
        results[f"multi_{rule}_score"], results[f"single_{rule}_score"]
    )


def test_paper_rule_moves_the_centers_every_step(results):
    # Guards the comparison above against centers that never move.
    centers = results["single_paper_centers"]
    assert np.all(np.abs(np.diff(centers, axis=0)).max(axis=(1, 2)) > 1e-3)
