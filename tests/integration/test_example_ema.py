import pytest

from examples import ema_evaluate


def test_ema_example_evaluates_and_keeps_the_average(tmp_path):
    result = ema_evaluate.main(samples=256, epochs=4, out_dir=str(tmp_path))
    # Validation during fit used the average, as `ema.averaged()` does after it.
    assert result["val_loss"][-1] == pytest.approx(result["average_loss"], rel=1e-5)
    assert result["average_loss"] < result["raw_loss"]
    # The best checkpoint holds the averaged model of its epoch.
    assert result["reloaded_loss"] == pytest.approx(min(result["val_loss"]), rel=1e-5)
