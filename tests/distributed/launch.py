"""Runs a scenario script in a fresh process with simulated CPU devices.

The backend and the device count must be set before the backend starts, hence
a new interpreter per scenario; results come back as an `.npz` file.
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_script(script: str, *args: str, out, backend: str, devices: int) -> dict:
    """`python script *args out` on `devices` CPU devices; its arrays as a dict."""
    import numpy as np

    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    done = subprocess.run(
        [sys.executable, script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        name = os.path.basename(script)
        raise RuntimeError(f"{name} {args} failed:\n{done.stderr[-4000:]}")
    with np.load(out) as results:
        return dict(results)
