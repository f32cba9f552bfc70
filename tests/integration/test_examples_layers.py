import numpy as np

from examples import add_loss_nested, function_layers, split_vector


def test_function_layers_example():
    result = function_layers.main(samples=32, epochs=1)
    assert result["reload_matches"]
    assert result["noise_while_training"] > 0.01
    assert np.isfinite(result["loss"]).all()


def test_split_vector_example():
    result = split_vector.main(samples=32, epochs=1)
    assert result["half_shapes"] == [(2, 5), (2, 5)]


def test_add_loss_nested_example():
    result = add_loss_nested.main(samples=32, epochs=2)
    assert len(result["sparsity"]) == 2 and min(result["sparsity"]) > 0
    pairs = zip(result["loss"], result["sparsity"], strict=True)
    assert all(total > extra for total, extra in pairs)
    assert result["inference_losses"] == 0
    assert result["same_predictions"]
