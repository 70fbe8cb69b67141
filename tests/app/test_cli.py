"""`gradscape list` and `gradscape serve`'s argument handling (in-process)."""

from __future__ import annotations

import io
from typing import Any

import pytest

import landscapes
import optimizers
from app import cli, commands


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
    commands.list_command(None, out=out)  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    header = next(n for n, line in enumerate(lines) if line.startswith("  name "))
    rule = lines[header + 1]
    # every column of the landscape table starts where its header starts
    starts = [i for i in range(1, len(rule)) if rule[i] == "-" and rule[i - 1] == " "]
    for line in lines[header + 2 : header + 2 + len(landscapes.names())]:
        assert all(line[i - 1] == " " for i in starts)


def test_serve_defaults_to_loopback_port_8000() -> None:
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 8000, False)
    args = cli.build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9001", "--open"])
    assert (args.host, args.port, args.open) == ("0.0.0.0", 9001, True)


@pytest.mark.parametrize("port", ["-1", "70000", "http"])
def test_serve_rejects_a_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["serve", "--port", port])
    assert exit_info.value.code == 2
    assert "port" in capsys.readouterr().err


def test_serve_runs_uvicorn_with_the_app_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    opened: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setattr(commands, "_open_when_ready", lambda url: opened.append(url))

    class InlineThread:  # run the opener at once, so the test need not wait for a thread
        def __init__(self, target: Any, args: tuple[Any, ...], daemon: bool) -> None:
            assert daemon  # never keeps the process alive after Ctrl-C
            self.run = lambda: target(*args)

        def start(self) -> None:
            self.run()

    monkeypatch.setattr(commands.threading, "Thread", InlineThread)
    assert cli.main(["serve", "--port", "8123", "--open"]) == 0
    (call,) = calls
    assert call["app"] == "app.main:create_app" and call["factory"] is True
    assert (call["host"], call["port"]) == ("127.0.0.1", 8123)
    assert call["ws_per_message_deflate"] is False
    assert opened == ["http://127.0.0.1:8123/"]


def test_page_url_for_bind_all_addresses_points_at_this_machine() -> None:
    assert commands._page_url("0.0.0.0", 80) == "http://127.0.0.1:80/"
    assert commands._page_url("::1", 8000) == "http://[::1]:8000/"


def test_list_into_a_closed_pipe_stops_quietly() -> None:
    import subprocess
    import sys

    # `true` exits before Python has started, so every write meets a closed pipe
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m app.cli list | true"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0
