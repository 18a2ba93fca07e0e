"""The ``predmarket`` command: a thin layer over the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    from predmarket.sim.scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="predmarket", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="three traders with different beliefs trade, then settle")
    demo.add_argument("--rounds", type=_positive_int, default=4, help="trading rounds (default 4)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    run = sub.add_parser("run", help="run a scenario; write a history database and figures")
    run.add_argument("scenario", choices=sorted(SCENARIOS),
                     help="; ".join(f"{k}: {(v.__doc__ or '').split(';')[0].strip()}"
                                    for k, v in sorted(SCENARIOS.items())))
    run.add_argument("--out", type=Path, default=Path("predmarket-run"),
                     help="output directory (default ./predmarket-run)")
    run.add_argument("--episodes", type=_positive_int, default=None)
    run.add_argument("--rounds", type=_positive_int, default=None)
    run.add_argument("--seed", type=_seed, default=0)
    run.add_argument("--progress", action="store_true", help="show a progress bar")
    run.add_argument("--no-figures", action="store_true", help="write only the database")
    plot = sub.add_parser("plot", help="draw the figures of a saved history")
    plot.add_argument("history", type=Path, help="a history database from `predmarket run`")
    plot.add_argument("--out", type=Path, default=None,
                      help="directory for the PNGs (default: next to the history)")
    plot.add_argument("--episode", type=int, default=0, help="episode of the price paths")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``predmarket`` console script."""
    args = _parser().parse_args(argv)
    out = sys.stdout
    if args.command == "demo":
        from predmarket.demo import run_demo

        run_demo(rounds=args.rounds, rng=args.seed, out=out)
    elif args.command == "run":
        from predmarket.sim.scenarios import SCENARIOS
        from predmarket.sim.sweep import summarize

        kwargs = {k: v for k, v in (("episodes", args.episodes), ("rounds", args.rounds))
                  if v is not None}
        sim = SCENARIOS[args.scenario](rng=args.seed, show_progress=args.progress, **kwargs)
        result = sim.run()
        args.out.mkdir(parents=True, exist_ok=True)
        db = result.recorder.save(args.out / "history.sqlite")
        print(f"scenario {args.scenario}: {sim.episodes} episodes x {sim.rounds} rounds, "
              f"{result.trades} trades, {len(result.faults)} faults", file=out)
        for key, value in summarize(result).items():
            if key not in ("trades", "faults"):
                print(f"  {key:<20} {value:10.3f}", file=out)
        print(f"history: {db}", file=out)
        if not args.no_figures:
            from predmarket.plot import save_figures

            for path in save_figures(result.recorder, args.out):
                print(f"figure:  {path}", file=out)
    elif args.command == "plot":
        from predmarket.errors import PredmarketError
        from predmarket.plot import save_figures

        directory = args.out if args.out is not None else args.history.parent
        try:
            paths = save_figures(args.history, directory, episode=args.episode)
        except PredmarketError as exc:
            print(f"predmarket plot: {exc}", file=sys.stderr)
            return 2
        for path in paths:
            print(f"figure: {path}", file=out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
