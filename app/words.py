"""The page's words on the server: static/i18n/<lang>.json read once, {placeholders} filled.

One home for every sentence in both languages: the presets' paragraphs and the run
statuses come from the same tables the page's static/js/i18n.js reads, so a translator
edits one file per language.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

from app.config import I18N_DIR


@lru_cache(maxsize=1)
def tables() -> dict[str, dict[str, str]]:
    """Every language's UI text by key, read once: {lang: {key: text}}."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(I18N_DIR.glob("*.json"))
        if path.stem != "glossary"  # the glossary describes the terms; it is no UI text
    }


def words(key: str) -> dict[str, str]:
    """The text of `key` in every language that has it; KeyError names a missing key."""
    found = {lang: table[key] for lang, table in tables().items() if key in table}
    if not found:
        raise KeyError(f"no language in {I18N_DIR} has the text {key!r}")
    return found


def say(template: str, **values: object) -> str:
    """Fill {placeholders} as static/js/i18n.js does."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", str(value))
    return template


def short_number(value: float | None) -> str:
    """A number as the page's status table prints it (fmtLoss in static/js/status.js):
    three significant digits, whole numbers from 1000, or one decimal of an exponent outside
    [1e-3, 1e4); minus signs are U+2212, as on the charts."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        text = f"{value:.1e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    elif abs(value) >= 1e3:
        text = str(round(value))
    else:
        text = f"{value:.3g}"
    return text.replace("-", "\u2212")
