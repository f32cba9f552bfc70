"""The command line answers before Keras starts: fresh processes, no backend log.

Timing is measured by `bench/cli.py`, not asserted here.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import coolkeras

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("keras", "jax", "tensorflow", "torch", "sklearn", "matplotlib")


def _python(
    *arguments: str, backend: str = "tensorflow"
) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KERAS_BACKEND": backend,  # by default the one that logs at start-up
        "TF_CPP_MIN_LOG_LEVEL": "0",
    }
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=60,
    )


def test_help_and_version_of_the_installed_entry_point():
    done = _python("-m", "_coolkeras_cli", "--help")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: coolkeras")
    done = _python("-m", "_coolkeras_cli", "--version")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"coolkeras {coolkeras.__version__}\n",
        "",
    )


def test_errors_are_one_line_and_import_no_backend(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_text("not an archive")
    command_lines = [
        ["demo", "--lambda", "-1"],
        ["demo", "--data", str(broken), "--output", str(tmp_path / "out")],
    ]
    script = (
        "import sys, _coolkeras_cli\n"
        f"codes = [_coolkeras_cli.main(a) for a in {command_lines!r}]\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(codes, heavy)\n"
    )
    done = _python("-c", script)
    assert done.stdout == "[2, 2] []\n", done.stderr
    lambda_error, data_error = done.stderr.splitlines()
    assert lambda_error == (
        "coolkeras demo: error: argument --lambda: must be a number in "
        "[0, 3.4e38] (float32) (received -1)"
    )
    assert data_error.startswith(
        "coolkeras demo: error: argument --data: is not an .npz archive ("
    )
    assert data_error.endswith(f"(received {str(broken)!r})")


def test_the_console_script_is_the_fast_entry_point():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["coolkeras"] == "_coolkeras_cli:main"
    assert "_coolkeras_cli" in project["tool"]["setuptools"]["py-modules"]


def test_deferred_package_start_matches_a_plain_import(backend):
    """After the arguments pass, the package is what `import coolkeras` gives."""
    script = (
        "import sys, _coolkeras_cli\n"
        "assert _coolkeras_cli.main(['--version']) == 0\n"
        "import coolkeras.cli.main as cli\n"
        "assert 'keras' not in sys.modules\n"
        "cli._import_library()\n"
        "import coolkeras, keras\n"
        "print(keras.backend.backend(), callable(coolkeras.attach),\n"
        "      all(hasattr(coolkeras, name) for name in coolkeras.__all__),\n"
        "      keras.saving.get_registered_object('coolkeras>CenterLoss'))\n"
    )
    done = _python("-c", script, backend=backend)
    assert done.returncode == 0, done.stderr
    version, result = done.stdout.splitlines()
    assert version == f"coolkeras {coolkeras.__version__}"
    assert result.split(" ", 3) == [
        backend,
        "True",
        "True",
        "<class 'coolkeras.layers.center_loss.CenterLoss'>",
    ]
