"""The Japanese table speaks one term per concept, as static/i18n/glossary.json fixes it.

A lecturer reading 慣性 μ on a slider and モーメンタム μ in its help, or 減衰 for both
dampening and weight decay, cannot tell whether these are one knob or two. The glossary
is the one home of the Japanese terms; these tests hold every Japanese string to it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

I18N = Path(__file__).resolve().parents[2] / "static" / "i18n"


def _load(name: str) -> Any:
    return json.loads((I18N / name).read_text(encoding="utf-8"))


EN: dict[str, str] = _load("en.json")
JA: dict[str, str] = _load("ja.json")
TERMS: list[dict[str, Any]] = _load("glossary.json")["terms"]


def _names_concept(term: dict[str, Any], english: str) -> bool:
    flags = 0 if term.get("case") else re.IGNORECASE
    return re.search(term["en"], english, flags) is not None


def test_english_and_japanese_tables_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(JA)) == [], "keys missing from ja.json"
    assert sorted(set(JA) - set(EN)) == [], "keys missing from en.json"


def test_glossary_is_well_formed() -> None:
    concepts = [term["concept"] for term in TERMS]
    assert len(concepts) == len(set(concepts)), "a concept is listed twice"
    japanese = [term["ja"] for term in TERMS]
    assert len(japanese) == len(set(japanese)), "two concepts share one Japanese term"
    for term in TERMS:
        if "en" in term:
            re.compile(term["en"])
        for variant in term.get("avoid", []):
            # An avoided variant must not be (part of) a chosen term, or no string could pass.
            assert all(variant not in other["ja"] for other in TERMS), variant


@pytest.mark.parametrize("term", [t for t in TERMS if "en" in t], ids=lambda t: t["concept"])
def test_japanese_uses_the_glossary_term_where_english_names_the_concept(
    term: dict[str, Any],
) -> None:
    accepted = [term["ja"], *([term["ja_short"]] if "ja_short" in term else [])]
    missing = {
        key: JA.get(key, "")
        for key, english in EN.items()
        if _names_concept(term, english) and not any(word in JA.get(key, "") for word in accepted)
    }
    assert missing == {}, f"{term['concept']}: these Japanese strings should say {accepted[0]}"
    clashing = {
        key: JA[key]
        for key, english in EN.items()
        if key in JA
        and _names_concept(term, english)
        and any(word in JA[key] for word in term.get("avoid_here", []))
        # the clash word may be part of another concept's term in the same string (荷重減衰)
        and not any(
            word in other["ja"] and other["ja"] in JA[key]
            for word in term.get("avoid_here", [])
            for other in TERMS
            if other is not term and "en" in other and _names_concept(other, english)
        )
    }
    assert clashing == {}, f"{term['concept']}: must not be called {term.get('avoid_here')}"


def test_no_japanese_string_uses_an_avoided_variant() -> None:
    found = {
        key: variant
        for key, text in JA.items()
        for term in TERMS
        for variant in term.get("avoid", [])
        if variant in text
    }
    assert found == {}, "use the glossary's term instead (static/i18n/glossary.json)"


def test_the_checks_catch_the_old_inconsistencies() -> None:
    """The rules flag what the issue reported, so a passing run means something."""
    momentum = next(t for t in TERMS if t["concept"].startswith("momentum"))
    dampening = next(t for t in TERMS if t["concept"].startswith("dampening"))
    step = next(t for t in TERMS if t["concept"].startswith("a step's length"))
    assert _names_concept(momentum, "momentum μ") and "モーメンタム" not in "慣性 μ"
    assert "慣性" in momentum["avoid"]
    assert not _names_concept(momentum, "Momentum rolls off"), (
        "the optimizer's name is not the concept"
    )
    assert _names_concept(dampening, "dampening") and "減衰" in dampening["avoid_here"]
    assert "一人前の一歩" in step["avoid"]
