"""app.jsonguard: deep nesting, long numbers and lone surrogates refused, with the field."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import MAX_JSON_DEPTH, MAX_NUMBER_CHARS
from app.jsonguard import JSONGuardError, check_json, check_json_reference


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _refusal(text: str | bytes) -> JSONGuardError:
    with pytest.raises(JSONGuardError) as caught:
        check_json(text)
    return caught.value


SCENE = {
    "landscape": "rosenbrock",
    "start": [-1.5, 2.0],
    "steps": 300,
    "runs": [{"optimizer": "adam", "params": {"lr": 1.2345678901234567e-05, "beta1": 0.9}}],
    "schedule": {"kind": "cosine", "warmup": 10},
    "title": 'brackets [[{{ and "quotes" \\ and digits 12345678901234567890 in text',
}


@pytest.mark.parametrize("indent", [None, 2])
def test_real_bodies_pass(indent: int | None) -> None:
    check_json(json.dumps(SCENE, indent=indent))
    check_json(json.dumps(SCENE, ensure_ascii=False).encode())
    check_json(json.dumps({"title": "学習率 😀"}))  # a pair of surrogates, escaped: one character
    check_json('{"title": "\\ud83d\\ude00 and \\\\ud800"}')  # an escaped backslash, then text


def test_nesting_up_to_the_limit_passes_and_one_more_is_refused() -> None:
    check_json(_nested(MAX_JSON_DEPTH))
    refused = _refusal(_nested(MAX_JSON_DEPTH + 1))
    assert refused.kind == "json_too_deep" and refused.loc == []
    assert str(refused) == (
        f"request: nested more than {MAX_JSON_DEPTH} levels deep; "
        f"at most {MAX_JSON_DEPTH} levels are accepted"
    )


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
@pytest.mark.parametrize(
    ("template", "loc"),
    [
        ('{"landscape": "booth", "start": %s}', ["start"]),
        ('{"runs": [{"optimizer": "sgd"}, {"params": {"lr": %s}}]}', ["runs", 1, "params", "lr"]),
        ('{"landscape": %s}', ["landscape"]),
        ('{"format": "gif", "title": %s}', ["title"]),
        ('{"type": "run", "id": %s}', ["id"]),
    ],
)
def test_deep_nesting_names_the_field(template: str, loc: list[object], depth: int) -> None:
    # 100,000 is far past the interpreter's recursion limit: no recursive scanner gets here.
    refused = _refusal(template % _nested(depth))
    assert refused.kind == "json_too_deep"
    assert refused.loc == loc
    assert str(refused).startswith(".".join(map(str, loc)) + ": nested more than 32")


def test_deep_objects_name_a_bounded_path() -> None:
    refused = _refusal('{"a": ' * 50 + "1" + "}" * 50)
    assert refused.loc == ["a"] * 8 + ["…"]


def test_long_numbers_are_refused_where_they_are() -> None:
    check_json('{"seed": %s}' % ("9" * MAX_NUMBER_CHARS))
    refused = _refusal('{"runs": [{"params": {"lr": %s}}]}' % ("9" * 5_000))
    assert refused.kind == "json_number_too_long" and refused.loc == ["runs", 0, "params", "lr"]
    assert "5000 characters" in str(refused) and f"at most {MAX_NUMBER_CHARS}" in str(refused)
    assert _refusal('{"noise": 1e%s}' % ("0" * 200)).loc == ["noise"]
    check_json('{"title": "%s"}' % ("9" * 5_000))  # digits in a string are text


@pytest.mark.parametrize(
    ("text", "lone"),
    [
        ('{"title": "ab\\ud800"}', "\\ud800"),
        ('{"title": "\\uD800x"}', "\\ud800"),
        ('{"title": "\\udc00"}', "\\udc00"),
        ('{"title": "\\ud83d\\ud83d\\ude00"}', "\\ud83d"),  # a high half, then a full pair
        ('{"title": "\\ud83d\\n\\ude00"}', "\\ud83d"),  # halves apart
        ('{"title": "\ud800"}', "\\ud800"),  # a raw one in text (a Python string)
    ],
)
def test_lone_surrogates_are_refused(text: str, lone: str) -> None:
    refused = _refusal(text)
    assert refused.kind == "json_lone_surrogate" and refused.loc == ["title"]
    assert lone in str(refused)
    str(refused).encode("utf-8")  # the message itself is plain text


def test_surrogates_in_bytes_and_keys() -> None:
    # json.loads decodes bytes with 'surrogatepass': UTF-8-encoded surrogates get through it.
    assert _refusal(b'{"title": "\xed\xa0\x80"}').loc == ["title"]
    assert _refusal('{"runs": [{"params": {"l\\udc00r": 1}}]}').loc == ["runs", 0, "params"]
    assert _refusal('{"title": ["ok", "\\ud800"]}').loc == ["title", 1]


def test_bytes_that_are_not_text() -> None:
    refused = _refusal(b'{"title": "\xff"}')
    assert refused.kind == "json_not_text" and "UTF-8" in str(refused)


def test_refusals_are_value_errors_the_websocket_can_catch() -> None:
    with pytest.raises(ValueError, match=r"^id: nested more than 32 levels deep"):
        check_json(f'{{"type": "run", "id": {_nested(5_000)}}}')


def test_invalid_syntax_is_left_to_the_parser() -> None:
    for text in ('{"a": ', '{"a": "unterminated', "[1, 2,, ]", "{'a': 1}", "", "nul"):
        check_json(text)


def test_depth_counts_each_level_whatever_the_bracket() -> None:
    # Alternating objects and arrays: every level counts, however they are mixed.
    text = '{"a": [' * 17 + "1" + "]}" * 17  # 34 levels
    assert _refusal(text).loc == ["a", 0, "a", 0, "a", 0, "a", 0, "…"]
    check_json('{"a": [' * 16 + "1" + "]}" * 16)  # 32 levels
    # Brackets inside strings are text, however many.
    check_json(json.dumps({"title": "[" * 5_000, "landscape": "{" * 5_000}))


# --- check_json against its definition --------------------------------------------------


class Raw(str):
    """JSON text placed as is (a fault, or an escape json.dumps would not write)."""


FAULTY_STRINGS = [
    '"\\ud800"',
    '"a\\udc00b"',
    '"\\ud83d\\ude00"',  # a pair: fine
    '"\\\\ud800"',  # an escaped backslash, then text: fine
    '"\\ud83d\\ud83d\\ude00"',
    '"x\\ud800\\n"',
    '"\\\\\\ud800"',
    '"[{\\"]}"',  # brackets and an escaped quote inside a string
]
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.integers(MAX_NUMBER_CHARS - 5, MAX_NUMBER_CHARS + 5).map(lambda n: Raw("7" * n)),
    st.integers(1, 20).map(lambda n: Raw('"' + "9" * 120 + "[" * n + '"')),
    st.sampled_from(FAULTY_STRINGS).map(Raw),
    st.integers(MAX_JSON_DEPTH - 8, MAX_JSON_DEPTH + 4).map(lambda d: Raw("[" * d + "0" + "]" * d)),
)
KEYS = st.one_of(st.text(max_size=4), st.sampled_from(FAULTY_STRINGS).map(Raw))
TREES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=24,
)


def _dumps(value: object, ascii_only: bool, spaced: bool) -> str:
    """json.dumps, with Raw pieces placed as they are."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, list):
        return "[" + comma.join(_dumps(v, ascii_only, spaced) for v in value) + "]"
    if isinstance(value, dict):
        members = (
            _dumps(k, ascii_only, spaced) + colon + _dumps(v, ascii_only, spaced)
            for k, v in value.items()
        )
        return "{" + comma.join(members) + "}"
    return json.dumps(value, ensure_ascii=ascii_only)


def _outcome(check: Callable[[str], None], text: str) -> tuple[str, str, list[object]] | None:
    try:
        check(text)
    except JSONGuardError as refused:
        return refused.kind, refused.msg, refused.loc
    return None


@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(tree=TREES, ascii_only=st.booleans(), spaced=st.booleans(), depth=st.integers(0, 30))
def test_check_json_agrees_with_its_definition(
    tree: object, ascii_only: bool, spaced: bool, depth: int
) -> None:
    text = "[" * depth + _dumps(tree, ascii_only, spaced) + "]" * depth
    expected = _outcome(check_json_reference, text)
    assert _outcome(check_json, text) == expected
    assert _outcome(lambda t: check_json(t.encode("utf-8", "surrogatepass")), text) == expected


def test_generated_texts_reach_every_refusal() -> None:
    # The property above would be weak if the generator never produced a refusal.
    kinds = set()
    for text in (
        "[" + _dumps(Raw("7" * 200), True, True) + "]",
        '{"a": [' + FAULTY_STRINGS[0] + "]}",
        "[" * 40 + "]" * 40,
    ):
        outcome = _outcome(check_json_reference, text)
        assert outcome is not None and outcome == _outcome(check_json, text)
        kinds.add(outcome[0])
    assert kinds == {"json_number_too_long", "json_lone_surrogate", "json_too_deep"}
