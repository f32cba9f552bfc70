"""`coolkeras` command line: `coolkeras demo`, `--help`, `--version`.

Every argument, and a `--data` file's content, is checked before Keras is
imported; a bad one ends the command with one line on stderr that names the
flag and the value, and exit status 2 (argparse's convention). The installed
`coolkeras` script starts from `_coolkeras_cli`, which lets this module run
before the package's `__init__` (and so before Keras): see its docstring.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import NoReturn

from coolkeras._version import __version__
from coolkeras.cli import arguments

BACKENDS = ("jax", "tensorflow", "torch")
_DEMO_NEEDS = {"sklearn": "scikit-learn", "matplotlib": "matplotlib"}  # module: package


class UsageError(Exception):
    """A bad command line; the message is the one line to print."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line (no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


DEMO_DESCRIPTION = """\
Trains the article's center-loss model three ways (softmax only, center loss
with centers learned by gradient, center loss with the paper's α rule), each
with 2-D features, and writes features.png, curves.png, metrics.json and the
kept model of each (.keras) into the output folder."""

DEMO_DATA = """\
--data PATH.npz reads a NumPy archive, as written by
  np.savez(PATH, x_train=..., y_train=..., x_test=..., y_test=...)
(Keras' mnist.npz layout): x_train, x_test: numbers, one row per sample (any
shape after the first axis, flattened), as many values per sample in both,
all finite; y_train, y_test: one class label per sample (integers or strings),
at least 2 classes in y_train and every y_test class among them. Any number
of classes; features are divided by the largest |x_train| if above 1."""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="coolkeras",
        description="The techniques of 'Keras模型杂谈' as Keras 3 parts.",
    )
    parser.add_argument(
        "--version", action="version", version=f"coolkeras {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo = commands.add_parser(
        "demo",
        help="train the article's center-loss model three ways and show it",
        description=DEMO_DESCRIPTION,
        epilog=DEMO_DATA,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--epochs",
        type=arguments.epochs,
        default=60,
        metavar="N",
        help="epochs per model >= 1 (default: 60)",
    )
    demo.add_argument(
        "--lambda",
        dest="weight",
        type=arguments.center_weight,
        metavar="LAMBDA",
        default=1.0,
        help="center-loss weight λ >= 0 (default: 1.0)",
    )
    demo.add_argument(
        "--alpha",
        type=arguments.center_alpha,
        default=0.5,
        help="paper-rule center learning rate α in (0, 1] (default: 0.5)",
    )
    demo.add_argument(
        "--data",
        type=arguments.data_source,
        default="digits",
        metavar="{digits,mnist,PATH.npz}",
        help="'digits' (bundled, default), 'mnist' (downloads once) or PATH.npz "
        "(see below)",
    )
    demo.add_argument(
        "--output",
        type=arguments.output_folder,
        default="demo_output",
        metavar="FOLDER",
        help="output folder, created if missing (default: demo_output)",
    )
    demo.add_argument(
        "--seed",
        type=arguments.seed,
        default=0,
        metavar="N",
        help="random seed in [0, 2**32 - 1] (default: 0)",
    )
    demo.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else jax)",
    )
    demo.add_argument("--quiet", action="store_true", help="print only the table")
    return parser


def _backend(args: argparse.Namespace) -> str:
    """The backend asked for, checked to be installed and startable here."""
    if args.backend:
        backend, source = args.backend, "argument --backend"
    else:
        backend = os.environ.get("KERAS_BACKEND") or "jax"
        source = "environment variable KERAS_BACKEND"
        if backend not in BACKENDS:
            raise UsageError(
                f"coolkeras demo: error: {source}: must be one of "
                f"{', '.join(BACKENDS)} (received {backend!r})"
            )
    if importlib.util.find_spec(backend) is None:
        raise UsageError(
            f"coolkeras demo: error: {source}: {backend} is not installed; "
            f"pip install 'coolkeras[{backend}]' (received {backend!r})"
        )
    keras = sys.modules.get("keras")
    running = getattr(getattr(keras, "backend", None), "backend", None)
    if running is not None and running() != backend:
        # Only in-process callers get here: Keras fixes its backend at import.
        raise UsageError(
            f"coolkeras demo: error: {source}: Keras already runs on {running()} "
            f"in this process (received {backend!r})"
        )
    return backend


def _import_library() -> None:
    """Runs `coolkeras/__init__.py` (Keras with it) if the entry point deferred it."""
    package = sys.modules["coolkeras"]
    if "__all__" not in vars(package):  # registered by `_coolkeras_cli`, not run
        package.__spec__.loader.exec_module(package)


def _run_demo(args: argparse.Namespace) -> int:
    from coolkeras.demo.data import DataError, load

    backend = _backend(args)
    missing = [name for name in _DEMO_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        print(
            "coolkeras demo: error: the demo needs scikit-learn and matplotlib, "
            f"missing here: {', '.join(_DEMO_NEEDS[name] for name in missing)}; "
            "pip install 'coolkeras[demo]'",
            file=sys.stderr,
        )
        return 1
    try:
        # Every source but MNIST is read and checked before Keras starts.
        data = None if args.data == "mnist" else load(args.data, args.seed)
        os.environ["KERAS_BACKEND"] = backend
        _import_library()
        from coolkeras.demo.center_loss_demo import Settings, TrainingDiverged, run

        if data is None:
            data = load(args.data, args.seed)
    except DataError as error:
        raise UsageError(f"coolkeras demo: error: argument --data: {error}") from None
    settings = Settings(
        epochs=args.epochs,
        weight=args.weight,
        alpha=args.alpha,
        data=args.data,
        output=args.output,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
    )
    try:
        run(settings, data)
    except TrainingDiverged as error:
        print(f"coolkeras demo: error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line on `argv` (default `sys.argv[1:]`); the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exit:  # --help, --version
            return exit.code if isinstance(exit.code, int) else 0
        return _run_demo(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
