"""What every schemathesis run of the suite checks, and the schema it reads."""

from __future__ import annotations

from urllib.parse import urlsplit

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from tests.app.clients import BASE_URL

# No 5xx; status, content type and body as documented; invalid input rejected with a 4xx.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def app_schema() -> schemathesis.schemas.BaseSchema:
    """The app's own OpenAPI schema, called in-process over ASGI (no network).

    Addressed to 127.0.0.1:8000, not schemathesis's default `testserver`: the app answers
    only the Host names of the address it binds (app.gate).
    """
    host = {"host": urlsplit(BASE_URL).netloc}
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(), headers=host)
    schema.config.base_url = BASE_URL
    return schema


# 30 fixed examples per operation: the same requests on every run, no example database.
SETTINGS = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
