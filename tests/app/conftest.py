"""Fixtures for the API tests: an in-process app and its TestClient."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.clients import LocalClient


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """`gradscape serve` run in-process sets variables for its workers (the export job
    directory, the bound host, allowed names); monkeypatch.delenv of an unset variable
    does not undo that, and later tests would share a server's export directory."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with LocalClient(app) as test_client:
        yield test_client
