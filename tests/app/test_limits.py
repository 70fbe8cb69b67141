"""A limit has one home, app/config.py: a one-line change there reaches the API, the
page's catalogue and the CLI. The proof edits that line in a fresh interpreter (the module
is built from the edited source before anything else imports it)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import importlib.util, io, json, sys
from pathlib import Path

import app
spec = importlib.util.find_spec("app.config")
source = Path(spec.origin).read_text(encoding="utf-8")
assert source.count("MAX_STEPS = 10_000\n") == 1
config = importlib.util.module_from_spec(spec)
sys.modules["app.config"] = config
exec(compile(source.replace("MAX_STEPS = 10_000\n", "MAX_STEPS = 500\n"), spec.origin, "exec"),
     config.__dict__)

from fastapi.testclient import TestClient
from app import cli
from app.main import create_app
from tests.app.clients import LocalClient

client = LocalClient(create_app())
body = {"landscape": "booth", "runs": [{"optimizer": "sgd"}]}
schedules = client.get("/api/optimizers").json()["schedules"]
cosine = {o["name"]: o for o in next(s for s in schedules if s["kind"] == "cosine")["options"]}
listing = io.StringIO()
cli.list_command(None, out=listing)
steps_row = next(line for line in listing.getvalue().splitlines() if "--steps" in line)
try:
    cli.main(["export", "--steps", "501", "-o", "never.json"])
    cli_code = 0
except SystemExit as stop:
    cli_code = stop.code
print(json.dumps({
    "api_500": client.post("/api/trajectories", json={**body, "steps": 500}).status_code,
    "api_501": client.post("/api/trajectories", json={**body, "steps": 501}).status_code,
    "page_t_max": cosine["t_max"]["max"],
    "list": "[1, 500]" in steps_row,
    "cli_code": cli_code,
}))
"""


def test_a_one_line_limit_change_reaches_the_api_the_page_and_the_cli() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "api_500": 200,
        "api_501": 422,
        "page_t_max": 500,
        "list": True,
        "cli_code": 2,
    }
    assert "steps: Input should be less than or equal to 500" in done.stderr
