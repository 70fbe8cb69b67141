"""`gradscape serve` and `gradscape list`."""

from __future__ import annotations

import argparse
import contextlib
import errno
import socket
import sys
import threading
import time
import urllib.request
import webbrowser
from typing import Any, TextIO

from app import config

# uvicorn's default: connections queued while the app is busy.
_BACKLOG = 2048


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
    parser.add_argument("--host", default=config.DEFAULT_HOST, help="interface to bind")
    parser.add_argument(
        "--port", type=_port, default=config.DEFAULT_PORT, help="TCP port (0: any free port)"
    )
    parser.add_argument(
        "--open", action="store_true", help="open the page in the browser once it answers"
    )
    parser.set_defaults(handler=serve, serve_parser=parser)


def add_list_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="landscapes, optimizers and every option's range",
        description="Print every landscape, optimizer (default and range of each "
        "hyperparameter), learning-rate schedule, and the scene and export options of "
        "`gradscape export` with the ranges the server accepts.",
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


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` names; OSError if any cannot be bound.

    Bound here rather than inside uvicorn so that a busy port or a bad host is reported
    before the server says it is running, in words, with a non-zero exit code.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            if sys.platform != "win32":  # on Windows this would let two servers share a port
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # "::" serves IPv6 only, as asyncio binds it
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:  # every address on the port the first got
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock.bind(address)
            sock.listen(_BACKLOG)  # connections queue from now on, before uvicorn starts
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def bind_problem(error: OSError, host: str, port: int) -> str:
    """One line saying why `host`:`port` cannot be served, and what to do instead."""
    where = f"port {port} on {host or 'all interfaces'}"
    if isinstance(error, socket.gaierror):
        return (
            f"--host {host!r} is not an address or a name this machine can resolve "
            f"({error.strerror}); use e.g. 127.0.0.1, or 0.0.0.0 to share on the network"
        )
    if error.errno == errno.EADDRINUSE:
        return f"{where} is already in use by another program; choose another with --port"
    if error.errno in (errno.EACCES, errno.EPERM):
        hint = (
            "ports below 1024 need administrator rights; use e.g. --port 8000"
            if 0 < port < 1024
            else "choose another --port"
        )
        return f"permission denied to listen on {where}: {hint}"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"--host {host!r} is not an address of this machine; use e.g. 127.0.0.1 or 0.0.0.0"
    return f"cannot listen on {where}: {error.strerror or error}"


def serve(args: argparse.Namespace) -> int:
    """Bind, say where, then run uvicorn on that socket until Ctrl-C."""
    import uvicorn

    parser: argparse.ArgumentParser = args.serve_parser
    try:
        sockets = listen(args.host, args.port)
    except OSError as error:
        parser.error(bind_problem(error, args.host, args.port))
    try:
        port = sockets[0].getsockname()[1]  # the real one when --port 0
        url = _page_url(args.host, port)
        print(f"Gradscape on {url}  (Ctrl-C to stop)", flush=True)
        if args.open:
            threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
        server_config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=port,
            log_level="warning",
            ws_max_size=config.WS_MAX_MESSAGE_BYTES,
            # Deflating every chunk costs more CPU than it saves: a whole scene is ~200 kB,
            # sent over loopback or a classroom LAN (measured with benchmarks/ws_latency.py).
            ws_per_message_deflate=False,
        )
        server = uvicorn.Server(server_config)
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it ends on
            server.run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
    return 0 if server.started else 1


def _number(value: float | None) -> str:
    from app.schemas import show_number

    return "∞" if value is None else show_number(value)


def _table(rows: list[list[str]], out: TextIO, indent: str = "  ") -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(indent + line.rstrip() + "\n")
        if n == 0:
            out.write(indent + "  ".join("-" * w for w in widths) + "\n")


def option_flag(name: str) -> str:
    """The `gradscape export` flag of a scene or export option."""
    return "--optimizers" if name == "runs" else f"--{name.replace('_', '-')}"


def _option_rows(options: tuple[Any, ...]) -> list[list[str]]:
    rows = [["option", "default", "range", "meaning"]]
    for o in options:
        if o.default is None:
            default = "-"
        elif isinstance(o.default, str):
            default = o.default or '""'
        else:
            default = _number(o.default)
        rows.append([option_flag(o.name), default, f"[{_number(o.min)}, {_number(o.max)}]", o.help])
    return rows


def list_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the catalogue the page offers (the data of /api/landscapes and /api/optimizers)
    and the scene and export options, each range exactly as validation enforces it."""
    from app.catalogue import landscape_catalogue, optimizer_catalogue
    from app.config import EXPORT_OPTIONS, SCENE_OPTIONS

    out = out or sys.stdout
    out.write("Landscapes (a start point must lie within the x and y range)\n")
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
                f"[{_number(xmin)}, {_number(xmax)}]",
                f"[{_number(ymin)}, {_number(ymax)}]",
                f"({_number(info.default_start[0])}, {_number(info.default_start[1])})",
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

    out.write("\nScene options (gradscape export; the API and the page accept the same)\n")
    _table(_option_rows(SCENE_OPTIONS), out)
    out.write("\nExport options (gradscape export and POST /api/exports)\n")
    _table(_option_rows(EXPORT_OPTIONS), out)
    return 0
