import keras
import pytest


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    # Overrides the suite-wide fixture: `keras.backend.clear_session()` runs a full
    # `gc.collect()` (~0.5 s per test on JAX here), and these tests neither
    # depend on layer names nor leak graphs. Seeding is kept.
    keras.utils.set_random_seed(1234)
    yield
