import numpy as np
import pytest

from examples.center_loss import main


@pytest.mark.parametrize("update", ["gradient", "paper"])
def test_article_section_4_trains_and_moves_the_centers(update):
    result = main(epochs=3, samples=256, update=update)
    assert result["loss"][-1] < result["loss"][0]
    assert result["centers"].shape == (10, 2)
    assert np.all(np.abs(result["centers"]).sum(axis=-1) > 0)  # every class moved
    assert result["center_loss"][-1] > 0
    assert 0.0 <= result["accuracy"] <= 1.0
