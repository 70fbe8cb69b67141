"""The page (static/js/ranges.js) and the exports (app/export/ranges.py) clip runaway runs
by the same rule: a slide must show what the page showed."""

from __future__ import annotations

import re

from app.config import STATIC_DIR
from app.export import ranges


def test_the_band_multiple_is_the_same_on_the_page_and_in_the_exports() -> None:
    source = (STATIC_DIR / "js" / "ranges.js").read_text(encoding="utf-8")
    match = re.search(r"export const BAND_MULTIPLE = ([0-9.]+);", source)
    assert match, "ranges.js no longer declares BAND_MULTIPLE"
    assert float(match.group(1)) == ranges.BAND_MULTIPLE
