import keras
import numpy as np
import pytest

from coolkeras.layers import Split
from tests.helpers import save_and_load, to_numpy


@pytest.mark.parametrize(
    "num_or_sizes, axis, expected_widths",
    [(2, -1, [3, 3]), (3, 1, [2, 2, 2]), ([1, 5], -1, [1, 5]), ([4, 2], 1, [4, 2])],
)
def test_split_values_and_shapes(num_or_sizes, axis, expected_widths):
    x = np.arange(24, dtype="float32").reshape(4, 6)
    parts = Split(num_or_sizes, axis=axis)(x)
    expected = np.split(x, np.cumsum(expected_widths)[:-1], axis=axis)
    assert len(parts) == len(expected)
    for part, reference in zip(parts, expected, strict=True):
        np.testing.assert_array_equal(to_numpy(part), reference)


def test_split_on_a_middle_axis_with_unknown_batch(tmp_path):
    inputs = keras.Input((4, 6))
    first, second = Split([1, 3], axis=1)(inputs)
    assert first.shape == (None, 1, 6) and second.shape == (None, 3, 6)
    model = keras.Model(inputs, [first, second])
    x = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    for got, want in zip(
        save_and_load(model, tmp_path).predict(x, verbose=0),
        [x[:, :1], x[:, 1:]],
        strict=True,
    ):
        np.testing.assert_allclose(got, want)


def test_compute_output_shape_is_a_list_of_shapes():
    assert Split(2).compute_output_shape((None, 8)) == [(None, 4), (None, 4)]


def test_non_divisible_split_names_the_argument():
    with pytest.raises(ValueError, match="Received: num_or_sizes=4"):
        Split(4)(keras.Input((6,)))


def test_sizes_that_do_not_sum_name_the_argument():
    with pytest.raises(ValueError, match=r"Received: num_or_sizes=\[2, 2\]"):
        Split([2, 2])(keras.Input((6,)))


@pytest.mark.parametrize("bad", [0, -1, [], [2, 0], [1.5], True])
def test_bad_num_or_sizes_at_construction(bad):
    with pytest.raises((ValueError, TypeError), match="Received: num_or_sizes="):
        Split(bad)
