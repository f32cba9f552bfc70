"""Atomic writes: stale temporary files of killed writers, copies, space checks."""

import errno
import os
import subprocess
import sys

import pytest

from coolkeras.callbacks import _atomic


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def temporary_name(stem: str, pid: int, host: str = _atomic._HOST) -> str:
    return f".{stem}.tmp-{host}-{pid}-0123abcd.keras"


def test_temporary_path_is_hidden_beside_the_destination(tmp_path):
    path = _atomic.temporary_path(str(tmp_path / "best.weights.h5"))
    directory, name = os.path.split(path)
    assert directory == str(tmp_path)
    assert name.startswith(".best.tmp-") and name.endswith(".weights.h5")
    assert _atomic._TEMPORARY.match(name)["pid"] == str(os.getpid())


@pytest.mark.skipif(os.name != "posix", reason="liveness is checked on POSIX only")
def test_the_next_write_removes_only_temporaries_of_dead_writers(tmp_path):
    dead = dead_pid()
    stale = [temporary_name("best", dead), temporary_name("best_03", dead)]
    kept = [
        temporary_name("best", os.getpid()),  # a live writer (this process)
        temporary_name("best", os.getppid()),  # another live writer
        temporary_name("best", dead, host="ffffffff"),  # another host's writer
        "best.keras",
        ".best.tmp-notours.keras",
        "notes.txt",
    ]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x")
    _atomic.write_json(str(tmp_path / "state.json"), {"a": 1})
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["state.json"])
    assert _atomic.read_json(str(tmp_path / "state.json")) == {"a": 1}


def test_copy_file_is_a_complete_copy_and_the_source_stays(tmp_path):
    source, destination = tmp_path / "a.keras", tmp_path / "sub" / "b.keras"
    source.write_bytes(b"model bytes")
    _atomic.copy_file(str(source), str(destination))
    assert destination.read_bytes() == b"model bytes"
    source.unlink()  # the copy does not depend on the source (a link or a copy)
    assert destination.read_bytes() == b"model bytes"
    assert sorted(os.listdir(tmp_path / "sub")) == ["b.keras"]


def test_copy_file_over_a_link_of_the_source_leaves_no_temporary(tmp_path):
    source, destination = tmp_path / "staged.keras", tmp_path / "best.keras"
    source.write_bytes(b"model bytes")
    _atomic.copy_file(str(source), str(destination))
    _atomic.copy_file(str(source), str(destination))  # again, as a resume does
    assert sorted(os.listdir(tmp_path)) == ["best.keras", "staged.keras"]
    assert destination.read_bytes() == b"model bytes"


def test_check_writable_refuses_too_little_free_space(tmp_path, monkeypatch):
    path = str(tmp_path / "best.keras")
    _atomic.check_writable(path, needed_bytes=1000)
    usage = type("Usage", (), {"free": 999})
    monkeypatch.setattr(_atomic.shutil, "disk_usage", lambda directory: usage)
    with pytest.raises(OSError, match="999 bytes free") as info:
        _atomic.check_writable(path, needed_bytes=1000)
    assert info.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []  # the probe is gone
