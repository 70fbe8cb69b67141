"""A linear scan of JSON text that refuses what would stall or crash the parsers behind it.

`json.loads` recurses once per nesting level (a RecursionError near 1,000 levels, after
pydantic and the 422 echo have recursed through hundreds), converts every digit of an
integer literal (Python refuses more than 4,300 digits with a ValueError that names no
field), and turns an escape such as "\\ud800" into a lone surrogate that UTF-8 cannot
encode, so a reply quoting it fails. This module looks at the text once, front to back,
before anything parses it, and refuses:

- nesting deeper than MAX_JSON_DEPTH (our real bodies nest 3 levels, a WebSocket message
  the same);
- number literals longer than MAX_NUMBER_CHARS (a float64 needs at most 24 characters);
- lone UTF-16 surrogates, escaped ("\\udc00", or "\\ud800" without its low half) or raw
  (bytes that decode to one, as json.loads's "surrogatepass" decoding lets through).

Each refusal names where it is, as the app's 422s name a field: `runs.0.params.lr:
nested more than 32 levels deep`. Syntax errors are not this module's business: text it
cannot tokenize is left to the parser, which reports them.

Cost: one C-level regex pass that stops only at brackets, strings and over-long number
runs (about 2–3 ms for a 64 KiB body, 20 µs for a real one). The path to a refusal is
worked out afterwards, by a second pass over the text before it, with a stack never
deeper than the limit. No recursion anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from app.config import MAX_JSON_DEPTH, MAX_NUMBER_CHARS

# Things the first pass stops at: a whole string (so brackets and digits inside it are
# skipped in C), a bracket, or a run of number characters longer than the limit. In valid
# JSON the number characters only appear together in number literals (and one 'e' in true
# and false), so a long run outside strings is a long number.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# (The look-behind starts a run only at its first character: each run is read once.)
_SCAN = re.compile(
    rf"{_STRING}|[\[\]{{}}]|(?<![-+.0-9eE])[-+.0-9eE]{{{MAX_NUMBER_CHARS + 1},}}", re.DOTALL
)
# The second pass's tokens: also commas and colons (array indices, object keys), and any
# other run of scalar characters (numbers, true, false, null, or junk the parser rejects).
_TOKEN = re.compile(rf'\s*({_STRING}|[\[\]{{}},:]|[^\s"\[\]{{}},:]+)', re.DOTALL)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_RAW_SURROGATE = re.compile("[\ud800-\udfff]")

LOC_PARTS = 8  # path components named in a refusal; a deeper path ends in '…'
KEY_CHARS = 200  # characters of an object key named in a refusal


class JSONGuardError(ValueError):
    """A refused JSON text: where (`loc`, as pydantic's issues locate a field) and why.

    `str()` is the one-line form the WebSocket and the CLI print (`field: message`).
    """

    def __init__(self, kind: str, msg: str, loc: list[str | int] | None = None) -> None:
        self.kind = kind  # json_too_deep, json_number_too_long, json_lone_surrogate, json_not_text
        self.msg = msg
        self.loc = loc or []
        where = ".".join(str(part) for part in self.loc) or "request"
        super().__init__(f"{where}: {msg}")


def check_json(text: str | bytes) -> None:
    """Raise JSONGuardError (a ValueError) if `text` nests too deeply, holds an over-long
    number or a lone surrogate; return None otherwise (valid JSON or not)."""
    if isinstance(text, bytes):
        text = _decode(text)
    depth = 0
    for match in _SCAN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                loc = _trailing_indices_dropped(_path_at(text, match.start()))
                raise JSONGuardError(
                    "json_too_deep",
                    f"nested more than {MAX_JSON_DEPTH} levels deep; "
                    f"at most {MAX_JSON_DEPTH} levels are accepted",
                    _shown(loc),
                )
        elif first in "]}":
            depth -= 1
        elif first == '"':
            lone = _lone_surrogate(token)
            if lone is not None:
                raise JSONGuardError(
                    "json_lone_surrogate",
                    f"lone UTF-16 surrogate {lone} (half of a character pair); "
                    "text must be valid Unicode",
                    _shown(_path_at(text, match.start())),
                )
        else:
            raise JSONGuardError(
                "json_number_too_long",
                f"number literal of {len(token)} characters; "
                f"at most {MAX_NUMBER_CHARS} characters are accepted",
                _shown(_path_at(text, match.start())),
            )


def _decode(body: bytes) -> str:
    """The text json.loads would read from `body`: its encoding detection, and surrogates
    let through ('surrogatepass'), so the scan sees every one the parser would produce."""
    try:
        return body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise JSONGuardError(
            "json_not_text", f"not valid {exc.encoding.upper()} text (byte {exc.start})"
        ) from exc


def _lone_surrogate(token: str) -> str | None:
    """The first lone surrogate in a string token, as an escape ('\\ud800'), or None."""
    raw = _RAW_SURROGATE.search(token)
    if raw is not None:
        return f"\\u{ord(raw.group()):04x}"
    if "\\u" not in token:
        return None
    pending_high: re.Match[str] | None = None
    for escape in _ESCAPE.finditer(token):
        code = int(escape.group(1), 16) if escape.group(1) else -1
        if pending_high is not None:
            if 0xDC00 <= code <= 0xDFFF and escape.start() == pending_high.end():
                pending_high = None
                continue
            return pending_high.group().lower()
        if 0xD800 <= code <= 0xDBFF:
            pending_high = escape
        elif 0xDC00 <= code <= 0xDFFF:
            return escape.group().lower()
    return pending_high.group().lower() if pending_high is not None else None


@dataclass
class _Frame:
    """An open container in the second pass: where its current value sits."""

    is_object: bool
    index: int = 0  # arrays: the current element
    key: str | None = None  # objects: the current key's token, once read
    expect_key: bool = True


def _path_at(text: str, position: int) -> list[str | int]:
    """The path (object keys, array indices) to the token starting at `position`.

    A token that is an object's key is located at its object. The stack holds the open
    containers before `position`, which the first pass found to be at most MAX_JSON_DEPTH.
    """
    stack: list[_Frame] = []
    pos = 0
    while pos < position:
        match = _TOKEN.match(text, pos)
        if match is None or match.start(1) >= position:
            break
        token = match.group(1)
        pos = match.end()
        top = stack[-1] if stack else None
        if token in ("[", "{"):
            stack.append(_Frame(is_object=token == "{"))
        elif token in ("]", "}"):
            if stack:
                stack.pop()
        elif top is None:
            continue
        elif token == ",":
            top.index += 1
            top.key, top.expect_key = None, True
        elif token == ":":
            top.expect_key = False
        elif top.is_object and top.expect_key and token.startswith('"'):
            top.key = token
    path: list[str | int] = []
    for frame in stack:
        if not frame.is_object:
            path.append(frame.index)
        elif frame.key is not None and not frame.expect_key:
            path.append(_key_text(frame.key))
    return path


def _key_text(token: str) -> str:
    """An object key as text, cut to KEY_CHARS (its raw form if it does not decode)."""
    try:
        key = json.loads(token)
    except ValueError:
        key = token[1:-1]
    key = _RAW_SURROGATE.sub("\ufffd", str(key))
    return key if len(key) <= KEY_CHARS else key[:KEY_CHARS] + "…"


def _trailing_indices_dropped(path: list[str | int]) -> list[str | int]:
    """`start`, not `start.0.0.0…`: the field is the last key; the zeros say nothing."""
    while path and isinstance(path[-1], int):
        path.pop()
    return path


def _shown(path: list[str | int]) -> list[str | int]:
    return path if len(path) <= LOC_PARTS else [*path[:LOC_PARTS], "…"]
