"""/docs in headless Chromium: Swagger UI renders the API, and nothing leaves the machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixture's class; conftest is not importable as a module
    from tests.browser.conftest import Gradscape

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_offline(app_page: Gradscape) -> None:
    page = app_page.page
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{app_page.base}/docs")
    # Swagger UI draws one block per operation once it has fetched and parsed the schema.
    trajectories = page.locator('.opblock-summary-path[data-path="/api/trajectories"]')
    trajectories.first.wait_for(state="visible")
    assert page.locator(".opblock").count() >= 8  # health, landscapes, runs, exports, …
    assert "Gradscape" in page.locator(".info .title").inner_text()

    # Opening an operation shows its request body schema: the bundle's UI code works.
    post = page.locator(".opblock-post", has=trajectories)
    post.locator(".opblock-summary").first.click()
    post.locator(".opblock-body").first.wait_for(state="visible")
    assert "landscape" in post.inner_text()

    # Nothing wider than the projector: no sideways scrolling at 1280 px.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    paths = [url.removeprefix(app_page.base) for url in app_page.requests]
    for path in ("/vendor/docs/swagger-ui-bundle.js", "/vendor/docs/swagger-ui.css"):
        assert path in paths
    assert "/openapi.json" in paths
    icon = page.locator("link[rel~='icon']").get_attribute("href")
    assert icon == "/static/favicon.svg"  # FastAPI's default points at its website
    app_page.assert_clean()  # no console errors, no request left the machine
