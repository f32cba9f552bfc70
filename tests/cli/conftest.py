import pytest

from coolkeras.cli import main as cli


@pytest.fixture
def no_keras_start(monkeypatch):
    """Fails the test if the command line goes on to start the library."""

    def started() -> None:
        pytest.fail("the command line started Keras for a bad input")

    monkeypatch.setattr(cli, "_import_library", started)
