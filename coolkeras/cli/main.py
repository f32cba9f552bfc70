"""`coolkeras` command line: `coolkeras demo`."""

from __future__ import annotations

import argparse
import os
import sys

BACKENDS = ("jax", "tensorflow", "torch")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coolkeras")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="train the article's center-loss model three ways and show it",
        description="Trains softmax, center loss (gradient) and center loss (paper "
        "rule) classifiers with 2-D features and writes features.png, curves.png, "
        "metrics.json and the kept models into the output folder.",
    )
    demo.add_argument("--epochs", type=int, default=60, help="epochs per model")
    demo.add_argument(
        "--lambda",
        dest="weight",
        type=float,
        default=1.0,
        help="center-loss weight λ >= 0",
    )
    demo.add_argument(
        "--alpha",
        type=float,
        default=0.5,
        help="paper-rule center learning rate α in (0, 1]",
    )
    demo.add_argument(
        "--data",
        default="digits",
        help="'digits' (bundled), 'mnist' (downloads) or PATH.npz",
    )
    demo.add_argument("--output", default="demo_output", help="output folder")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else jax)",
    )
    demo.add_argument("--quiet", action="store_true", help="print only the table")
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from coolkeras.demo.center_loss_demo import Settings, run

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
        run(settings)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"coolkeras demo: error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    backend = args.backend or os.environ.get("KERAS_BACKEND") or "jax"
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
        # Keras fixes its backend at import: start again with the one asked for.
        environment = {**os.environ, "KERAS_BACKEND": backend}
        command = [sys.executable, "-m", "coolkeras.cli.main", *argv]
        os.execve(sys.executable, command, environment)
    os.environ["KERAS_BACKEND"] = backend
    return _run_demo(args)


if __name__ == "__main__":
    sys.exit(main())
