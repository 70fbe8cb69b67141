"""The Export section's arrows checkbox (issue 12): its words, and what the page sends.

With the box ticked the export request carries `arrows: true` and the runs the page
records (a preset's inspected run), so the file draws that run's arrows; the PNG that
downloads differs from the one without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser


def download_png(gs: Any, target: Path) -> None:
    with gs.page.expect_download(timeout=120_000) as info:
        gs.testid("export-png").click()
    info.value.save_as(target)


def test_the_arrows_box_sends_arrows_and_the_png_draws_them(app_page: Any, tmp_path: Path) -> None:
    gs = app_page.open("preset=adam_axes&lang=ja")
    box = gs.testid("export-arrows")
    label = gs.page.locator("label.export-arrows")
    assert label.inner_text() == "矢印：勾配・モーメンタム・一歩"
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert not box.is_checked()
    bodies: list[dict[str, Any]] = []
    gs.page.on(
        "request",
        lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/exports") else None,
    )
    download_png(gs, tmp_path / "plain.png")
    label.click()  # the words tick the box
    assert box.is_checked()
    download_png(gs, tmp_path / "arrows.png")
    plain, arrows = bodies
    assert plain["arrows"] is False and arrows["arrows"] is True
    # The preset inspects Adam: the page records that run, the export draws its arrows.
    recorded = [run["optimizer"] for run in arrows["runs"] if run.get("record")]
    assert recorded == ["adam"]
    with Image.open(tmp_path / "plain.png") as a, Image.open(tmp_path / "arrows.png") as b:
        assert a.size == b.size
        changed = (np.asarray(a.convert("RGB")) != np.asarray(b.convert("RGB"))).any(axis=2)
    assert 0 < changed.mean() < 0.2  # the arrows and their legend, not a different picture
    gs.assert_clean()
