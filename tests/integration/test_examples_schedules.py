import numpy as np

from examples import label_smoothing_schedule, warmup


def test_label_smoothing_epsilon_switches_at_the_epoch():
    result = label_smoothing_schedule.main(samples=64, batch_size=16, epochs=4)
    np.testing.assert_allclose(result["epsilon"], [0.1, 0.1, 0.01, 0.01], rtol=1e-6)


def test_warmup_is_linear_per_batch_then_flat():
    result = warmup.main(samples=64, batch_size=16, epochs=3, warmup_epochs=2)
    warmup_steps = 2 * result["steps_per_epoch"]
    steps = np.arange(len(result["learning_rate_per_batch"]))
    expected = 1e-3 * np.minimum(steps / warmup_steps, 1.0)
    np.testing.assert_allclose(result["learning_rate_per_batch"], expected, rtol=1e-5)
