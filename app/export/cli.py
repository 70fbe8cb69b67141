"""`gradscape export`: every scene option of the page, validated by the API's own models.

    gradscape export --landscape rosenbrock --optimizers sgd,adam --lr adam=0.05 \\
        --steps 300 -o race.gif

Options become an ExportRequest (the body of POST /api/exports), so a bad value gets the
same message as the API's 422 and exit code 2. Hyperparameters: `--lr adam=0.05` (or
`--lr 0.05` for every optimizer) and the general `--param adam.beta1=0.8`; when one
optimizer is listed twice, `adam#2.lr=0.1` addresses the second. Schedules:
`--schedule cosine --warmup 20 --t-max 500`, or `--schedule-option t_max=500`.
A negative start is written `--start=-1.5,2` or `--start -1.5 2`.
"""

from __future__ import annotations

import argparse
import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

from app.config import FPS, FRAME, FRAMES, HEIGHT, NOISE, SEED, STEPS, WIDTH, Option
from app.schemas import (
    SCHEDULE_KINDS,
    SCHEDULE_OPTIONS,
    ExportRequest,
    describe,
    show_number,
)

_EXTENSIONS = {
    ".gif": "gif",
    ".mp4": "mp4",
    ".html": "html",
    ".htm": "html",
    ".png": "png",
    ".csv": "csv",
    ".json": "json",
}
_SCHEDULE_OPTIONS = tuple(SCHEDULE_OPTIONS)
_DEFAULT_OPTIMIZERS = "sgd,momentum,nag,adagrad,rmsprop,adam"


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `export` on the `gradscape` command; sets handler=run."""
    parser = subparsers.add_parser(
        "export",
        help="export a scene as GIF, MP4, HTML, PNG, CSV or JSON",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scene = parser.add_argument_group("scene (as on the page)")
    scene.add_argument("--landscape", default="rosenbrock", help="landscape name (gradscape list)")
    scene.add_argument(
        "--optimizers",
        default=_DEFAULT_OPTIMIZERS,
        help=f"comma-separated optimizer names, raced in order (default {_DEFAULT_OPTIMIZERS})",
    )
    scene.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="[OPT=]VALUE",
        help="learning rate: adam=0.05 for one optimizer, 0.05 for all; repeatable, or a,b",
    )
    scene.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help="any hyperparameter: adam.beta1=0.8, or beta1=0.8 for every optimizer that has it",
    )
    scene.add_argument(
        "--start",
        nargs="+",
        metavar="X,Y",
        help="start point 'x,y' or 'x y' within the landscape's bounds (gradscape list); "
        "the landscape's default start if left out",
    )
    scene.add_argument("--steps", type=int, default=STEPS.default, help=_help(STEPS))
    scene.add_argument("--noise", type=float, default=NOISE.default, help=_help(NOISE))
    scene.add_argument("--seed", type=int, default=SEED.default, help=_help(SEED))
    schedule = parser.add_argument_group("learning-rate schedule")
    schedule.add_argument("--schedule", metavar="KIND", help=", ".join(SCHEDULE_KINDS))
    # One flag per option of optimizers.schedules, with the core's words and range.
    for name, (spec, kinds) in SCHEDULE_OPTIONS.items():
        where = "" if len(kinds) == len(SCHEDULE_KINDS) else f"{'/'.join(kinds)}: "
        range_text = f"{show_number(spec.min)}–{show_number(spec.max)}"
        schedule.add_argument(
            f"--{name.replace('_', '-')}",
            type=int if spec.integer else float,
            help=f"{where}{spec.help.rstrip('.')}; {range_text}".replace("%", "%%"),
        )
    schedule.add_argument(
        "--schedule-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"any schedule option ({', '.join(_SCHEDULE_OPTIONS)}); repeatable",
    )
    output = parser.add_argument_group("output")
    output.add_argument("-o", "--output", required=True, type=Path, help="file to write")
    output.add_argument(
        "--format",
        choices=("gif", "mp4", "html", "png", "csv", "json"),
        help="file format (default: from the output's extension)",
    )
    output.add_argument("--width", type=int, default=WIDTH.default, help=_help(WIDTH))
    output.add_argument("--height", type=int, default=HEIGHT.default, help=_help(HEIGHT))
    output.add_argument("--fps", type=int, default=FPS.default, help=_help(FPS))
    output.add_argument("--frames", type=int, help=_help(FRAMES))
    output.add_argument(
        "--layout",
        choices=("overlay", "side_by_side", "side-by-side"),
        default="overlay",
        help="one plot, or one panel per optimizer (default overlay)",
    )
    output.add_argument("--frame", type=int, help=_help(FRAME))
    output.add_argument("--title", default="", help="extra title text")
    output.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run, export_parser=parser)
    return parser


def _help(option: Option) -> str:
    """`--help` text with the range the models enforce (argparse needs % doubled)."""
    default = option.default
    shown = default if isinstance(default, str) else show_number(float(default or 0))
    text = f"{option.help}, {show_number(option.min)}–{show_number(option.max)} (default {shown})"
    return text.replace("%", "%%")


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number") from None


def _split_assignments(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _target_runs(target: str, names: list[str], flag: str) -> list[int]:
    """Run indices addressed by 'adam' (every adam run) or 'adam#2' (the second)."""
    name, _, nth = target.partition("#")
    matches = [i for i, n in enumerate(names) if n == name]
    if not matches:
        raise ValueError(f"{flag}: {name!r} is not among --optimizers ({','.join(names)})")
    if nth:
        if not nth.isdigit() or not 1 <= int(nth) <= len(matches):
            raise ValueError(f"{flag}: {target!r}: {name} is listed {len(matches)} time(s)")
        return [matches[int(nth) - 1]]
    return matches


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """The ExportRequest body the options describe (validation is the model's job)."""
    import optimizers

    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    params: list[dict[str, float]] = [{} for _ in names]
    for item in _split_assignments(args.lr):
        target, sep, value = item.rpartition("=")
        runs = _target_runs(target, names, "--lr") if sep else range(len(names))
        for i in runs:
            params[i]["lr"] = _number(value, f"--lr {item}")
    for item in _split_assignments(args.param):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param {item!r}: expected [OPTIMIZER.]NAME=VALUE")
        target, dot, name = key.rpartition(".")
        if dot:
            runs = _target_runs(target, names, "--param")
        else:
            runs = []
            for i, n in enumerate(names):
                try:
                    known = {p.name for p in optimizers.spec(n)}
                except ValueError:
                    known = set()  # an unknown optimizer is reported by validation
                if name in known:
                    runs.append(i)
            if not runs:
                raise ValueError(f"--param {item!r}: no listed optimizer has a parameter {name!r}")
        for i in runs:
            params[i][name] = _number(value, f"--param {item}")

    body: dict[str, Any] = {
        "landscape": args.landscape,
        "steps": args.steps,
        "runs": [{"optimizer": n, "params": p} for n, p in zip(names, params, strict=True)],
        "noise": args.noise,
        "seed": args.seed,
        "width": args.width,
        "height": args.height,
        "fps": args.fps,
        "layout": args.layout.replace("-", "_"),
        "title": args.title,
    }
    if args.start:
        parts = [p for value in args.start for p in value.split(",") if p.strip()]
        if len(parts) != 2:
            raise ValueError(f"--start: expected x,y, got {' '.join(args.start)!r}")
        body["start"] = [_number(p, "--start") for p in parts]
    for key in ("frames", "frame"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    implied = _EXTENSIONS.get(args.output.suffix.lower())
    if args.format and implied and args.format != implied:
        # A GIF named .mp4 opens in nothing that trusts the name; almost surely a slip.
        raise ValueError(
            f"--format {args.format} contradicts the file name {args.output.name!r} "
            f"(that extension means {implied}); change one of them"
        )
    body["format"] = args.format or implied
    if body["format"] is None:
        raise ValueError(
            f"cannot tell the format from {args.output.name!r}; pass --format "
            f"(gif, mp4, html, png, csv or json) or use one of {', '.join(_EXTENSIONS)}"
        )
    schedule: dict[str, Any] = {}
    for option in _SCHEDULE_OPTIONS:
        if getattr(args, option, None) is not None:
            schedule[option] = getattr(args, option)
    for item in _split_assignments(args.schedule_option):
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in _SCHEDULE_OPTIONS:
            raise ValueError(
                f"--schedule-option {item!r}: expected NAME=VALUE with NAME one of "
                f"{', '.join(_SCHEDULE_OPTIONS)}"
            )
        number = _number(value, f"--schedule-option {item}")
        integer = SCHEDULE_OPTIONS[key][0].integer
        schedule[key] = int(number) if integer and number.is_integer() else number
    if args.schedule is not None or schedule:
        body["schedule"] = {"kind": args.schedule or "constant", **schedule}
    return body


class ProgressBar:
    """A text bar on stderr, redrawn in place on a terminal; silent when piped."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown = -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if not self.tty or percent == self._shown:
            return
        self._shown = percent
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}%")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()


# Failures of the output's storage while writing it (disk full, quota, I/O error):
# reported in one line, exit code 1 — the command was right, the machine said no.
_STORAGE_ERRORS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EIO,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
}


def _fail(parser: argparse.ArgumentParser, message: str, code: int = 2) -> NoReturn:
    """One line on stderr, `gradscape export: error: …`, then exit (2: a user mistake)."""
    parser.exit(code, f"{parser.prog}: error: {message}\n")


def _why_not_writable(error: OSError) -> str:
    if error.errno == errno.EROFS:
        return "the file system is read-only"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ENOENT:  # the directory exists: /proc and the like refuse files
        return "this file system does not take new files"
    return (error.strerror or str(error)).lower()


def check_output(output: Path) -> Path:
    """The file to replace at the end (a symlink is followed, so the link stays).

    ValueError in one sentence for an output that can never be a file: a directory, a
    device, or a path whose parent is missing or is itself a file.
    """
    target = Path(os.path.realpath(output)) if output.is_symlink() else output
    if target.is_dir():
        raise ValueError(f"output {str(output)!r} is a directory; name a file in it")
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        raise ValueError(f"output {str(output)!r} is not a regular file")
    directory = target.parent
    if not directory.is_dir():
        for parent in (directory, *directory.parents):
            if parent.exists() and not parent.is_dir():
                raise ValueError(
                    f"cannot create {str(output)!r}: {str(parent)!r} is a file, not a directory"
                )
        raise ValueError(f"output directory {str(directory)!r} does not exist")
    return target


def temporary_beside(target: Path, output: Path, fmt: str) -> Path:
    """An empty file next to `target`, renamed over it once the export is complete.

    Creating it is the writability test — it is what the export does — so a read-only
    file system, a denied directory, /proc or /sys fail here in one sentence, before
    anything is rendered, and a failed export never leaves a half-written file.
    """
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=".gradscape-", suffix=f".{fmt}", dir=target.parent
        )
    except OSError as error:
        raise ValueError(f"cannot create {str(output)!r}: {_why_not_writable(error)}") from None
    os.close(handle)
    os.chmod(temporary, 0o644)  # mkstemp's 0600 is for secrets; this is a shareable file
    return Path(temporary)


def run(args: argparse.Namespace) -> int:
    """Handler of `gradscape export`; a mistake exits with code 2 and one line saying what."""
    from app.export.pipeline import run_export

    parser: argparse.ArgumentParser = args.export_parser
    output: Path = args.output
    try:
        target = check_output(output)  # first: a directory is no file, whatever its name
        request = ExportRequest.model_validate(build_request(args))
        temporary = temporary_beside(target, output, request.format)
    except ValidationError as error:
        _fail(parser, describe(error))
    except ValueError as error:
        _fail(parser, str(error))
    bar = ProgressBar(f"{request.format} {output.name}")
    try:
        run_export(request, temporary, None if args.quiet else bar)
        os.replace(temporary, target)
    except ValueError as error:
        _fail(parser, str(error))
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise  # not about the output file: a bug to report, with its traceback
        _fail(parser, f"writing {str(output)!r} failed: {error.strerror}", code=1)
    finally:
        bar.close()
        temporary.unlink(missing_ok=True)
    if not args.quiet:
        size = target.stat().st_size
        print(f"wrote {output} ({size / 1024:.0f} KiB)", file=sys.stderr)
    return 0
