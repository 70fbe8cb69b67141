"""The export operations against their own OpenAPI entries, with schemathesis: each
operation alone, then stateful scenarios that follow the OpenAPI links from POST's id.

Rendering is replaced by a stub that writes a few bytes, so the generated scenes (up to
2,000 frames of 1920×1080) test the HTTP contract — status codes, content types, bodies,
rejection of invalid input — without rendering for minutes. The renderers have their own
tests (test_export_files.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

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


# --- stateful: POST's id followed into the job's operations ---------------------------------

# What the scenarios reached, by operation and status: evidence the links were followed
# (a made-up id only ever gets a 404).
REACHED: Counter[tuple[str, int]] = Counter()


class ExportWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    """Scenarios of POST /api/exports then GET, GET /file and DELETE on the id it returned
    (the OpenAPI links in the POST's 202), each reply checked like the stateless cases."""

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        REACHED[(f"{case.method} {case.path}", response.status_code)] += 1

    def validate_response(
        self,
        response: Any,
        case: schemathesis.Case,
        additional_checks: Any = None,
        **kwargs: Any,
    ) -> None:
        case.validate_response(
            response, checks=CHECKS, additional_checks=additional_checks, transport_kwargs=kwargs
        )


def test_export_workflows_follow_the_links() -> None:
    REACHED.clear()
    ExportWorkflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=6,
            # A failing scenario is reported as found, not shrunk for minutes.
            phases=[Phase.explicit, Phase.generate],
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    reached = {key for key, count in REACHED.items() if count}
    assert ("POST /api/exports", 202) in reached
    assert ("GET /api/exports/{job_id}", 200) in reached
    assert ("GET /api/exports/{job_id}/file", 200) in reached
    assert ("DELETE /api/exports/{job_id}", 204) in reached
