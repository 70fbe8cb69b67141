"""The `gradscape` command: serve, export, list."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `gradscape export: error: …`, exit code 2.

    The export command's usage runs to a dozen lines; printed above every mistake it
    would bury the one line that says what is wrong (`--help` still shows it).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from app import __version__, commands
    from app.export import cli as export_cli

    parser = Parser(
        prog="gradscape", description="Watch optimizers race across 2-D loss landscapes."
    )
    parser.add_argument("--version", action="version", version=f"gradscape {__version__}")
    # Subcommand parsers are built by the same class, so they fail in one line too.
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
    except KeyboardInterrupt:
        # Ctrl-C during an export: the temporary file is already gone; no traceback.
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
