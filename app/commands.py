"""`gradscape serve` and `gradscape list`."""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.request
import webbrowser
from typing import Any, TextIO

from app import settings


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be an integer, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def add_serve_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the app (http://127.0.0.1:8000)",
        description=(
            "Run the Gradscape server. It binds 127.0.0.1 (this machine only) unless told "
            "otherwise; --host 0.0.0.0 shares it with the room's network."
        ),
    )
    parser.add_argument("--host", default=settings.DEFAULT_HOST, help="interface to bind")
    parser.add_argument("--port", type=_port, default=settings.DEFAULT_PORT, help="TCP port")
    parser.add_argument(
        "--open", action="store_true", help="open the page in the browser once it answers"
    )
    parser.set_defaults(handler=serve)


def add_list_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="landscapes and optimizers with their hyperparameters",
        description="Print every landscape, optimizer (default and range of each "
        "hyperparameter) and learning-rate schedule.",
    )
    parser.set_defaults(handler=list_command)


def _page_url(host: str, port: int) -> str:
    # 0.0.0.0 / :: are bind-all addresses, not places a browser can go.
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _open_when_ready(url: str, timeout: float = 30.0) -> None:
    """Open the browser only once /healthz answers, so the first load never fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1.0):
                break
        except OSError:
            time.sleep(0.1)
    webbrowser.open(url)


def serve(args: argparse.Namespace) -> int:
    """Run uvicorn in this process until Ctrl-C."""
    import uvicorn

    url = _page_url(args.host, args.port)
    print(f"Gradscape on {url}  (Ctrl-C to stop)", flush=True)
    if args.open:
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_max_size=settings.WS_MAX_MESSAGE_BYTES,
        # Deflating every chunk costs more CPU than it saves: a whole scene is ~200 kB, sent
        # over loopback or a classroom LAN (measured with benchmarks/ws_latency.py).
        ws_per_message_deflate=False,
    )
    return 0


def _number(value: float | None) -> str:
    if value is None:
        return "∞"
    return f"{value:g}"


def _table(rows: list[list[str]], out: TextIO, indent: str = "  ") -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(indent + line.rstrip() + "\n")
        if n == 0:
            out.write(indent + "  ".join("-" * w for w in widths) + "\n")


def list_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the catalogue the page offers: the same data as /api/landscapes and /api/optimizers."""
    from app.routes.landscapes import catalogue as landscape_catalogue
    from app.routes.optimizers import catalogue as optimizer_catalogue

    out = out or sys.stdout
    out.write("Landscapes\n")
    rows = [["name", "title", "x range", "y range", "default start", "global minimum"]]
    for info in landscape_catalogue():
        (xmin, xmax), (ymin, ymax) = info.bounds
        best = [m for m in info.minima if m.kind == "global"]
        minimum = (
            f"{best[0].value:g} at ({best[0].x:g}, {best[0].y:g})"
            + (f" +{len(best) - 1} more" if len(best) > 1 else "")
            if best
            else "none"
        )
        rows.append(
            [
                info.name,
                info.title,
                f"[{xmin:g}, {xmax:g}]",
                f"[{ymin:g}, {ymax:g}]",
                f"({info.default_start[0]:g}, {info.default_start[1]:g})",
                minimum,
            ]
        )
    _table(rows, out)

    reply = optimizer_catalogue()
    out.write("\nOptimizers (hyperparameter: default, allowed range; log = log-scale slider)\n")
    for opt in reply.optimizers:
        out.write(f"\n  {opt.name} — {opt.title}\n")
        rows = [["parameter", "default", "range", "scale", "meaning"]]
        for p in opt.params:
            rows.append(
                [
                    p.name,
                    _number(p.default),
                    f"[{_number(p.min)}, {_number(p.max)}]",
                    "log" if p.log else "linear",
                    p.help,
                ]
            )
        _table(rows, out, indent="    ")

    out.write("\nLearning-rate schedules (--schedule KIND with these options)\n")
    rows = [["kind", "options (default, range)"]]
    for schedule in reply.schedules:
        options = ", ".join(
            f"{o.name}={_number(o.default) if o.default is not None else 'steps'} "
            f"[{_number(o.min)}, {_number(o.max)}]"
            for o in schedule.options
        )
        rows.append([schedule.kind, options])
    _table(rows, out)
    return 0
