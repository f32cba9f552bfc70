import sys

import pytest

from coolkeras.schedules import Linear, Warmup, by_epoch

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_plot_writes_a_png(tmp_path):
    schedule = by_epoch(Warmup(Linear(1e-3, 1e-5, 20), 5), steps_per_epoch=10)
    path = tmp_path / "schedule.png"
    assert schedule.plot(path) == path
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000


def test_plot_takes_steps(tmp_path):
    path = str(tmp_path / "steps.png")
    assert Linear(1.0, 0.0, 10).plot(path, steps=20) == path
    Linear(1.0, 0.0, 10).plot(path, steps=[0, 5, 10, 15])
    with open(path, "rb") as file:
        assert file.read(8) == PNG_SIGNATURE


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install coolkeras\[plot\]"):
        Linear(1.0, 0.0, 10).plot(tmp_path / "x.png")
