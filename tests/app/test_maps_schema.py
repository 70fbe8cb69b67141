"""The maps' operations (/api/maps/...) against their own OpenAPI entries, with schemathesis.

Stubbed: the core (every row ends at its start, some rows diverged, some settled: the
same shapes), the PNG drawing (a few bytes) and the tuner's Gaussian process (one fixed
length-scale). So the generated requests, up to 6 maps of 256² starts × 500 steps or 12
tunes of 64 trials × 2,000 steps, test the HTTP contract (status codes, content types,
bodies, no NaN, rejection of invalid input) in seconds, not minutes. The maps' numbers
have their own tests (tests/maps/, test_maps_api.py, test_tune_api.py,
test_export_maps.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import schemathesis
from hypothesis import settings

import optimizers
from app.export import maps as drawing
from maps import tune
from maps.gp import GaussianProcess
from optimizers.runner import Block, _check_starts, _resolve
from optimizers.summary import Summary
from tests.app.openapi_checks import CHECKS, SETTINGS, app_schema

# The exports' routes validate with the same models and have their own tests of replies
# and 422s (test_export_maps.py); fuzzing them too doubled this file's time.
schema = app_schema().include(path_regex="^/api/maps/").exclude(path_regex="/export$")


def _rows(optimizer: Any, starts: Any) -> np.ndarray:
    return _check_starts(starts, optimizer.rows)


def fake_summary_many(landscape: Any, opts: Any, starts: Any, steps: int, *args: Any, **kw: Any):
    out = []
    for opt in opts:
        f, opt, _ = _resolve(landscape, opt, None)
        final = _rows(opt, starts)
        k = np.arange(len(final))
        diverged = np.where(k % 7 == 3, steps // 2, -1)
        final = np.where((diverged >= 0)[:, None], np.nan, final)
        loss = f.value(np.nan_to_num(final))
        loss[diverged >= 0] = np.nan
        settled = np.where((k % 3 == 0) & (diverged < 0), k % steps if steps else 0, -1)
        minimum = np.where((settled >= 0)[:, None], np.round(final), np.nan)
        out.append(Summary(final, loss, diverged, settled, minimum))
    if kw.get("progress") is not None:
        kw["progress"](1.0)
    return out


def fake_stream_many(landscape: Any, opts: Any, starts: Any, steps: int, *args: Any, **kw: Any):
    blocks = []
    for s in fake_summary_many(landscape, opts, starts, steps):
        blocks.append(Block(steps, s.final[None], s.final_loss[None], s.diverged_at))
    yield blocks


@pytest.fixture(autouse=True)
def stub_core(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(optimizers, "summary_many", fake_summary_many)
    monkeypatch.setattr(
        optimizers, "summary", lambda f, o, s, n, *a, **k: fake_summary_many(f, [o], s, n)[0]
    )
    monkeypatch.setattr(optimizers, "stream_many", fake_stream_many)

    class Drawn:
        png = b"\x89PNG stub"

    # the drawings have their own tests (test_export_maps.py); here only the HTTP contract
    monkeypatch.setattr(drawing, "draw_map", lambda *args, **kwargs: Drawn())
    # one length-scale instead of the evidence's choice among 17: the same snapshots' shape
    monkeypatch.setattr(tune, "GaussianProcess", lambda: GaussianProcess(length_scale=0.2))


@schema.parametrize()
@settings(SETTINGS, max_examples=8)  # the maps' models share their fields with the scene's
def test_maps_api_honours_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
