"""`coolkeras` command line: `coolkeras demo`."""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coolkeras")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train the article's models and show them")
    demo.add_argument("--epochs", type=int, default=3, help="training epochs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            print(
                f"coolkeras demo: --epochs must be >= 1. Received: {args.epochs}",
                file=sys.stderr,
            )
            return 2
        from coolkeras.demo import layer_tour

        layer_tour.run(epochs=args.epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
