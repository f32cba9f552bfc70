"""`Monitor` and the logged learning rate under `DataParallel` on 4 CPU devices.

The scenario (tests/distributed/monitor_scenario.py) runs in a subprocess,
because the simulated devices must be configured before JAX starts. Each run
on four devices, with `steps_per_execution` 1 and 4, is compared with the
numpy reference computed from a plain Keras twin's weights (on one device).

Tolerance: rtol 1e-5 on float32 values (float32 reduction order differs
between one device and four).
"""

import keras
import numpy as np
import pytest

from tests.distributed import monitor_scenario as scenario

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel is only implemented for JAX",
)

RTOL = 1e-5
RUNS = [f"multi_{spe}" for spe in scenario.SPE]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("data_parallel_monitor") / "results.npz"
    return scenario.run(out)


@pytest.mark.parametrize("run", RUNS)
def test_the_runs_are_distributed(results, run):
    assert results[f"{run}_devices"] == scenario.DEVICES


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("key", scenario.KEYS)
def test_epoch_logs_equal_numpy(results, run, key):
    np.testing.assert_allclose(
        results[f"{run}_{key}"], results[f"reference_{key}"], rtol=RTOL
    )


@pytest.mark.parametrize("run", RUNS)
def test_per_execution_logs_equal_numpy(results, run):
    batches = results[f"{run}_batches"]
    steps = batches[:, 0].astype(int)
    spe = int(run.split("_")[1])
    executions = -(-scenario.STEPS // spe)
    assert len(steps) == executions * scenario.EPOCHS
    np.testing.assert_allclose(
        batches[:, 1], results["reference_running_mean"][steps], rtol=RTOL
    )
    np.testing.assert_allclose(
        batches[:, 2], results["reference_lr_per_step"][steps], rtol=RTOL
    )
