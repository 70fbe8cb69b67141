"""/docs is Swagger UI built from local assets only, so it works in a room with no internet."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import DOCS_ASSETS_DIR
from tests.app.clients import LocalClient

# Every URL a page loads by itself: <script src>, <link href>, <img src>.
LOADED = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


def test_docs_page_loads_only_urls_of_this_server(client: TestClient) -> None:
    reply = client.get("/docs")
    assert reply.status_code == 200
    urls = LOADED.findall(reply.text)
    assert sorted(urls) == [
        "/static/favicon.svg",
        "/vendor/docs/swagger-ui-bundle.js",
        "/vendor/docs/swagger-ui.css",
    ]
    assert "https://" not in reply.text and "cdn" not in reply.text
    assert "url: '/openapi.json'" in reply.text
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_docs_assets_come_from_fastapi_offline(client: TestClient) -> None:
    script = client.get("/vendor/docs/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert script.content == (DOCS_ASSETS_DIR / "swagger-ui-bundle.js").read_bytes()
    assert b"SwaggerUIBundle" in script.content[:2000]
    style = client.get("/vendor/docs/swagger-ui.css")
    assert style.headers["content-type"].startswith("text/css")
    assert b".swagger-ui" in style.content[:200]


def test_only_the_docs_assets_are_served(client: TestClient) -> None:
    # A whitelist, not a directory listing of someone else's package.
    for name in ("core.py", "..%2F__init__.py", "favicon.png", "redoc.standalone.js"):
        assert client.get(f"/vendor/docs/{name}").status_code == 404, name


def test_redoc_is_not_served(client: TestClient) -> None:
    # FastAPI's default /redoc loads its script from a CDN; ReDoc's own logo would too.
    assert client.get("/redoc").status_code == 404


def test_docs_urls_follow_the_root_path(app: FastAPI) -> None:
    # Behind a proxy that serves the app under /gradscape, the page must ask for that prefix.
    with LocalClient(app, root_path="/gradscape") as client:
        urls = LOADED.findall(client.get("/docs").text)
        assert urls and all(url.startswith("/gradscape/") for url in urls)
        assert "url: '/gradscape/openapi.json'" in client.get("/docs").text


def test_the_docs_examples_are_bodies_the_api_accepts(client: TestClient) -> None:
    # "Try it out" starts from the schema's example: Swagger UI drew `start: [null, null]`
    # for the fixed-length [x, y] and the first request a student sent was a 422.
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    (scene,) = schemas["TrajectoryRequest"]["examples"]
    reply = client.post("/api/trajectories", json=scene)
    assert reply.status_code == 200 and len(reply.json()["runs"][1]["points"]) == 301
    (export,) = schemas["ExportRequest"]["examples"]
    assert export["format"] == "gif" and export["start"] == scene["start"]
    job = client.post("/api/exports", json={**export, "format": "csv"})
    assert job.status_code == 202
    assert client.delete(f"/api/exports/{job.json()['id']}").status_code == 204
