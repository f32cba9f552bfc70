"""Wall time of the command line's answers, each in a fresh process.

`coolkeras --help`, `--version` and two errors (a bad flag value, a broken
`--data` file) run as `python -m _coolkeras_cli ...`, the module the installed
`coolkeras` script calls, with this checkout first on `PYTHONPATH`. The variants
are interleaved (A B C ... A B C ...) and each line is the median of `RUNS`
runs in seconds. `python -c pass` is the interpreter's own start-up, the floor;
`import coolkeras` is what the old entry point (`coolkeras.cli.main:main`) paid
before parsing anything (fewer runs: it starts Keras and its backend).

Run: `python bench/cli.py` (uses `KERAS_BACKEND` as set, like `make bench`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS, LIBRARY_RUNS = 9, 3


def _seconds(command: list[str], environment: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=environment, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise RuntimeError(f"{command} failed: {done.stderr.decode()}")
    return seconds


def main() -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "_coolkeras_cli"]
    with tempfile.TemporaryDirectory() as folder:
        broken = Path(folder) / "broken.npz"
        broken.write_text("not an archive")
        output = str(Path(folder) / "out")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "coolkeras --help": [*cli, "--help"],
            "coolkeras --version": [*cli, "--version"],
            "coolkeras demo --lambda -1": [*cli, "demo", "--lambda", "-1"],
            "coolkeras demo --data broken.npz": [
                *cli,
                *("demo", "--data", str(broken), "--output", output),
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():
            _seconds(command, environment)  # warm-up: file system caches
        for _ in range(RUNS):
            for name, command in commands.items():
                times[name].append(_seconds(command, environment))
        library = [
            _seconds([sys.executable, "-c", "import coolkeras"], environment)
            for _ in range(LIBRARY_RUNS)
        ]
    backend = os.environ.get("KERAS_BACKEND", "keras.json's")
    for name, values in times.items():
        print(f"{name}: {statistics.median(values):.3f}")
    print(
        f"import coolkeras ({backend} backend, old entry point): "
        f"{statistics.median(library):.3f}"
    )


if __name__ == "__main__":
    main()
