"""The ``predmarket`` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``predmarket`` console script."""
    parser = argparse.ArgumentParser(prog="predmarket", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="three traders with different beliefs trade, then settle")
    demo.add_argument("--rounds", type=int, default=4, help="trading rounds (default 4)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from predmarket.demo import run_demo

        run_demo(rounds=args.rounds, rng=args.seed, out=sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
