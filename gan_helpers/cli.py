"""Command line: ``python -m gan_helpers series`` runs the notebooks; more subcommands join here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "main"]


def _add_series_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "series",
        help="execute the notebooks headless",
        description="Execute every notebook top to bottom in a fresh kernel. By default executed "
        "copies go to --out and the committed notebooks are left untouched.",
    )
    p.add_argument("names", nargs="*", help="run only these notebooks (e.g. 00 02_toy_gan_1d)")
    p.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="folder of the series")
    p.add_argument("--out", type=Path, default=Path("build/notebooks"), help="where executed copies go")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--fast", action="store_true", help="fast mode (GAN_HELPERS_FAST=1)")
    mode.add_argument("--full", action="store_true", help="full mode (GAN_HELPERS_FAST=0)")
    p.add_argument(
        "--inplace",
        action="store_true",
        help="maintainers: write outputs into the committed notebooks (use with --full)",
    )
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    p.set_defaults(func=_run_series)


def _run_series(args: argparse.Namespace) -> int:
    from gan_helpers.series import run_series

    fast = True if args.fast else False if args.full else None
    runs = run_series(args.notebooks, None if args.inplace else args.out, args.names, fast, args.timeout)
    total = sum(r.seconds for r in runs)
    print(f"{len(runs)} notebook(s) executed in {total:.0f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_helpers", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_series_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
