"""`gradscape list` and `gradscape serve`'s argument handling (in-process)."""

from __future__ import annotations

import errno
import io
import math
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

import landscapes
import optimizers
from app import cli, config
from app.config import (
    EXPORT_OPTIONS,
    MAX_STEPS,
    MAX_WORKERS,
    SCENE_OPTIONS,
    WS_MAX_MESSAGE_BYTES,
)
from app.schemas import ExportRequest
from tests.app.clients import LocalClient

ROOT = Path(__file__).resolve().parents[2]


def test_list_prints_landscapes_optimizers_params_and_schedules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in landscapes.names():
        assert f"\n  {name} " in out
    for name in optimizers.names():
        assert f"\n  {name} — {optimizers.title(name)}\n" in out
    # Adam's learning rate: default, range and scale on one row
    adam = out[out.index("adam — ") :]
    lr_row = next(line for line in adam.splitlines() if line.strip().startswith("lr "))
    assert lr_row.split()[:5] == ["lr", "0.001", "[1e-05,", "10]", "log"]
    for kind in optimizers.schedule_kinds():
        assert f"\n  {kind} " in out
    assert "t_max=steps" in out


def test_list_rows_line_up() -> None:
    out = io.StringIO()
    cli.list_command(None, out=out)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("  name "))
    rule = lines[header + 1]
    # every column of the landscape table starts where its header starts
    starts = [i for i in range(1, len(rule)) if rule[i] == "-" and rule[i - 1] == " "]
    for line in lines[header + 2 : header + 2 + len(landscapes.names())]:
        assert all(line[i - 1] == " " for i in starts)


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    import app

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"gradscape {app.__version__}\n"
    assert app.__version__ == version("gradscape")


def test_a_missing_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == "gradscape: error: the following arguments are required: COMMAND\n"


def test_serve_defaults_to_loopback_port_8000() -> None:
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8000, False)
    assert (args.workers, args.allow_host, args.allow_origin) == (1, [], [])
    args = cli.build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001", "--open"])
    assert (args.host, args.port, args.open) == ("0.0.0.0", 9001, True)


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_serve_rejects_a_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["serve", "--port", port])
    assert exit_info.value.code == 2
    assert "port" in capsys.readouterr().err


def _serve_args(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    """`gradscape serve …` parsed; for a mistake (exit 2), its one stderr line instead."""
    try:
        return cli.build_parser().parse_args(["serve", *argv])
    except SystemExit as exit_info:
        assert exit_info.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("gradscape serve: error: argument ")
        return err


@pytest.mark.parametrize("workers", ["1", "2", str(MAX_WORKERS)])
def test_serve_takes_workers_in_range(workers: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _serve_args(capsys, "--workers", workers).workers == int(workers)


@pytest.mark.parametrize("workers", ["0", "-2", str(MAX_WORKERS + 1), "two", "1.5", ""])
def test_serve_rejects_workers_out_of_range_naming_the_flag_and_range(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _serve_args(capsys, f"--workers={workers}")
    assert err.startswith("gradscape serve: error: argument --workers: ")
    assert f"between 1 and {MAX_WORKERS}" in err and repr(workers).strip("'") in err


def test_serve_takes_a_shutdown_grace_in_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    assert _serve_args(capsys).shutdown_grace == 30
    assert _serve_args(capsys, "--shutdown-grace", "2.5").shutdown_grace == 2.5
    for bad in ("0", "601", "soon"):
        err = _serve_args(capsys, f"--shutdown-grace={bad}")
        assert err.startswith("gradscape serve: error: argument --shutdown-grace: ")
        assert "[1, 600]" in err


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("gradscape.example.edu", "gradscape.example.edu"),
        ("GradScape.Example.EDU", "gradscape.example.edu"),  # names are case-blind
        ("gradscape.example.edu:8443", "gradscape.example.edu:8443"),
        ("localhost", "localhost"),
        ("192.168.1.20", "192.168.1.20"),
        ("192.168.1.20:8000", "192.168.1.20:8000"),
        ("2001:db8::1", "[2001:db8::1]"),  # as a Host header writes it
        ("[2001:db8::1]:8000", "[2001:db8::1]:8000"),
        ("*", "*"),  # any Host: the gate's escape hatch
    ],
)
def test_allow_host_takes_names_and_addresses(
    given: str, kept: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _serve_args(capsys, "--allow-host", given, "--allow-host", "other.example.edu")
    assert args.allow_host == [kept, "other.example.edu"]  # repeatable, in order


@pytest.mark.parametrize(
    "given",
    [
        "https://gradscape.example.edu",  # an origin, not a host
        "gradscape.example.edu/path",
        "gradscape example.edu",
        "-gradscape.example.edu",
        "gradscape.example.edu:0",
        "gradscape.example.edu:65536",
        "gradscape.example.edu:",
        "192.168.1.300",  # a mistyped address is no name either
        "[gradscape.example.edu]:80",
        "[2001:db8::1]x",
        "",
    ],
)
def test_allow_host_rejects_what_no_host_header_carries(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _serve_args(capsys, f"--allow-host={given}")
    assert err.startswith("gradscape serve: error: argument --allow-host: expected a host name")
    assert repr(given) in err


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://gradscape.example.edu", "https://gradscape.example.edu"),
        ("https://gradscape.example.edu/", "https://gradscape.example.edu"),  # as copied
        ("HTTPS://GradScape.Example.EDU:443", "https://gradscape.example.edu"),  # as sent
        ("http://192.168.1.20:8000", "http://192.168.1.20:8000"),
        ("http://gradscape.example.edu:80/", "http://gradscape.example.edu"),
        ("https://gradscape.example.edu:80", "https://gradscape.example.edu:80"),
        ("http://[2001:db8::1]:8000", "http://[2001:db8::1]:8000"),
    ],
)
def test_allow_origin_takes_origins_as_browsers_send_them(
    given: str, kept: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _serve_args(capsys, "--allow-origin", given).allow_origin == [kept]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("gradscape.example.edu", "scheme http or https"),
        ("ftp://gradscape.example.edu", "scheme http or https"),
        ("https://", "scheme http or https"),
        ("https://gradscape.example.edu:99999", "scheme http or https"),
        ("https://gradscape example.edu", "expected a host name"),
        ("https://gradscape.example.edu/lecture", "without a path"),
        ("https://gradscape.example.edu/?q=1", "without a path"),
        ("https://gradscape.example.edu#top", "without a path"),
        ("https://teacher@gradscape.example.edu", "without a path, query or user"),
    ],
)
def test_allow_origin_rejects_anything_but_scheme_host_port(
    given: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _serve_args(capsys, f"--allow-origin={given}")
    assert err.startswith("gradscape serve: error: argument --allow-origin: ")
    assert words in err and repr(given) in err


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` hands settings to its workers in os.environ: restore it after the test."""
    from app.export.jobs import EXPORT_DIR_ENV

    names = (config.BIND_HOST_ENV, config.ALLOW_HOSTS_ENV, config.ALLOW_ORIGINS_ENV)
    for name in (*names, EXPORT_DIR_ENV):
        # setenv first: monkeypatch restores only what it has seen, and unset is a value
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


class FakePool:
    """What `serve` hands its worker processes, checked when they would start."""

    seen: ClassVar[dict[str, Any]] = {}
    started = True

    def __init__(
        self, server_config: Any, socket_sets: list[list[socket.socket]], grace: float
    ) -> None:
        from app.export.jobs import EXPORT_DIR_ENV

        self.seen["config"] = server_config
        self.seen["grace"] = grace
        self.seen["socket_sets"] = socket_sets
        self.seen["export_dir"] = Path(os.environ[EXPORT_DIR_ENV])
        self.seen["env"] = dict(os.environ)

    def run(self) -> bool:
        self.seen["printed"] = self.seen["capsys"].readouterr()
        for sockets in self.seen["socket_sets"]:
            (sock,) = sockets
            with socket.create_connection(sock.getsockname()[:2], timeout=5):  # listening
                self.seen.setdefault("ports", set()).add(sock.getsockname()[1])
        return self.started


@pytest.mark.usefixtures("serve_env")
def test_serve_with_workers_gives_each_its_own_socket_on_one_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    def no_single_server(config: uvicorn.Config) -> None:
        raise AssertionError("--workers 3 runs no server in the parent process")

    monkeypatch.setattr(FakePool, "seen", {"capsys": capsys})
    monkeypatch.setattr(cli, "WorkerPool", FakePool)
    monkeypatch.setattr(uvicorn, "Server", no_single_server)
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli.main(["serve", "--port", "0", "--workers", "3"]) == 0
    seen = FakePool.seen
    (port,) = seen["ports"]  # three sockets (SO_REUSEPORT), one port
    assert len(seen["socket_sets"]) == (3 if cli.SHARE_PORT else 1)
    out, err = seen["printed"]
    assert out == f"Gradscape on http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"  # said once
    assert err == (
        "note: 3 workers on 2 CPU cores: more workers than cores cost memory and bring no speed\n"
    )
    server_config = seen["config"]
    assert server_config.workers == 3
    assert server_config.app == "app.main:create_app" and server_config.factory is True
    assert server_config.ws_per_message_deflate is False
    assert seen["grace"] == 30  # the default shutdown grace reaches the pool
    # the workers share one export job directory, made before they start
    assert seen["export_dir"].is_dir() and seen["env"][config.BIND_HOST_ENV] == "127.0.0.1"
    with pytest.raises(OSError):  # every socket closed once the workers are gone
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a_second_server_with_workers_on_a_taken_port_is_refused() -> None:
    # SO_REUSEPORT would let two servers of one user split a port (and a class) silently
    first = [sock for sockets in cli.listen("127.0.0.1", 0, copies=2) for sock in sockets]
    port = first[0].getsockname()[1]
    try:
        with pytest.raises(OSError) as error:
            cli.listen("127.0.0.1", port, copies=2)
        assert error.value.errno == errno.EADDRINUSE
        with pytest.raises(OSError):
            cli.listen("127.0.0.1", port)
    finally:
        for sock in first:
            sock.close()


@pytest.mark.usefixtures("serve_env")
def test_serve_hands_allowed_hosts_and_origins_to_the_workers_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.gate import Policy

    monkeypatch.setattr(FakePool, "seen", {"capsys": capsys})
    monkeypatch.setattr(cli, "WorkerPool", FakePool)
    monkeypatch.setenv(config.ALLOW_HOSTS_ENV, "set.before.example")
    argv = ["serve", "--port", "0", "--workers", "2", "--host", "127.0.0.1"]
    argv += ["--allow-host", "Proxy.Example.EDU", "--allow-host", "other.example.edu"]
    argv += ["--allow-origin", "https://proxy.example.edu/"]
    assert cli.main(argv) == 0
    env = FakePool.seen["env"]
    assert env[config.ALLOW_HOSTS_ENV] == "set.before.example,proxy.example.edu,other.example.edu"
    assert env[config.ALLOW_ORIGINS_ENV] == "https://proxy.example.edu"
    # what each worker's gate makes of them
    monkeypatch.setattr(os, "environ", env)
    policy = Policy.for_server("127.0.0.1")
    assert policy.allows_host("proxy.example.edu") and not policy.allows_host("evil.example")
    assert policy.origins == {"https://proxy.example.edu"}


@pytest.mark.usefixtures("serve_env")
def test_serve_exits_1_when_the_workers_cannot_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(FakePool, "seen", {"capsys": capsys})
    monkeypatch.setattr(FakePool, "started", False)
    monkeypatch.setattr(cli, "WorkerPool", FakePool)
    assert cli.main(["serve", "--port", "0", "--workers", "2"]) == 1


@pytest.mark.usefixtures("serve_env")
def test_serve_binds_then_announces_then_runs_uvicorn_on_that_socket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    opened: list[str] = []

    class FakeServer:  # what uvicorn gets, checked at the moment it would start serving
        def __init__(self, config: uvicorn.Config) -> None:
            seen["config"] = config
            self.started = True

        def run(self, sockets: list[socket.socket]) -> None:
            seen["printed"] = capsys.readouterr().out
            (sock,) = sockets
            # already listening: a client connects before uvicorn has even started
            with socket.create_connection(sock.getsockname()[:2], timeout=5):
                seen["port"] = sock.getsockname()[1]

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    monkeypatch.setattr(cli, "_open_when_ready", lambda url: opened.append(url))

    class InlineThread:  # run the opener at once, so the test need not wait for a thread
        def __init__(self, target: Any, args: tuple[Any, ...], daemon: bool) -> None:
            assert daemon  # never keeps the process alive after Ctrl-C
            self.run = lambda: target(*args)

        def start(self) -> None:
            self.run()

    monkeypatch.setattr(cli.threading, "Thread", InlineThread)
    assert cli.main(["serve", "--port", "0", "--open"]) == 0
    port, config = seen["port"], seen["config"]
    assert seen["printed"] == f"Gradscape on http://127.0.0.1:{port}/  (Ctrl-C to stop)\n"
    assert config.app == "app.main:create_app" and config.factory is True
    assert (config.host, config.port) == ("127.0.0.1", port)
    assert config.ws_per_message_deflate is False
    assert config.ws_max_size == WS_MAX_MESSAGE_BYTES
    assert opened == [f"http://127.0.0.1:{port}/"]
    with pytest.raises(OSError):  # closed once uvicorn returns
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def _serve_fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """`gradscape serve …` expecting exit 2 before anything is served: its stderr line."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", *argv])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""  # no "Gradscape on …": nothing is listening
    assert err.count("\n") == 1 and err.startswith("gradscape serve: error: ")
    return err


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("nosuch.invalid", ["--host 'nosuch.invalid'", "resolve"]),
        ("bad host", ["--host 'bad host'", "resolve"]),
        ("192.0.2.1", ["--host '192.0.2.1' is not an address of this machine"]),  # TEST-NET-1
    ],
)
def test_serve_on_a_host_that_is_not_this_machine_says_so(
    capsys: pytest.CaptureFixture[str], host: str, words: list[str]
) -> None:
    err = _serve_fails(capsys, "--host", host, "--port", "0")
    for word in words:
        assert word in err


def test_serve_on_a_busy_port_says_so_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"gradscape serve: error: port {port} on 127.0.0.1 is already in use by another "
        "program; choose another with --port\n"
    )


def test_serve_on_a_privileged_port_without_the_right_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(self: socket.socket, address: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", refuse)
    err = _serve_fails(capsys, "--port", "80")
    assert "permission denied to listen on port 80 on 127.0.0.1" in err
    assert "ports below 1024 need administrator rights; use e.g. --port 8000" in err


def _privileged_port() -> int:
    """A port this kernel reserves for CAP_NET_BIND_SERVICE, or 0 if it reserves none."""
    setting = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    start = int(setting.read_text()) if setting.exists() else 1024
    return min(80, start - 1) if start > 1 else 0


def test_serve_on_a_privileged_port_for_real() -> None:
    # Root may bind port 80, so the server runs without the capability that allows it
    # (setpriv drops it from the bounding set); an ordinary user lacks it already.
    port = _privileged_port()
    if port:
        prefix = ["setpriv", "--bounding-set", "-net_bind_service"] if os.geteuid() == 0 else []
        argv = [*prefix, sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    else:  # no reserved ports on this kernel: the same process, its bind refused
        port = 80
        code = (
            "import errno, socket, sys\n"
            "def refuse(self, address):\n"
            "    raise PermissionError(errno.EACCES, 'Permission denied')\n"
            "socket.socket.bind = refuse\n"
            "from app.cli import main\n"
            "sys.exit(main(['serve', '--port', '80']))\n"
        )
        argv = [sys.executable, "-c", code]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        f"gradscape serve: error: permission denied to listen on port {port} on 127.0.0.1"
    )
    assert proc.stderr.count("\n") == 1


def test_bind_problem_names_other_failures_plainly() -> None:
    problem = cli.bind_problem(OSError(errno.EMFILE, "Too many open files"), "::1", 9000)
    assert problem == "cannot listen on port 9000 on ::1: Too many open files"


def test_page_url_for_bind_all_addresses_points_at_this_machine() -> None:
    assert cli._page_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert cli._page_url("::1", 8000) == "http://[::1]:8000/"


def test_list_into_a_closed_pipe_stops_quietly() -> None:
    # `true` exits before Python has started, so every write meets a closed pipe
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m app.cli list | true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0


# --- gradscape list shows exactly what validation accepts --------------------------------

_RANGE = r"\[(\S+), (\S+)\]"


def _listed() -> str:
    out = io.StringIO()
    cli.list_command(None, out=out)  # type: ignore[arg-type]
    return out.getvalue()


def _section(text: str, title: str) -> str:
    body = text[("\n" + text).index(f"\n{title}") :]
    end = body.find("\n\n", 1)
    while end != -1 and body[end + 2 : end + 4] == "  ":  # optimizer blocks are indented
        end = body.find("\n\n", end + 2)
    return body if end == -1 else body[:end]


def _outside(value: float, direction: float, integer: bool) -> float:
    """The nearest value beyond a bound: ±1 for whole numbers, the next double otherwise."""
    return value + direction if integer else math.nextafter(value, direction * math.inf)


def _accepts(body: dict[str, Any]) -> bool:
    try:
        ExportRequest.model_validate({"landscape": "rosenbrock", "format": "csv", **body})
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return True


def _check_range(low: float, high: float, integer: bool, body: Any) -> None:
    """`body(value)` is accepted at both ends of [low, high] and rejected just beyond
    (a body of None: that value cannot even be written, like a title of -1 characters)."""
    convert = int if integer else float
    assert _accepts(body(convert(low))), ("min rejected", low)
    assert _accepts(body(convert(high))), ("max rejected", high)
    below = body(convert(_outside(low, -1, integer)))
    assert below is None or not _accepts(below), ("below min accepted", low)
    if math.isfinite(high):
        assert not _accepts(body(convert(_outside(high, 1, integer)))), ("above max", high)


def test_every_hyperparameter_range_listed_is_the_range_validated() -> None:
    text = _section(_listed(), "Optimizers")
    checked = 0
    for block in text.split("\n\n  ")[1:]:
        name = block.split(" — ")[0].strip()
        integers = {p.name for p in optimizers.spec(name) if getattr(p, "integer", False)}
        for row in block.splitlines()[3:]:
            param, _, low, high = re.match(rf"\s+(\w+)\s+(\S+)\s+{_RANGE}", row).groups()  # type: ignore[union-attr]
            high = "inf" if high == "∞" else high
            _check_range(
                float(low),
                float(high),
                param in integers,
                lambda v, n=name, p=param: {"runs": [{"optimizer": n, "params": {p: v}}]},
            )
            checked += 1
    assert checked == sum(len(optimizers.spec(n)) for n in optimizers.names())


def test_every_schedule_option_range_listed_is_the_range_validated() -> None:
    text = _section(_listed(), "Learning-rate schedules")
    checked = 0
    for row in text.splitlines()[3:]:
        kind, options = row.split(maxsplit=1)
        for option, low, high in re.findall(rf"(\w+)=\S+ {_RANGE}", options):
            integer = option in ("warmup", "step_size", "t_max")
            _check_range(
                float(low),
                float(high),
                integer,
                lambda v, k=kind, o=option: {
                    "steps": MAX_STEPS,
                    "runs": [{"optimizer": "sgd"}],
                    "schedule": {"kind": k, o: v},
                },
            )
            checked += 1
    assert checked == sum(len(optimizers.schedule_options(k)) for k in optimizers.schedule_kinds())
    assert "warmup=0 [0, 10000]" in text  # a warmup no run can finish is not offered


@pytest.mark.parametrize("title", ["Scene options", "Export options"])
def test_every_scene_and_export_range_listed_is_the_range_validated(title: str) -> None:
    rows = _section(_listed(), title).splitlines()[3:]
    bodies: dict[str, Any] = {
        "--steps": lambda v: {"steps": v, "runs": [{"optimizer": "sgd"}]},
        "--optimizers": lambda v: {"runs": [{"optimizer": "sgd"}] * v},
        "--noise": lambda v: {"noise": v, "runs": [{"optimizer": "sgd"}]},
        "--seed": lambda v: {"seed": v, "runs": [{"optimizer": "sgd"}]},
        "--width": lambda v: {"width": v, "runs": [{"optimizer": "sgd"}]},
        "--height": lambda v: {"height": v, "runs": [{"optimizer": "sgd"}]},
        "--fps": lambda v: {"fps": v, "runs": [{"optimizer": "sgd"}]},
        # At 1 fps, where duration × fps stays within the frame limit over the whole range.
        "--duration": lambda v: {"duration": v, "fps": 1, "runs": [{"optimizer": "sgd"}]},
        "--frames": lambda v: {"frames": v, "runs": [{"optimizer": "sgd"}]},
        "--frame": lambda v: {"frame": v, "steps": MAX_STEPS, "runs": [{"optimizer": "sgd"}]},
        "--title": lambda v: None if v < 0 else {"title": "t" * v, "runs": [{"optimizer": "sgd"}]},
    }
    shown = set()
    for row in rows:
        flag, low, high = re.match(rf"  (--\S+)\s+.*?{_RANGE}", row).groups()  # type: ignore[union-attr]
        _check_range(float(low), float(high), flag not in ("--noise", "--duration"), bodies[flag])
        shown.add(flag)
    expected = SCENE_OPTIONS if title == "Scene options" else EXPORT_OPTIONS
    assert shown == {cli.option_flag(o.name) for o in expected}
    # and the flags exist: `gradscape export` takes every option it lists
    parser = cli.build_parser()
    export_flags = {a for action in _export_actions(parser) for a in action.option_strings}
    assert shown <= export_flags


def _export_actions(parser: Any) -> list[Any]:
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices["export"]._actions


def test_every_landscape_range_listed_bounds_the_start() -> None:
    text = _section(_listed(), "Landscapes")
    rows = text.splitlines()[3:]
    assert len(rows) == len(landscapes.names())
    for row in rows:
        name = row.split()[0]
        (xlow, xhigh), (ylow, yhigh) = re.findall(_RANGE, row)[:2]
        for low, high, axis in ((xlow, xhigh, 0), (ylow, yhigh, 1)):

            def body(v: float, a: int = axis, n: str = name) -> dict[str, Any]:
                start = list(landscapes.get(n).default_start)
                start[a] = v
                return {"landscape": n, "start": start, "runs": [{"optimizer": "sgd"}]}

            _check_range(float(low), float(high), False, body)


def test_list_shows_the_ranges_the_page_gets() -> None:

    from app.main import create_app

    text = _section(_listed(), "Learning-rate schedules")
    with LocalClient(create_app()) as client:
        reply = client.get("/api/optimizers").json()
    for schedule in reply["schedules"]:
        row = next(r for r in text.splitlines() if r.split()[:1] == [schedule["kind"]])
        for option in schedule["options"]:
            low, high = cli._number(option["min"]), cli._number(option["max"])
            assert f"{option['name']}=" in row and f" [{low}, {high}]" in row
