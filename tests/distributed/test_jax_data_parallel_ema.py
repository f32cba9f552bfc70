"""`EMA` under `keras.distribution.DataParallel` on 4 CPU devices equals one device.

The scenario (tests/distributed/ema_scenario.py) runs in a subprocess, because
the simulated devices must be configured before JAX starts: a Dense-BatchNorm
model trained with an `EMA` (scheduled decay, BatchNorm statistics averaged),
with validation, for 2 epochs and then one more `fit`, once on one device and
once on four. The single-device averages are checked against the numpy
reference in tests/callbacks/test_ema.py.

Tolerance: atol 1e-5 on float32 values (float32 reduction order differs
between one device and four).
"""

import keras
import numpy as np
import pytest

from tests.distributed import ema_scenario

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution.DataParallel is only implemented for JAX",
)

ATOL = 1e-5


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("ema_data_parallel") / "results.npz"
    return ema_scenario.run(out)


def test_averages_are_sharded_like_the_model(results):
    assert results["single_replicas"] == 1
    assert results["multi_replicas"] == 4


@pytest.mark.parametrize(
    "key", ["raw", "average", "val_loss", "final_raw", "final_average", "model"]
)
def test_four_devices_match_one_device(results, key):
    single, multi = results[f"single_{key}"], results[f"multi_{key}"]
    assert single.shape == multi.shape
    np.testing.assert_allclose(multi, single, rtol=0, atol=ATOL)


def test_the_comparison_is_not_vacuous(results):
    # 12 steps (8, then 4 of the second fit); the averages are not the raw
    # weights, and the model holds the raw weights after `fit`.
    raw, average = results["multi_raw"], results["multi_average"]
    assert raw.shape[0] == 12
    assert np.max(np.abs(raw - average)) > 1e-3
    assert np.max(np.abs(np.diff(raw, axis=0))) > 1e-3
    np.testing.assert_array_equal(
        np.sort(results["multi_model"]), np.sort(results["multi_final_raw"])
    )
