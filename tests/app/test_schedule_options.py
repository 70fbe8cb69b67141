"""Schedule kinds and options have one home, optimizers.schedules: the API's model, the
page's catalogue and `gradscape export`'s flags are generated from it.

The proof changes the core's table in a fresh interpreter (a new option on `step` and a
new range for `gamma`) and checks that every consumer follows without another edit.
"""

from __future__ import annotations

import json
import subprocess
import sys

import optimizers
from app.cli import build_request
from app.schemas import SCHEDULE_KINDS, SCHEDULE_OPTIONS, ScheduleSpec

PROBE = r"""
import dataclasses, json
from optimizers import schedules
from optimizers.base import HyperParam

step = schedules.KINDS["step"]
gamma = next(o for o in step if o.name == "gamma")
narrow = dataclasses.replace(gamma, min=0.25)
floor = HyperParam("floor", 0.0, 0.0, 0.5, False, "Lowest factor.")
for kind, options in list(schedules.KINDS.items()):
    options = tuple(narrow if o.name == "gamma" else o for o in options)
    schedules.KINDS[kind] = (*options, floor) if kind == "step" else options

from fastapi.testclient import TestClient
from pydantic import ValidationError
from app.cli import build_parser, build_request
from app.main import create_app
from app.schemas import ScheduleSpec
from tests.app.clients import LocalClient

page = LocalClient(create_app()).get("/api/optimizers").json()["schedules"]
step_options = {o["name"]: o for o in next(s for s in page if s["kind"] == "step")["options"]}
args = build_parser().parse_args(["export", "-o", "x.gif", "--schedule", "step", "--floor", "0.2"])
try:
    ScheduleSpec.model_validate({"kind": "step", "gamma": 0.1})
    rejected = None
except ValidationError as error:
    rejected = error.errors()[0]["loc"]
print(json.dumps({
    "page_floor": step_options.get("floor", {}).get("max"),
    "page_gamma_min": step_options["gamma"]["min"],
    "cli_floor": build_request(args)["schedule"],
    "model_floor": ScheduleSpec.model_validate({"kind": "step", "floor": 0.2}).options(),
    "gamma_rejected": rejected,
}))
"""


def test_the_model_has_one_field_per_core_option() -> None:
    assert optimizers.schedule_kinds() == SCHEDULE_KINDS
    core = {o.name for kind in SCHEDULE_KINDS for o in optimizers.schedule_options(kind)}
    assert set(ScheduleSpec.model_fields) == {"kind", *core} == {"kind", *SCHEDULE_OPTIONS}
    kinds = ScheduleSpec.model_json_schema()["properties"]["kind"]["enum"]
    assert kinds == list(SCHEDULE_KINDS)


def test_cli_flags_become_the_schedule_body() -> None:
    from app.cli import build_parser

    argv = ["export", "-o", "x.gif", "--schedule", "cosine", "--t-max", "50", "--warmup", "5"]
    body = build_request(build_parser().parse_args(argv))
    assert body["schedule"] == {"kind": "cosine", "t_max": 50, "warmup": 5}


def test_a_change_in_the_core_reaches_the_page_the_model_and_the_cli() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "page_floor": 0.5,
        "page_gamma_min": 0.25,
        "cli_floor": {"kind": "step", "floor": 0.2},
        "model_floor": {"floor": 0.2, "warmup": 0},
        "gamma_rejected": ["gamma"],
    }
