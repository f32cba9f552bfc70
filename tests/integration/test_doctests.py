"""A broken docstring example fails the test suite, on the backend under test.

`make test` runs pytest with the project's configuration, whose `addopts` turn on
`--doctest-modules` and whose `testpaths` include the package. This test runs a
pytest subprocess with that same configuration file and the same
`KERAS_BACKEND` on two tiny modules: one whose docstring example is wrong, one
whose example is right.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import keras

ROOT = Path(__file__).resolve().parents[2]

MODULE = '''"""A module with one docstring example."""

import keras


def add(a, b):
    """Adds two numbers with `keras.ops`.

    Example:

    >>> keras.backend.backend()
    '{backend}'
    >>> float(add(1.0, 1.0))
    {result}
    """
    return keras.ops.add(a, b)
'''


def run_pytest_on(folder: Path) -> tuple[int, dict[str, ET.Element], str]:
    """Runs pytest with the project's config; returns code, testcases, output."""
    junit = folder / "junit.xml"
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend())
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(folder),
            f"--junit-xml={junit}",
            str(folder / "good_example.py"),
            str(folder / "broken_example.py"),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    cases = {case.get("name"): case for case in ET.parse(junit).iter("testcase")}
    return completed.returncode, cases, completed.stdout + completed.stderr


def test_project_config_runs_docstring_examples_of_the_package(pytestconfig):
    assert pytestconfig.option.doctestmodules
    assert "coolkeras" in pytestconfig.getini("testpaths")


def test_broken_docstring_example_fails_and_correct_one_passes(tmp_path):
    backend = keras.backend.backend()
    (tmp_path / "good_example.py").write_text(
        MODULE.format(backend=backend, result="2.0")
    )
    (tmp_path / "broken_example.py").write_text(
        MODULE.format(backend=backend, result="3.0")
    )

    code, cases, output = run_pytest_on(tmp_path)

    assert code == 1, output  # pytest: some tests failed
    assert sorted(cases) == ["broken_example.add", "good_example.add"], output
    good, broken = cases["good_example.add"], cases["broken_example.add"]
    assert good.find("failure") is None and good.find("error") is None, output
    failure = broken.find("failure")
    assert failure is not None, output
    # The example ran on this backend and only the wrong result failed it.
    assert "Expected:\n    3.0\nGot:\n    2.0" in failure.get("message", "") + (
        failure.text or ""
    ), output
