"""The page's Export section: clip length and fps fields, the file named after the scene.

One page serves every check: the fields take their ranges from /api/settings, a value out
of range is refused on the page with the field and range named (no request is sent), and
a GIF of the chosen seconds downloads as gradscape-<preset>.gif with every frame played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.config import DURATION, FPS

pytestmark = pytest.mark.browser


def test_page_exports_a_clip_of_the_chosen_length_named_after_its_preset(
    app_page: Any, tmp_path: Path
) -> None:
    gs = app_page.open("preset=ill_conditioned&lang=ja")
    duration, fps = gs.testid("export-duration"), gs.testid("export-fps")
    # The server's limits and default (a fact with one home: app.config via /api/settings).
    assert float(duration.get_attribute("min")) == DURATION.min
    assert float(duration.get_attribute("max")) == DURATION.max
    assert float(duration.input_value()) == DURATION.default >= 6
    assert float(fps.get_attribute("max")) == FPS.max
    # The labels speak the page's language and fit their boxes.
    labels = gs.page.locator("[data-ctl='export'] label")
    assert labels.all_inner_texts() == [
        "クリップの長さ（秒）",
        "フレームレート（fps）",
        "矢印：勾配・モーメンタム・一歩",
    ]
    for box in (*labels.all(), duration, fps):
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), box.inner_text()

    bodies: list[dict[str, Any]] = []
    gs.page.on(
        "request",
        lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/exports") else None,
    )
    # Out of range: refused on the page, the field and the range named; nothing sent.
    duration.fill("500")
    gs.testid("export-gif").click()
    message = gs.page.locator("#export-message")
    message.wait_for(state="visible")
    assert "クリップの長さ（秒）" in message.inner_text() and "120" in message.inner_text()
    assert bodies == []
    assert gs.testid("export-gif").is_enabled()

    duration.fill("2")
    fps.fill("5")
    with gs.page.expect_download(timeout=120_000) as info:
        gs.testid("export-gif").click()
    (body,) = bodies
    assert (body["duration"], body["fps"], body["lang"], body["preset"]) == (
        2,
        5,
        "ja",
        "ill_conditioned",
    )
    assert "frames" not in body and "title" not in body  # the server titles the scene
    assert info.value.suggested_filename == "gradscape-ill_conditioned.gif"
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    with Image.open(target) as gif:
        assert gif.n_frames == 10  # 2 s × 5 fps
        total = 0
        for k in range(gif.n_frames):
            gif.seek(k)
            total += gif.info["duration"]
        assert total == 2000
    gs.assert_clean()
