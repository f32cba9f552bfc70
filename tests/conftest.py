import os

import keras
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.backend.clear_session(free_memory=False)  # skips a 0.5 s gc.collect per test
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def backend():
    return keras.backend.backend()
