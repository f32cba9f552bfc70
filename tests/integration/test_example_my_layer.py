from examples import my_layer


def test_my_layer_example_checks_and_trains():
    result = my_layer.main(samples=64, epochs=8)
    assert result["checks_passed"] == [
        "symbolic_call",
        "eager_call",
        "compute_output_shape",
        "training",
        "compiled_step",
        "config",
        "dtype_policy",
        "saving",
    ]
    assert result["checks_skipped"] == ["masking"]
    assert result["unregistered_layer_fails"] == "saving"
    loss = result["loss"]
    assert len(loss) == 8 and loss[-1] < 0.1 * loss[0]
    assert result["kernel_error"] < 0.3
