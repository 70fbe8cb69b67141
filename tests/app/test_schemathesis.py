"""Property-based API test: schemathesis generates requests from our own OpenAPI schema.

Every operation gets up to 30 derandomized examples, valid and invalid (in-process via
ASGI, no network). Each reply must be a non-5xx with the status, content type and body
the schema documents, and invalid input must be rejected with a 4xx.
"""

from __future__ import annotations

import schemathesis

from tests.app.openapi_checks import CHECKS, SETTINGS, app_schema

# The export operations render files, and a valid map may ask for seconds of work (6 ×
# 256² starts × 500 steps): their own schemathesis runs (test_export_schema.py,
# test_maps_schema.py) stub the renderer and the core, so they are left out here.
schema = app_schema().exclude(path_regex="^/api/exports").exclude(path_regex="^/api/maps/")


@schema.parametrize()
@SETTINGS
def test_api_honours_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
