"""Fixtures for the API tests: an in-process app and its TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.clients import LocalClient


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with LocalClient(app) as test_client:
        yield test_client
