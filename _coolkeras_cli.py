"""The `coolkeras` command's entry point: arguments are checked before Keras starts.

`import coolkeras.cli.main` would first run `coolkeras/__init__.py`, which imports
Keras and its backend: seconds of start-up, and TensorFlow's log, before a help
text or an argument error. This module (outside the package, like setuptools'
`_distutils_hack`) registers the `coolkeras` package in `sys.modules` without
running its `__init__`, so the command line parses and checks its arguments with
the standard library and numpy only; `coolkeras.cli.main` runs the package's
`__init__` (and so imports Keras) once the arguments are known to be good.

Run it as `coolkeras ...` (the installed script) or `python -m _coolkeras_cli ...`.
"""

from __future__ import annotations

import importlib.util
import sys


def main(argv: list[str] | None = None) -> int:
    if "coolkeras" not in sys.modules:
        spec = importlib.util.find_spec("coolkeras")
        if spec is None:
            raise ModuleNotFoundError("No module named 'coolkeras'", name="coolkeras")
        sys.modules["coolkeras"] = importlib.util.module_from_spec(spec)
    from coolkeras.cli.main import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
