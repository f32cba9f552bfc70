"""Shared helpers of the command-line tests."""

from __future__ import annotations

from coolkeras.cli import main as cli


def run_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    """`coolkeras *arguments` in this process: (exit status, stdout, stderr)."""
    status = cli.main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    """Exit status 2 and exactly one line on stderr holding every fragment."""
    assert status == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
