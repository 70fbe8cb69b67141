"""The `gradscape` command: serve, export, list."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from app import commands
    from app.export import cli as export_cli

    parser = argparse.ArgumentParser(
        prog="gradscape", description="Watch optimizers race across 2-D loss landscapes."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_serve_parser(sub)
    commands.add_list_parser(sub)
    export_cli.add_export_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # `gradscape list | head`: the reader left; stop quietly, like other Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
