import numpy as np

from examples import lr_schedule_by_epoch


def article_rate(epoch, boundaries):
    """The article's `lr_schedule`, with its epochs 50 and 80 as `boundaries`."""
    if epoch < boundaries[0]:
        return 1e-2
    if epoch < boundaries[1]:
        return 1e-3
    return 1e-4


def test_learning_rate_follows_the_article_schedule_by_epoch():
    boundaries = (2, 4)
    result = lr_schedule_by_epoch.main(
        epochs=5, boundaries=boundaries, samples=128, batch_size=32
    )
    expected = [article_rate(epoch, boundaries) for epoch in range(5)]
    np.testing.assert_allclose(result["learning_rates"], expected, rtol=1e-6)
    assert result["steps_per_epoch"] == 4
    assert np.isfinite(result["loss"]).all()
    assert result["loss"][-1] < result["loss"][0]


def test_schedule_changes_exactly_at_the_first_step_of_the_epoch():
    schedule = lr_schedule_by_epoch.learning_rate(steps_per_epoch=30)
    steps = [0, 50 * 30 - 1, 50 * 30, 80 * 30 - 1, 80 * 30, 10**6]
    np.testing.assert_allclose(
        schedule.values(steps),
        [article_rate(step // 30, (50, 80)) for step in steps],
        rtol=1e-6,
    )
