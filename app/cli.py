"""The `gradscape` command: serve, list, export — every subcommand in this one module.

    gradscape serve [--host 127.0.0.1] [--port 8000] [--open] [--workers N] [--shutdown-grace S]
                    [--allow-host NAME]… [--allow-origin URL]…
    gradscape list
    gradscape export --landscape rosenbrock --optimizers sgd,adam --lr adam=0.05 -o race.gif

One file, in four parts: the command itself (parser, exit codes), `serve` (bind first,
then uvicorn), `list` (the catalogue and option tables) and `export` (options → an
ExportRequest, the same model as POST /api/exports, so a bad value gets the API's words).
Each part reads its facts from their homes — app.config (limits, options, server
defaults), app.catalogue (landscapes, optimizers), app.schemas (schedule options, the
error formatter) — and holds none of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import os
import re
import signal
import socket
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

import optimizers
from app import __version__, config, presets
from app.catalogue import landscape_catalogue, optimizer_catalogue
from app.config import (
    BASIN_RESOLUTION,
    DURATION,
    EXPORT_OPTIONS,
    FPS,
    FRAME,
    FRAMES,
    HEATMAP_COUNT,
    HEIGHT,
    MAP_STEPS,
    NOISE,
    SCENE_OPTIONS,
    SEED,
    STEPS,
    SWEEP_COUNT,
    TUNE_BUDGET,
    WIDTH,
    Option,
)
from app.schemas import (
    SCHEDULE_KINDS,
    SCHEDULE_OPTIONS,
    ExportRequest,
    describe,
    show_number,
)

# --- the command --------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `gradscape export: error: …`, exit code 2.

    The export command's usage runs to a dozen lines; printed above every mistake it
    would bury the one line that says what is wrong (`--help` still shows it).
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gradscape", description="Watch optimizers race across 2-D loss landscapes."
    )
    parser.add_argument("--version", action="version", version=f"gradscape {__version__}")
    # Subcommand parsers are built by the same class, so they fail in one line too.
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_parser(sub)
    add_list_parser(sub)
    add_export_parser(sub)
    add_sweep_parser(sub)
    add_basins_parser(sub)
    add_tune_parser(sub)
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


# --- gradscape serve and gradscape list ---------------------------------------------------

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


def _grace(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"shutdown grace must be a number of seconds in [1, 600], got {text!r}"
        ) from None
    if not 1 <= seconds <= 600:
        raise argparse.ArgumentTypeError(
            f"shutdown grace must be in [1, 600] seconds, got {seconds:g}"
        )
    return seconds


def _workers(text: str) -> int:
    allowed = f"between {config.DEFAULT_WORKERS} and {config.MAX_WORKERS}"
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"workers must be a whole number {allowed}, got {text!r}"
        ) from None
    if not config.DEFAULT_WORKERS <= workers <= config.MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"workers must be {allowed}, got {workers}")
    return workers


# One label of a DNS name (RFC 1123): letters, digits, inner hyphens, at most 63 characters.
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _host_name(host: str) -> bool:
    """Whether `host` (lower case, no port) is an IP address or a DNS name."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    labels = host.removesuffix(".").split(".")
    return (
        len(host) <= 253
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()  # 192.168.1.300 is a mistyped address, not a name
    )


def allowed_host(text: str) -> str:
    """`--allow-host`: a name or address, optionally `:port`, as a Host header carries it.

    Checked here as a DNS name (RFC 1123 labels) or an IP address, so a typo or a URL is
    refused before the server starts, then as app.gate reads it. Lower-cased (names are
    case-blind); an IPv6 address in brackets, as a Host header writes it. `*` lets any
    Host in (the gate's escape hatch: no protection against DNS rebinding).
    """
    from app.gate import parse_hosts

    host = value = text.strip().lower()
    if value == "*":
        return value
    port = None
    if host.startswith("["):  # [IPv6] or [IPv6]:port
        inside, bracket, rest = host[1:].partition("]")
        if bracket and (not rest or rest.startswith(":")):
            host, port = inside, rest[1:] or None
            if ":" not in host:
                host = ""  # brackets are for IPv6 only
    elif host.count(":") == 1:  # name:port or IPv4:port (more colons: a bare IPv6)
        host, port = host.split(":")
    if not host or not _host_name(host) or (port is not None and not _port_number(port)):
        raise argparse.ArgumentTypeError(
            f"expected a host name or IP address, optionally with :port (e.g. "
            f"gradscape.example.edu or 192.168.1.20:8000), got {text!r}"
        )
    if ":" in host and not value.startswith("["):
        value = f"[{host}]"
    try:
        parse_hosts([value])
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _port_number(text: str) -> bool:
    return text.isdigit() and 1 <= int(text) <= 65535


def allowed_origin(text: str) -> str:
    """`--allow-origin`: scheme://host[:port] as a browser's Origin header carries it.

    A trailing slash is dropped and a default port (http :80, https :443) left out, since
    browsers never send them (app.gate.normalize_origin); anything else after the host (a
    path, query or user) is an error, because an Origin never has one.
    """
    example = "e.g. https://gradscape.example.edu"
    try:
        url = urllib.parse.urlsplit(text.strip())
        url.port  # noqa: B018 — raises ValueError for a port out of range
    except ValueError:
        url = None
    if url is None or url.scheme.lower() not in ("http", "https") or not url.hostname:
        raise argparse.ArgumentTypeError(
            f"expected an origin scheme://host[:port] with scheme http or https ({example}), "
            f"got {text!r}"
        )
    if url.path not in ("", "/") or url.query or url.fragment or "@" in url.netloc:
        raise argparse.ArgumentTypeError(
            f"an origin is only scheme://host[:port], without a path, query or user "
            f"({example}), got {text!r}"
        )
    from app.gate import normalize_origin

    netloc = url.netloc.lower()
    try:
        allowed_host("" if netloc == "*" else netloc)  # the host follows --allow-host's rules
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a host name or IP address in the origin ({example}), got {text!r}"
        ) from None
    origin = normalize_origin(text)  # as app.gate compares it: no default port
    if origin is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an origin ({example})")
    return origin


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
    parser.add_argument(
        "--workers",
        type=_workers,
        default=config.DEFAULT_WORKERS,
        metavar="N",
        help=(
            f"worker processes serving the same port ({config.DEFAULT_WORKERS}-"
            f"{config.MAX_WORKERS}; default {config.DEFAULT_WORKERS}): for a class, up to "
            "one per CPU core"
        ),
    )
    parser.add_argument(
        "--shutdown-grace",
        type=_grace,
        default=_SHUTDOWN_SECONDS,
        metavar="SECONDS",
        help=(
            f"with --workers > 1: workers still shutting down this long after Ctrl-C or "
            f"SIGTERM (a connection that never closes) are killed (1-600; default "
            f"{_SHUTDOWN_SECONDS:g})"
        ),
    )
    parser.add_argument(
        "--allow-host",
        type=allowed_host,
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "also answer requests addressed to this host name, e.g. a reverse proxy's "
            "gradscape.example.edu (repeatable; * for any name)"
        ),
    )
    parser.add_argument(
        "--allow-origin",
        type=allowed_origin,
        action="append",
        default=[],
        metavar="URL",
        help=(
            "also let pages of this origin, scheme://host[:port] (e.g. a course site's "
            "https://course.example.edu), use the API and the live channel (repeatable)"
        ),
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


# Linux spreads new connections evenly over listening sockets that share a port with
# SO_REUSEPORT (by a hash of the client's address and port), so each worker gets its own.
# Workers sharing one socket share badly: asyncio accepts every queued connection at once,
# so a burst (a class opening the page together) lands on whichever worker woke first —
# measured with benchmarks/load.py: 20 of 20 clients on one worker, 44 of 50. Elsewhere
# (macOS, Windows) SO_REUSEPORT does not balance: the workers share one socket.
SHARE_PORT = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def _listening_socket(family: int, kind: int, proto: int, share: bool) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    if sys.platform != "win32":  # on Windows this would let two servers share a port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:  # "::" serves IPv6 only, as asyncio binds it
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    # Accepted connections inherit it: a client that stops reading is noticed after about
    # this much, not after the megabytes autotuning would let the kernel take.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, config.SOCKET_SEND_BUFFER_BYTES)
    return sock


def listen(host: str, port: int, copies: int = 1) -> list[list[socket.socket]]:
    """Listening sockets for every address `host` names, `copies` sets of them on the same
    port (one set per worker process, SO_REUSEPORT); OSError if any cannot be bound.

    Bound here rather than inside uvicorn so that a busy port or a bad host is reported
    before the server says it is running, in words, with a non-zero exit code.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sets: list[list[socket.socket]] = [[] for _ in range(copies)]
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            if port == 0 and sets[0]:  # every address on the port the first got
                address = (address[0], sets[0][0].getsockname()[1], *address[2:])
            if copies > 1:
                # A plain bind first: it fails if anything listens there already, even
                # another server sharing its port this way (it would split the class).
                with _listening_socket(family, kind, proto, share=False) as probe:
                    probe.bind(address)
                    address = (address[0], probe.getsockname()[1], *address[2:])
            for copy in sets:
                sock = _listening_socket(family, kind, proto, share=copies > 1)
                copy.append(sock)
                sock.bind(address)
                sock.listen(_BACKLOG)  # connections queue from now on, before uvicorn starts
    except OSError:
        for sock in (sock for copy in sets for sock in copy):
            sock.close()
        raise
    return sets


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


def _announce_lan(host: str, port: int, url: str) -> None:
    """Where students open the page, when the server listens beyond this machine."""
    from app.share import is_loopback, lan_hosts

    if is_loopback(host):
        return
    urls = [f"http://{lan}:{port}/" for lan in lan_hosts(host)]
    for lan_url in urls:
        if lan_url != url:
            print(f"On the room's network: {lan_url}", flush=True)
    if not urls:
        print(
            "No network address yet: join the room's network for students to reach it.",
            flush=True,
        )


def _add_to_env_list(name: str, values: list[str]) -> None:
    """Append `values` to the comma-separated list in environment variable `name`."""
    from app.gate import env_list

    if values:
        os.environ[name] = ",".join(dict.fromkeys([*env_list(name), *values]))


class _Stopped(Exception):  # noqa: N818 — a request to stop, not a failure
    """SIGTERM in the parent, raised where it lands so `serve` cleans up and exits 0."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped


# A worker that leaves its supervisor's ping unanswered this long is hung: killed and
# replaced. uvicorn's 5 s could kill a worker that is merely busy on a loaded machine
# (and with it every WebSocket it serves); a hung one is rare and can wait.
_HEALTHCHECK_SECONDS = 30
# Workers still shutting down this long after SIGTERM (a connection that never closes) are
# killed, so `kill` or a service manager always gets the server stopped.
_SHUTDOWN_SECONDS = 30
# Signals that stop the workers: Ctrl-C, `kill`, and the terminal closing (SIGHUP), which
# would otherwise end this process alone and leave its workers serving.
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class WorkerPool:
    """N uvicorn worker processes, worker i serving socket set i, until a stop signal.

    uvicorn's own worker process (`uvicorn.supervisors.multiprocess.Process`: a spawned
    interpreter running `Server.run` on sockets passed to it, answering health pings).
    What `uvicorn --workers N`'s supervisor adds is kept — a worker that dies or stops
    answering is replaced, on its own sockets, and a worker that fails to start ends the
    pool (uvicorn's ends it only for exit code 3, and restarts forever a worker whose app
    raises on import) — and what would not fit a class is left out: SIGHUP stops rather
    than restarts.
    """

    def __init__(
        self,
        server_config: Any,
        socket_sets: list[list[socket.socket]],
        grace: float = _SHUTDOWN_SECONDS,
    ) -> None:
        self.config, self.grace = server_config, grace
        # One set per worker; with a single set (no SO_REUSEPORT) every worker shares it.
        self.socket_sets = (
            socket_sets * server_config.workers if len(socket_sets) == 1 else socket_sets
        )
        self.processes: list[Any] = []
        self.signals: list[int] = []  # appended by the handler, read by the loop
        self.serving: set[int] = set()  # workers that have said they serve
        self.silent_since: dict[int, float] = {}  # serving workers not answering pings
        self.failed = False

    def _start(self, sockets: list[socket.socket]) -> Any:
        from app.worker import Worker

        process = Worker(self.config, sockets, parent=os.getpid())
        process.start()
        return process

    def run(self) -> bool:
        """Serve until SIGINT, SIGTERM or SIGHUP; then stop every worker and wait for it.
        False if a worker could not start (the app is broken; no use retrying)."""
        handlers = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            self.processes = [self._start(sockets) for sockets in self.socket_sets]
            while not self.signals and not self.failed:
                time.sleep(0.5)
                self._replace_dead()
        finally:
            for process in self.processes:
                process.terminate()  # SIGTERM: each shuts down gracefully
            deadline = time.monotonic() + self.grace
            for process in self.processes:
                process.process.join(max(0.0, deadline - time.monotonic()))
                if process.process.is_alive():  # held by a connection that never closes
                    process.kill()
                    process.join()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        return not self.failed

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signals.append(signum)

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if self.signals:
                return
            if process.pid in self.serving:
                # Pinged briefly, so a stop signal is never kept waiting; killed only once
                # silent for the whole health-check time.
                if process.is_alive(timeout=1):
                    self.silent_since.pop(process.pid, None)
                    continue
                silent = self.silent_since.setdefault(process.pid, time.monotonic())
                if process.process.is_alive() and time.monotonic() - silent < _HEALTHCHECK_SECONDS:
                    continue
            elif process.is_ready(timeout=1):
                self.serving.add(process.pid)
                continue
            elif process.process.is_alive():  # still importing the app
                continue
            process.kill()
            process.join()
            if process.pid not in self.serving and (process.exitcode or 0) > 0:
                # It failed before serving (not killed): the app cannot start (its error is
                # printed above), and every replacement would fail the same way.
                print(
                    "gradscape serve: error: a worker could not start the app; stopping",
                    file=sys.stderr,
                    flush=True,
                )
                self.failed = True
                return
            print(f"worker {process.pid} stopped; starting another", file=sys.stderr, flush=True)
            self.processes[index] = self._start(self.socket_sets[index])


def serve(args: argparse.Namespace) -> int:
    """Bind, say where, then run uvicorn on those sockets until Ctrl-C or SIGTERM.

    With --workers N > 1 the app runs in N processes (WorkerPool); this process binds,
    announces and prepares what they share — environment variables, which each worker
    reads as it starts, and the export job directory — once, and cleans up after them.
    """
    import uvicorn

    parser: argparse.ArgumentParser = args.serve_parser
    copies = args.workers if SHARE_PORT else 1
    try:
        socket_sets = listen(args.host, args.port, copies)
    except OSError as error:
        parser.error(bind_problem(error, args.host, args.port))
    ok = False  # served, or stopped as asked before serving
    on_term = signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        port = socket_sets[0][0].getsockname()[1]  # the real one when --port 0
        url = _page_url(args.host, port)
        print(f"Gradscape on {url}  (Ctrl-C to stop)", flush=True)
        _announce_lan(args.host, port, url)
        cores = os.cpu_count() or 1
        if args.workers > cores:
            print(
                f"note: {args.workers} workers on {cores} CPU cores: more workers than cores "
                "cost memory and bring no speed",
                file=sys.stderr,
                flush=True,
            )
        # The app reads the bound address from here (so do worker processes): its share
        # panel warns when students cannot open links, or shows the room's address.
        os.environ[config.BIND_HOST_ENV] = args.host
        # Likewise the names and origins app.gate lets in, added to any already set there.
        _add_to_env_list(config.ALLOW_HOSTS_ENV, args.allow_host)
        _add_to_env_list(config.ALLOW_ORIGINS_ENV, args.allow_origin)
        if args.workers > 1:
            from app.export.jobs import EXPORT_DIR_ENV, prepare_export_root

            # Export jobs live in files there, so a job started through one worker is polled
            # and downloaded through any; removed when this process exits (atexit).
            os.environ[EXPORT_DIR_ENV] = str(prepare_export_root())
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
            workers=args.workers,
        )
        if args.workers > 1:
            ok = WorkerPool(server_config, socket_sets, args.shutdown_grace).run()
        else:
            server = uvicorn.Server(server_config)
            # uvicorn shuts down gracefully on Ctrl-C or SIGTERM, then raises the signal
            # again: a KeyboardInterrupt, or _Stopped from the handler above.
            with contextlib.suppress(KeyboardInterrupt, _Stopped):
                server.run(sockets=socket_sets[0])
            ok = server.started
    except _Stopped:  # SIGTERM before any server started
        ok = True
    finally:
        signal.signal(signal.SIGTERM, on_term)
        for sock in (sock for sockets in socket_sets for sock in sockets):
            sock.close()
    return 0 if ok else 1


def _number(value: float | None) -> str:
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
    data = [f"{info.name} (N = {info.samples})" for info in landscape_catalogue() if info.samples]
    if data:
        out.write(f"\nLosses over data (mini-batches: --batch 1 … N): {', '.join(data)}\n")

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

    out.write("\nOptimizer groups (as the page's picker shows them)\n")
    rows = [["group", "optimizers"]]
    for group in reply.groups:
        rows.append([group, ", ".join(o.name for o in reply.optimizers if o.group == group)])
    _table(rows, out)
    out.write(
        "\nGradient-free methods read f's values, never its gradient: a run evaluates steps × S "
        f"points\n(S = 1, or the population), at most {config.MAX_SAMPLED:,}; the maps (sweep, "
        "heatmap, basins, tune)\ntake gradient methods only.\n"
    )

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


# --- gradscape export ---------------------------------------------------------------------

# `gradscape export --help` shows this text above the options.
EXPORT_DESCRIPTION = """\
    gradscape export --landscape rosenbrock --optimizers sgd,adam --lr adam=0.05 \\
        --steps 300 -o race.gif
    gradscape export --preset warmup --lang ja --duration 10 --format mp4

`--preset ID` sets the whole scene of a lecture preset (landscape, optimizers and their
hyperparameters, start, steps, noise, seed, schedule, layout) and its title; any other
scene flag overrides that part. Without -o the file is named after the scene
(gradscape-warmup.mp4, gradscape-rosenbrock-sgd-adam.gif) in the current directory.

Options become an ExportRequest (the body of POST /api/exports), so a bad value gets the
same message as the API's 422 and exit code 2. Hyperparameters: `--lr adam=0.05` (or
`--lr 0.05` for every optimizer) and the general `--param adam.beta1=0.8`; when one
optimizer is listed twice, `adam#2.lr=0.1` addresses the second. Schedules:
`--schedule cosine --warmup 20 --t-max 500`, or `--schedule-option t_max=500`.
A negative start is written `--start=-1.5,2` or `--start -1.5 2`.
"""

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
_DEFAULT_OPTIMIZERS = ",".join(config.CLASSIC_OPTIMIZERS)


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `export` on the `gradscape` command; sets handler=export_command."""
    parser = subparsers.add_parser(
        "export",
        help="export a scene as GIF, MP4, HTML, PNG, CSV or JSON",
        description=EXPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scene = parser.add_argument_group("scene (as on the page)")
    scene.add_argument(
        "--preset",
        metavar="ID",
        help=f"a lecture preset's whole scene ({', '.join(p.id for p in presets.PRESETS)}); "
        "other scene flags override its parts",
    )
    scene.add_argument(
        "--landscape", help="landscape name (gradscape list; default the preset's, or rosenbrock)"
    )
    scene.add_argument(
        "--expr",
        metavar="F",
        help="a function of your own instead of --landscape, e.g. 'x**2/20 + y**2' "
        "(numbers, x, y, + - * / ** ^, sin cos tan exp log sqrt abs tanh sinh cosh min max "
        "pi e); its gradient is exact",
    )
    scene.add_argument(
        "--bounds",
        nargs="+",
        metavar="XMIN,XMAX,YMIN,YMAX",
        help="--expr's view and search region (default -3,3,-3,3)",
    )
    scene.add_argument(
        "--optimizers",
        help="comma-separated optimizer names, raced in order "
        f"(default the preset's, or {_DEFAULT_OPTIMIZERS})",
    )
    add_run_options(scene, lr=True)
    scene.add_argument(
        "--batch",
        action="append",
        default=[],
        metavar="[OPT=]B",
        help="mini-batch size on a landscape over data (gradscape list): 8 for every run, "
        "sgd#2=8 for one, full for the whole data; repeatable, or a,b (list an optimizer "
        "twice to race two batch sizes: --optimizers sgd,sgd --batch sgd#2=8)",
    )
    scene.add_argument(
        "--start",
        nargs="+",
        metavar="X,Y",
        help="start point 'x,y' or 'x y' within the landscape's bounds (gradscape list); "
        "the landscape's default start if left out",
    )
    scene.add_argument(
        "--record",
        metavar="OPTS",
        help="comma-separated optimizers whose updates are recorded: their gradient, "
        "learning rate and buffers become CSV columns (grad_x, …, exp_avg_sq_y) and JSON, "
        "and --arrows draws them (default the preset's inspected one)",
    )
    add_run_length_options(scene, STEPS)
    add_schedule_options(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "-o",
        "--output",
        type=Path,
        help="file to write (default gradscape-<preset, or landscape-optimizers>.<format>)",
    )
    output.add_argument(
        "--format",
        choices=("gif", "mp4", "html", "png", "csv", "json"),
        help="file format (default: from the output's extension, else gif)",
    )
    output.add_argument("--width", type=int, default=WIDTH.default, help=_help(WIDTH))
    output.add_argument("--height", type=int, default=HEIGHT.default, help=_help(HEIGHT))
    output.add_argument("--fps", type=int, default=FPS.default, help=_help(FPS))
    output.add_argument("--duration", type=float, metavar="SECONDS", help=_help(DURATION))
    output.add_argument("--frames", type=int, help=_help(FRAMES))
    output.add_argument(
        "--layout",
        choices=("overlay", "side_by_side", "side-by-side"),
        help="one plot, or one panel per optimizer (default the preset's, or overlay)",
    )
    output.add_argument("--frame", type=int, help=_help(FRAME))
    output.add_argument(
        "--arrows",
        action="store_true",
        help="GIF, MP4, PNG: at each recorded run's point draw −g, the momentum buffer and "
        "the step taken, with a legend of their lengths (every run records unless --record "
        "names some)",
    )
    output.add_argument(
        "--title", default="", help="the title line (default the preset's, or the landscape's)"
    )
    output.add_argument(
        "--lang",
        choices=("en", "ja"),
        default="en",
        help="language of every word: title, legend, counter, handout (default en)",
    )
    output.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=export_command, export_parser=parser)
    return parser


def add_run_options(group: Any, lr: bool) -> None:
    """--lr (when `lr`) and --param: each run's hyperparameters, read by `run_params`."""
    if lr:
        group.add_argument(
            "--lr",
            action="append",
            default=[],
            metavar="[OPT=]VALUE",
            help="learning rate: adam=0.05 for one optimizer, 0.05 for all; repeatable, or a,b",
        )
    group.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="[OPT.]NAME=VALUE",
        help="any hyperparameter: adam.beta1=0.8, or beta1=0.8 for every optimizer that has it",
    )


def add_run_length_options(group: Any, steps: Option) -> None:
    """--steps (with the command's range), --noise and --seed."""
    group.add_argument("--steps", type=int, help=_help(steps))
    group.add_argument("--noise", type=float, help=_help(NOISE))
    group.add_argument("--seed", type=int, help=_help(SEED))


def add_schedule_options(parser: argparse.ArgumentParser) -> None:
    """--schedule KIND and one flag per schedule option, with the core's words and range."""
    schedule = parser.add_argument_group("learning-rate schedule")
    schedule.add_argument("--schedule", metavar="KIND", help=", ".join(SCHEDULE_KINDS))
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


def _help(option: Option) -> str:
    """`--help` text with the range the models enforce (argparse needs % doubled)."""
    default = option.default
    shown = default if isinstance(default, str) else show_number(float(default or 0))
    text = f"{option.help}, {show_number(option.min)}–{show_number(option.max)} (default {shown})"
    return text.replace("%", "%%")


def _parse_number(text: str, what: str) -> float:
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


def _scene_defaults(args: argparse.Namespace) -> dict[str, Any]:
    """The scene before the flags: the preset's (ValueError lists the valid ids), else the
    command's defaults."""
    if args.preset is None:
        return {
            "landscape": "rosenbrock",
            "optimizers": _DEFAULT_OPTIMIZERS,
            "params": {},
            "steps": STEPS.default,
            "noise": NOISE.default,
            "seed": SEED.default,
            "start": None,
            "schedule": {},
            "layout": "overlay",
            "record": "",
            "batches": [],
        }
    preset = presets.get(args.preset.strip())
    return {
        "landscape": preset.landscape,
        # a preset racing mini-batches beside the full batch lists each optimizer per size
        "optimizers": ",".join(n for n in preset.optimizers for _ in preset.batches()),
        "batches": [b for _ in preset.optimizers for b in preset.batches()],
        "params": preset.params,
        "steps": preset.steps,
        "noise": preset.noise,
        "seed": preset.seed,
        "start": list(preset.start),
        "schedule": dict(preset.schedule or {}),
        "layout": preset.mode,
        "preset": preset.id,
        "record": preset.inspect or "",
    }


def run_params(
    names: list[str], base: dict[str, dict[str, float]], lr: list[str], param: list[str]
) -> list[dict[str, float]]:
    """Each run's hyperparameters: `base`'s for its optimizer, then `--lr` and `--param`
    (ValueError naming the flag for an assignment that addresses no listed run)."""
    params: list[dict[str, float]] = [dict(base.get(n, {})) for n in names]
    for item in _split_assignments(lr):
        target, sep, value = item.rpartition("=")
        runs = _target_runs(target, names, "--lr") if sep else range(len(names))
        for i in runs:
            params[i]["lr"] = _parse_number(value, f"--lr {item}")
    for item in _split_assignments(param):
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
            params[i][name] = _parse_number(value, f"--param {item}")
    return params


def run_batches(names: list[str], base: list[int | None], batch: list[str]) -> list[int | None]:
    """Each run's mini-batch size: `base`'s (a preset's, when --optimizers is its list), then
    `--batch` ('8' for every run, 'sgd=8' or 'sgd#2=8', 'full' for the whole data); the
    range is the model's to check (it knows the landscape's N)."""
    sizes: list[int | None] = list(base) if len(base) == len(names) else [None] * len(names)
    for item in _split_assignments(batch):
        target, sep, value = item.rpartition("=")
        runs = _target_runs(target, names, "--batch") if sep else range(len(names))
        size: int | None = None
        if value.strip().lower() != "full":
            try:
                size = int(value)
            except ValueError:
                raise ValueError(
                    f"--batch {item}: {value!r} is not a whole number of samples or 'full'"
                ) from None
        for i in runs:
            sizes[i] = size
    return sizes


def start_point(values: list[str]) -> list[float]:
    """`--start x,y` or `--start x y` as [x, y] (ValueError naming the flag)."""
    parts = [p for value in values for p in value.split(",") if p.strip()]
    if len(parts) != 2:
        raise ValueError(f"--start: expected x,y, got {' '.join(values)!r}")
    return [_parse_number(p, "--start") for p in parts]


def typed_landscape(
    args: argparse.Namespace, bounds_flag: str = "bounds", named: bool = True
) -> dict[str, Any] | None:
    """`--expr F [--bounds XMIN,XMAX,YMIN,YMAX]` as the request's landscape, else None
    (the map commands spell it --expr-bounds: their --bounds is the basins' region).

    The text goes to the server's model as is (app.schemas.LandscapeExpr reads it).
    `named`: whether a --landscape given alongside is a contradiction (it is not where
    --landscape has a default)."""
    flag = "--" + bounds_flag.replace("_", "-")
    text, bounds = getattr(args, "expr", None), getattr(args, bounds_flag, None)
    if text is None:
        if bounds:
            raise ValueError(f"{flag}: only with --expr (a named landscape has its own)")
        return None
    if named and getattr(args, "landscape", None) is not None:
        raise ValueError("--expr: give either --landscape or --expr, not both")
    landscape: dict[str, Any] = {"expr": text}
    if bounds:
        parts = [p for value in bounds for p in value.split(",") if p.strip()]
        if len(parts) != 4:
            raise ValueError(f"{flag}: expected xmin,xmax,ymin,ymax, got {' '.join(bounds)!r}")
        numbers = [_parse_number(p, flag) for p in parts]
        landscape["bounds"] = [numbers[:2], numbers[2:]]
    return landscape


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    """The ExportRequest body the options describe (validation is the model's job)."""
    base = _scene_defaults(args)

    def given(name: str) -> Any:
        value = getattr(args, name, None)
        return base[name] if value is None else value

    names = [n.strip() for n in given("optimizers").split(",") if n.strip()]
    # A preset's hyperparameters stay with its optimizers; --lr/--param override them.
    params = run_params(names, base["params"], args.lr, args.param)

    sizes = run_batches(names, base["batches"], getattr(args, "batch", []))

    recorded = {n.strip() for n in given("record").split(",") if n.strip()}
    if recorded - set(names):
        unknown = ", ".join(sorted(recorded - set(names)))
        raise ValueError(f"--record {unknown}: not among the optimizers ({', '.join(names)})")
    body: dict[str, Any] = {
        "landscape": typed_landscape(args) or given("landscape"),
        "steps": given("steps"),
        "runs": [
            {
                "optimizer": n,
                "params": p,
                **({"record": True} if n in recorded else {}),
                **({"batch": b} if b is not None else {}),
            }
            for n, p, b in zip(names, params, sizes, strict=True)
        ],
        "noise": given("noise"),
        "seed": given("seed"),
        "width": args.width,
        "height": args.height,
        "fps": args.fps,
        "layout": given("layout").replace("-", "_"),
        "title": args.title,
        "lang": args.lang,
        "arrows": args.arrows,
    }
    if "preset" in base:
        body["preset"] = base["preset"]
    if base["start"] is not None and not isinstance(body["landscape"], dict):
        body["start"] = base["start"]  # a preset's start is for its own landscape
    if args.start:
        body["start"] = start_point(args.start)
    for key in ("duration", "frames", "frame"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    implied = _EXTENSIONS.get(args.output.suffix.lower()) if args.output else None
    if args.format and implied and args.format != implied:
        # A GIF named .mp4 opens in nothing that trusts the name; almost surely a slip.
        raise ValueError(
            f"--format {args.format} contradicts the file name {args.output.name!r} "
            f"(that extension means {implied}); change one of them"
        )
    body["format"] = args.format or implied or (None if args.output else "gif")
    if body["format"] is None:
        raise ValueError(
            f"cannot tell the format from {args.output.name!r}; pass --format "
            f"(gif, mp4, html, png, csv or json) or use one of {', '.join(_EXTENSIONS)}"
        )
    schedule = schedule_body(args, base["schedule"])
    if schedule is not None:
        body["schedule"] = schedule
    return body


def schedule_body(args: argparse.Namespace, base: dict[str, Any]) -> dict[str, Any] | None:
    """The request's `schedule` from --schedule and its option flags over `base` (a
    preset's), or None for no schedule."""
    # --schedule names a new schedule (the preset's options were for its own); option flags
    # alone adjust the preset's.
    schedule: dict[str, Any] = {} if args.schedule is not None else dict(base)
    schedule.pop("kind", None)
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
        number = _parse_number(value, f"--schedule-option {item}")
        integer = SCHEDULE_OPTIONS[key][0].integer
        schedule[key] = int(number) if integer and number.is_integer() else number
    kind = args.schedule or base.get("kind", "constant")
    if args.schedule is not None or schedule:
        return {"kind": kind, **schedule}
    return None


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


def export_command(args: argparse.Namespace) -> int:
    """Handler of `gradscape export`; a mistake exits with code 2 and one line saying what."""
    from app.export.pipeline import download_name, run_export

    parser: argparse.ArgumentParser = args.export_parser
    try:
        if args.output is not None:
            check_output(args.output)  # first: a directory is no file, whatever its name
        request = ExportRequest.model_validate(build_request(args))
        # No -o: the file the page would download, named after the scene, here.
        output: Path = args.output or Path(download_name(request))
        target = check_output(output)
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
        # How each run ends, in --lang: the page's status words (computing the scene again
        # costs milliseconds next to the export).
        from app.export.data import run_labels
        from app.scene import compute, status_json
        from app.words import say, words

        outcomes = compute(request.trajectory_request())
        labels = run_labels(
            [o.optimizer for o in outcomes],
            [o.params for o in outcomes],
            [o.batch for o in outcomes],
            request.lang,
        )
        at_step = words("status.atStep")
        for label, run in zip(labels, outcomes, strict=True):
            text = status_json(run.status)["text"]
            line = f"{label}: {text.get(request.lang, text['en'])}"
            if run.status.step is not None:
                line += say(at_step.get(request.lang, at_step["en"]), step=run.status.step)
            print(line)
    return 0


# --- gradscape sweep, basins, tune: the maps (issue 13) -----------------------------------

# Each command builds the body of its POST /api/maps/<kind> request, gets the reply the API
# would send (app.maps; the same models validate it) and writes that reply as a picture,
# a table or the JSON itself (app.export.maps renders both of the former).

MAP_DESCRIPTIONS = {
    "sweep": """\
    gradscape sweep --landscape ill_conditioned --optimizers sgd,momentum -o sweep.png
    gradscape sweep --optimizers momentum --y momentum --lr-count 32 -o heatmap.png

Each optimizer from one start at --lr-count learning rates, log-spaced from --lr-min to
--lr-max: the final loss gap and the steps to settle against lr, the measured divergence
boundary and, where the Hessian is constant, the theoretical limit (2/λmax for SGD,
2(1+μ)/λmax for heavy-ball momentum). Prints each optimizer's boundary and limit.
With --y NAME: the heatmap of one optimizer's steps to settle over lr × NAME
(e.g. momentum, beta1, alpha). The output's suffix picks the format: .png, .csv, .json.
""",
    "basins": """\
    gradscape basins --landscape himmelblau --optimizers sgd,adam --lr adam=0.1 -o basins.png

A --resolution × --resolution grid of starts over the landscape's bounds (or --bounds),
each coloured by the minimum it ends at, darker the later it settles; diverged and not
settled starts in greys; one map per optimizer. Prints each optimizer's share of starts
per minimum. The output's suffix picks the format: .png, .csv, .json.
""",
    "tune": """\
    gradscape tune --landscape rosenbrock --optimizers sgd,momentum,adam --budget 20 -o tune.png
    gradscape tune --optimizers momentum --extra momentum --methods bayes -o bayes.csv

Each optimizer's learning rate (and with --extra one more hyperparameter) searched by grid
search, random search and Bayesian optimization (a Gaussian-process surrogate), each with
the same --budget of trials from the same start. Prints each method's best values. The
output's suffix picks the format: .png, .csv, .json.
""",
}
_MAP_FORMATS = {".png": "png", ".csv": "csv", ".json": "json"}
_MAP_DEFAULTS = {
    "sweep": ("ill_conditioned", "sgd,momentum"),
    "basins": ("himmelblau", "sgd,adam"),
    "tune": ("rosenbrock", "sgd,adam"),
}


def add_map_parser(subparsers: Any, command: str, help_text: str) -> argparse.ArgumentParser:
    """A map command's parser with the scene and output options every map shares."""
    landscape, optimizer_names = _MAP_DEFAULTS[command]
    parser = subparsers.add_parser(
        command,
        help=help_text,
        description=MAP_DESCRIPTIONS[command],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scene = parser.add_argument_group("scene (as on the page)")
    scene.add_argument(
        "--landscape",
        default=landscape,
        help=f"landscape name (gradscape list; default {landscape})",
    )
    scene.add_argument(
        "--expr",
        metavar="F",
        help="a function of your own instead of --landscape, e.g. 'x**2/20 + y**2' "
        "(see gradscape export --help)",
    )
    scene.add_argument(
        "--expr-bounds",
        nargs="+",
        metavar="XMIN,XMAX,YMIN,YMAX",
        help="--expr's view and search region (default -3,3,-3,3)",
    )
    scene.add_argument(
        "--optimizers",
        default=optimizer_names,
        help=f"comma-separated optimizer names (default {optimizer_names})",
    )
    # A sweep sweeps lr and a tuning searches it: only a basin map takes it fixed.
    add_run_options(scene, lr=command == "basins")
    if command != "basins":
        scene.add_argument(
            "--start",
            nargs="+",
            metavar="X,Y",
            help="start point 'x,y' or 'x y' within the landscape's bounds; the landscape's "
            "default start if left out",
        )
    add_run_length_options(scene, MAP_STEPS)
    add_schedule_options(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "-o",
        "--out",
        "--output",
        dest="output",
        type=Path,
        help=f"file to write: .png, .csv or .json (default gradscape-{command}-<landscape>.png)",
    )
    output.add_argument(
        "--format", choices=("png", "csv", "json"), help="file format (default: from the suffix)"
    )
    output.add_argument("--width", type=int, default=1280, help=f"PNG pixels, {_size_help(WIDTH)}")
    output.add_argument("--height", type=int, default=720, help=f"PNG pixels, {_size_help(HEIGHT)}")
    output.add_argument(
        "--lang", choices=("en", "ja"), default="en", help="words of the picture and the summary"
    )
    output.add_argument("-q", "--quiet", action="store_true", help="no summary lines")
    parser.set_defaults(handler=map_command, map_parser=parser, map_command=command)
    return parser


def _range_text(option: Option) -> str:
    """An option's range and default as the models hold them: "16–256 (default 64)"."""
    low, high = show_number(option.min), show_number(option.max)
    return f"{low}–{high} (default {show_number(float(option.default))})"


def _size_help(option: Option) -> str:
    return f"{show_number(option.min)}–{show_number(option.max)} (default the charts' 1280×720)"


def _lr_range_options(parser: argparse.ArgumentParser, what: str) -> argparse._ArgumentGroup:
    group = parser.add_argument_group(what)
    group.add_argument("--lr-min", type=float, metavar="LR", help="smallest learning rate")
    group.add_argument("--lr-max", type=float, metavar="LR", help="largest learning rate")
    return group


def add_sweep_parser(subparsers: Any) -> None:
    parser = add_map_parser(subparsers, "sweep", "learning-rate sweep (or lr × NAME heatmap)")
    group = _lr_range_options(parser, "learning rates swept (log-spaced)")
    group.add_argument(
        "--lr-count",
        type=int,
        metavar="N",
        help=f"how many learning rates, {_range_text(SWEEP_COUNT)}; a heatmap's "
        f"{_range_text(HEATMAP_COUNT)}",
    )
    heatmap = parser.add_argument_group("heatmap: lr × a second hyperparameter (one optimizer)")
    heatmap.add_argument("--y", metavar="NAME", help="the hyperparameter of the y axis")
    heatmap.add_argument("--y-min", type=float, help="its smallest value")
    heatmap.add_argument("--y-max", type=float, help="its largest value")
    heatmap.add_argument(
        "--y-count", type=int, metavar="N", help=f"how many values, {_range_text(HEATMAP_COUNT)}"
    )


def add_basins_parser(subparsers: Any) -> None:
    parser = add_map_parser(subparsers, "basins", "basins of attraction, one map per optimizer")
    grid = parser.add_argument_group("starts")
    grid.add_argument(
        "--resolution", type=int, metavar="N", help=f"N × N starts, {_range_text(BASIN_RESOLUTION)}"
    )
    grid.add_argument(
        "--bounds",
        metavar="XMIN,XMAX,YMIN,YMAX",
        help="the region of starts (default the landscape's bounds)",
    )


def add_tune_parser(subparsers: Any) -> None:
    parser = add_map_parser(subparsers, "tune", "a fair race: tune each optimizer's lr")
    search = _lr_range_options(parser, "search")
    search.add_argument("--budget", type=int, metavar="N", help=_help(TUNE_BUDGET))
    search.add_argument("--methods", help="comma-separated: grid, random, bayes (default all)")
    search.add_argument(
        "--extra",
        metavar="NAME[=MIN:MAX]",
        help="one more hyperparameter searched with lr, for each optimizer that has it",
    )


def _numbers(text: str, count: int, flag: str) -> list[float]:
    parts = [p for p in text.replace(":", ",").split(",") if p.strip()]
    if len(parts) != count:
        raise ValueError(f"{flag}: expected {count} numbers, got {text!r}")
    return [_parse_number(p, flag) for p in parts]


def _given(args: argparse.Namespace, pairs: dict[str, str]) -> dict[str, Any]:
    """{field: value} of the flags the user gave (the models' defaults fill the rest)."""
    return {
        field: getattr(args, dest)
        for field, dest in pairs.items()
        if getattr(args, dest) is not None
    }


def map_body(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """(kind, body of POST /api/maps/<kind>) the options describe; ValueError names a flag."""
    command = args.map_command
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    params = run_params(names, {}, getattr(args, "lr", []), args.param)
    typed = typed_landscape(args, "expr_bounds", named=False)
    body: dict[str, Any] = {"landscape": typed or args.landscape}
    body.update(_given(args, {"steps": "steps", "noise": "noise", "seed": "seed"}))
    if getattr(args, "start", None):
        body["start"] = start_point(args.start)
    schedule = schedule_body(args, {})
    if schedule is not None:
        body["schedule"] = schedule
    runs = [{"optimizer": n, "params": p} for n, p in zip(names, params, strict=True)]
    if command == "sweep" and args.y is not None:
        if len(names) != 1:
            raise ValueError(
                f"--y: a heatmap sweeps one optimizer; --optimizers lists {len(names)} "
                f"({','.join(names)})"
            )
        x = {"name": "lr", **_given(args, {"min": "lr_min", "max": "lr_max", "count": "lr_count"})}
        y = {"name": args.y.strip()}
        y.update(_given(args, {"min": "y_min", "max": "y_max", "count": "y_count"}))
        body.update({"runs": runs, "x": x, "y": y})
        return "heatmap", body
    if command == "sweep":
        given = [f for f in ("y_min", "y_max", "y_count") if getattr(args, f) is not None]
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')}: only with --y NAME (a heatmap)")
        lr = _given(args, {"min": "lr_min", "max": "lr_max", "count": "lr_count"})
        body.update({"runs": runs, **({"lr": lr} if lr else {})})
    elif command == "basins":
        body["runs"] = runs
        body.update(_given(args, {"resolution": "resolution"}))
        if args.bounds is not None:
            xmin, xmax, ymin, ymax = _numbers(args.bounds, 4, "--bounds")
            body["bounds"] = [[xmin, xmax], [ymin, ymax]]
    else:  # tune
        lr = _given(args, {"min": "lr_min", "max": "lr_max"})
        extra: dict[str, Any] | None = None
        if args.extra is not None:
            name, sep, span = args.extra.partition("=")
            extra = {"name": name.strip()}
            if sep:
                extra["min"], extra["max"] = _numbers(span, 2, "--extra")
        for run in runs:
            if lr:
                run["lr"] = lr
            if extra is not None:
                known = (
                    {p.name for p in optimizers.spec(run["optimizer"])}
                    if run["optimizer"] in optimizers.names()
                    else set()
                )
                if extra["name"] in known or len(runs) == 1:
                    run["extra"] = dict(extra)
        if extra is not None and not any("extra" in run for run in runs):
            raise ValueError(f"--extra {extra['name']}: no listed optimizer has this parameter")
        body["runs"] = runs
        body.update(_given(args, {"budget": "budget"}))
        if args.methods is not None:
            body["methods"] = [m.strip() for m in args.methods.split(",") if m.strip()]
    return command, body


# Fields of a map request → the flag that sets them, for error messages.
_MAP_FLAGS = {
    ("lr", "min"): "--lr-min",
    ("lr", "max"): "--lr-max",
    ("lr", "count"): "--lr-count",
    ("x", "min"): "--lr-min",
    ("x", "max"): "--lr-max",
    ("x", "count"): "--lr-count",
    ("y", "name"): "--y",
    ("y", "min"): "--y-min",
    ("y", "max"): "--y-max",
    ("y", "count"): "--y-count",
}


def map_flag(loc: Sequence[Any]) -> str:
    """The flag behind a request field: runs.0.params.beta1 → --param, lr.count → --lr-count."""
    parts = [str(p) for p in loc]
    if not parts:
        return "--optimizers"
    head = parts[0]
    if head == "runs":
        rest = [p for p in parts[1:] if not p.isdigit()]
        if rest[:1] == ["params"]:
            return "--lr" if rest[1:2] == ["lr"] else "--param"
        if rest[:1] == ["lr"]:
            return _MAP_FLAGS.get(("lr", rest[1] if len(rest) > 1 else "min"), "--lr-min")
        if rest[:1] == ["extra"]:
            return "--extra"
        return "--optimizers"
    if head in ("optimizer",):
        return "--optimizers"
    if head == "params":
        return "--lr" if parts[1:2] == ["lr"] else "--param"
    if head == "schedule" and len(parts) > 1 and parts[1] in SCHEDULE_OPTIONS:
        return f"--{parts[1].replace('_', '-')}"
    if head in ("lr", "x", "y"):
        return _MAP_FLAGS.get((head, parts[1] if len(parts) > 1 else "min"), f"--{head}")
    return f"--{head.replace('_', '-')}"


def _run_flag(msg: str, command: str) -> str:
    """The flag behind the core's complaint about one run ("adam: lr=50.0 is out of range
    …", "sgd has no hyperparameter 'momentum'…")."""
    if msg.startswith("unknown optimizer"):
        return "--optimizers"
    if "to tune" in msg:
        return "--extra"
    if re.match(r"(\w+: )?lr[=:]", msg):
        return "--lr" if command == "basins" else "--lr-min/--lr-max"
    return "--param"


def describe_map_error(error: ValidationError, command: str = "") -> str:
    """pydantic's issues as `--flag (field): message; …`, the API's words behind the flag."""
    from app.schemas import validation_issues

    lines = []
    for issue in validation_issues(error.errors()):
        loc, msg = [str(p) for p in issue["loc"]], str(issue["msg"])
        named = _FIELD_IN_MESSAGE.match(msg)
        if named and named.group(1).startswith(".".join(loc)):
            # a check over several fields names the one it blames: lr → lr.min
            loc = named.group(1).split(".")
        field = ".".join(loc)
        if not loc:
            lines.append(msg)
        elif loc[0] == "runs" and len(loc) == 2:  # the core's check of one run
            lines.append(f"{_run_flag(msg, command)} ({field}): {msg}")
        elif msg.startswith(field):
            lines.append(f"{map_flag(loc)}: {msg}")
        else:
            lines.append(f"{map_flag(loc)} ({field}): {msg}")
    return "; ".join(lines)


# "lr.min must be below lr.max", "y.name: momentum has no …": the field a message blames.
_FIELD_IN_MESSAGE = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*)(?::| must)")


def map_reply(
    kind: str, body: dict[str, Any], progress: ProgressBar | None = None
) -> dict[str, Any]:
    """The reply POST /api/maps/<kind> sends for `body`, as JSON data (ValidationError or
    ValueError for a body the models or the core reject)."""
    from app.routes.maps_export import REQUESTS, map_data

    reply: dict[str, Any] = map_data(kind, REQUESTS[kind].model_validate(body), None, progress)
    return reply


def map_command(args: argparse.Namespace) -> int:
    """Handler of `gradscape sweep|basins|tune`: validate, compute, write, summarize."""
    import json

    from app.export import maps as map_export

    parser: argparse.ArgumentParser = args.map_parser
    try:
        if args.output is not None:
            check_output(args.output)
        kind, body = map_body(args)
        implied = _MAP_FORMATS.get(args.output.suffix.lower()) if args.output else None
        if args.output is not None and implied is None and args.format is None:
            raise ValueError(
                f"cannot tell the format from {args.output.name!r}; use a .png, .csv or .json "
                "file name, or pass --format"
            )
        if args.format and implied and args.format != implied:
            raise ValueError(
                f"--format {args.format} contradicts the file name {args.output.name!r}"
            )
        fmt = args.format or implied or "png"
        for option in (WIDTH, HEIGHT):
            value = getattr(args, option.name)
            if not option.min <= value <= option.max:
                raise ValueError(
                    f"--{option.name}: must be between {show_number(option.min)} and "
                    f"{show_number(option.max)}, got {value}"
                )
        name = "custom" if getattr(args, "expr", None) else args.landscape
        output: Path = args.output or Path(f"gradscape-{kind}-{name}.{fmt}")
        target = check_output(output)
        temporary = temporary_beside(target, output, fmt)
    except ValidationError as error:
        _fail(parser, describe_map_error(error, args.map_command))
    except ValueError as error:
        _fail(parser, str(error))
    try:
        bar = ProgressBar(f"{kind} {output.name}")  # on a terminal: a basin map takes seconds
        try:
            reply = map_reply(kind, body, None if args.quiet else bar)
        except ValidationError as error:
            _fail(parser, describe_map_error(error, args.map_command))
        except ValueError as error:
            _fail(parser, str(error))
        finally:
            bar.close()
        if fmt == "png":
            data = map_export.draw_map(kind, reply, body, args.width, args.height, args.lang).png
        elif fmt == "csv":
            data = map_export.render_csv(kind, reply).encode()
        else:
            text = json.dumps(reply, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
            data = (text + "\n").encode()
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except OSError as error:
        if error.errno not in _STORAGE_ERRORS:
            raise
        _fail(parser, f"writing {str(output)!r} failed: {error.strerror}", code=1)
    finally:
        temporary.unlink(missing_ok=True)
    if not args.quiet:
        print(f"wrote {output} ({len(data) / 1024:.0f} KiB)", file=sys.stderr)
        for line in map_export.summary_lines(kind, reply, body, args.lang):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
