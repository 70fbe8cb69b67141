"""The export operations against their own OpenAPI entries, with schemathesis.

Rendering is replaced by a stub that writes a few bytes, so the generated scenes (up to
2,000 frames of 1920×1080) test the HTTP contract — status codes, content types, bodies,
rejection of invalid input — without rendering for minutes. The renderers have their own
tests (test_export_files.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis

import app.export.jobs as jobs_module
from app.schemas import ExportRequest
from tests.app.openapi_checks import CHECKS, SETTINGS, app_schema

schema = app_schema().include(path_regex="^/api/exports")


@pytest.fixture(autouse=True)
def stub_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def run_export(request: ExportRequest, path: Path, progress: Any) -> Path:
        progress(0.0)
        Path(path).write_bytes(b"stub")
        progress(1.0)
        return path

    monkeypatch.setattr(jobs_module, "run_export", run_export)


@schema.parametrize()
@SETTINGS
def test_export_api_honours_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
