import pytest

from coolkeras.ops import in_train_phase


def test_only_the_chosen_branch_is_computed():
    calls = []

    def branch(name):
        return lambda: calls.append(name) or name

    assert in_train_phase(branch("train"), branch("infer"), training=True) == "train"
    assert in_train_phase(branch("train"), branch("infer"), training=False) == "infer"
    assert in_train_phase(branch("train"), branch("infer"), training=None) == "infer"
    assert calls == ["train", "infer", "infer"]


def test_plain_values():
    assert in_train_phase(1.0, 0.0, training=True) == 1.0


def test_non_boolean_training_is_refused():
    with pytest.raises(TypeError, match="Received: training='yes'"):
        in_train_phase(1, 0, training="yes")
