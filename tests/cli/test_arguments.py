"""Every bad flag value: one line on stderr naming flag and value, exit status 2."""

import importlib.util

import pytest

from coolkeras.cli import main as cli
from tests.cli.helpers import assert_one_line_error, run_cli

BAD = [
    ("--epochs", "0", "must be an integer >= 1 (received 0)"),
    ("--epochs", "-1", "must be an integer >= 1 (received -1)"),
    ("--epochs", "abc", "must be an integer >= 1 (received 'abc')"),
    ("--epochs", "2.5", "must be an integer >= 1 (received 2.5)"),
    ("--lambda", "-1", "must be a number in [0, 3.4e38] (float32) (received -1)"),
    ("--lambda", "inf", "(received inf)"),
    ("--lambda", "nan", "(received nan)"),
    ("--lambda", "1e39", "(received 1e39)"),
    ("--lambda", "big", "(received 'big')"),
    ("--alpha", "0", "must be a number in (0, 1] (received 0)"),
    ("--alpha", "1.5", "must be a number in (0, 1] (received 1.5)"),
    ("--alpha", "nan", "must be a number in (0, 1] (received nan)"),
    ("--alpha", "-0.5", "(received -0.5)"),
    ("--seed", "-1", "must be an integer in [0, 4294967295] (received -1)"),
    ("--seed", "4294967296", "(received 4294967296)"),
    ("--seed", "one", "(received 'one')"),
    ("--backend", "bogus", "invalid choice: 'bogus'"),
    ("--data", "cifar", "must be 'digits', 'mnist' or a path to an .npz file"),
    ("--data", "", "(received '')"),
    ("--output", "", "must name a folder (received '')"),
]


@pytest.mark.parametrize(
    "flag, value, message", BAD, ids=[f"{f}={v}" for f, v, _ in BAD]
)
def test_bad_value_names_flag_and_value(capsys, no_keras_start, flag, value, message):
    status, out, err = run_cli(capsys, "demo", flag, value)
    assert_one_line_error(
        status, err, f"coolkeras demo: error: argument {flag}", message
    )
    assert out == ""


def test_output_naming_an_existing_file(tmp_path, capsys, no_keras_start):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    status, _, err = run_cli(capsys, "demo", "--output", str(existing))
    assert_one_line_error(
        status, err, "argument --output: is an existing file", repr(str(existing))
    )
    assert existing.read_text() == "mine"


def test_output_below_a_file(tmp_path, capsys, no_keras_start):
    (tmp_path / "notes.txt").write_text("mine")
    below = tmp_path / "notes.txt" / "out"
    status, _, err = run_cli(capsys, "demo", "--output", str(below))
    assert_one_line_error(
        status, err, "argument --output: cannot be created", "is a file"
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["demo", "--epochs"], "argument --epochs: expected one argument"),
        (["demo", "--colour", "red"], "unrecognized arguments: --colour red"),
        (["train"], "argument command: invalid choice: 'train'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_malformed_command_lines(capsys, no_keras_start, arguments, message):
    status, _, err = run_cli(capsys, *arguments)
    assert_one_line_error(status, err, message)


def test_bad_keras_backend_variable(capsys, monkeypatch, no_keras_start):
    monkeypatch.setenv("KERAS_BACKEND", "theano")
    status, _, err = run_cli(capsys, "demo", "--epochs", "1")
    assert_one_line_error(
        status, err, "environment variable KERAS_BACKEND", "(received 'theano')"
    )


def test_backend_not_installed(capsys, monkeypatch, no_keras_start):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else find_spec(name, *a),
    )
    status, _, err = run_cli(capsys, "demo", "--backend", "torch")
    assert_one_line_error(
        status, err, "argument --backend: torch is not installed", "coolkeras[torch]"
    )


def test_backend_other_than_the_running_keras(capsys, backend):
    other = "torch" if backend != "torch" else "jax"
    status, _, err = run_cli(capsys, "demo", "--backend", other)
    assert_one_line_error(
        status, err, f"argument --backend: Keras already runs on {backend}"
    )


def test_help_and_version(capsys):
    status, out, _ = run_cli(capsys, "--version")
    assert (status, out) == (0, f"coolkeras {cli.__version__}\n")
    status, out, _ = run_cli(capsys, "demo", "--help")
    assert status == 0
    for key in ("x_train", "y_train", "x_test", "y_test", "np.savez"):
        assert key in out  # the .npz layout is documented in --help


def test_missing_demo_dependencies_before_any_work(capsys, monkeypatch, no_keras_start):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else find_spec(name, *a),
    )
    status, _, err = run_cli(capsys, "demo", "--epochs", "1")
    assert status == 1 and err.count("\n") == 1, err
    assert "missing here: matplotlib; pip install 'coolkeras[demo]'" in err
