"""A linear scan of JSON text that refuses what would stall or crash the parsers behind it.

`json.loads` recurses once per nesting level (a RecursionError near 1,000 levels, after
pydantic and the 422 echo have recursed through hundreds), converts every digit of an
integer literal (Python refuses more than 4,300 digits with a ValueError that names no
field), and turns an escape such as "\\ud800" into a lone surrogate that UTF-8 cannot
encode, so a reply quoting it fails. This module reads the text before anything parses
it, and refuses:

- nesting deeper than MAX_JSON_DEPTH (our real bodies nest 3 levels, a WebSocket message
  the same);
- number literals longer than MAX_NUMBER_CHARS (a float64 needs at most 24 characters);
- lone UTF-16 surrogates, escaped ("\\udc00", or "\\ud800" without its low half) or raw
  (bytes that decode to one, as json.loads's "surrogatepass" decoding lets through).

Each refusal names where it is, as the app's 422s name a field: `runs.0.params.lr:
nested more than 32 levels deep`. Syntax errors are not this module's business: text it
cannot tokenize is left to the parser, which reports them.

Three readings, one answer. `check_json_reference` is the definition: token by token in
plain Python. The app calls `check_json`: a verdict from a few C-level passes
(bytes.translate, one regular expression, a NumPy running sum) that a real body passes
in less than json.loads's time; only if it fires, `_Layout` finds the first refusal and
its path with NumPy arrays over the bytes (which byte is escaped, inside a string, at
what depth), so refusing a crafted 64 KiB body costs 2–3 ms, not the reference's
25–40 ms (benchmarks/gate.py). The tests hold the two equal on generated texts. No
recursion anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.config import MAX_JSON_DEPTH, MAX_NUMBER_CHARS

# The verdict's tables, for bytes.translate (C, one pass): number characters become '0'
# and all else ' ', so bytes.find spots a run longer than the limit; brackets become a
# step of the nesting depth (+1, -1 as int8) and all else is deleted.
_NUMBER_CHARS = b"-+.0123456789eE"
_AS_DIGITS = bytes(ord("0") if c in _NUMBER_CHARS else ord(" ") for c in range(256))
_LONG_RUN = b"0" * (MAX_NUMBER_CHARS + 1)
_AS_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[{]}")
# Any surrogate escape, a pair's halves included (JSON.stringify never writes one, it
# sends the character itself; Python's json.dumps does, for characters beyond U+FFFF),
# and any surrogate in UTF-8 ('surrogatepass' writes them as ED A0-BF xx).
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")

_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# A run of number characters longer than the limit, outside strings. The look-behind
# starts a run only at its first character, so each run is read once.
_LONG_NUMBER = rf"(?<![-+.0-9eE])[-+.0-9eE]{{{MAX_NUMBER_CHARS + 1},}}"
# The exact pass stops at a whole string (so brackets and digits inside it are skipped in
# C), a bracket, or an over-long number run.
_SCAN = re.compile(rf"{_STRING}|[\[\]{{}}]|{_LONG_NUMBER}", re.DOTALL)
# The path's tokens: also commas and colons (array indices, object keys), and any other
# run of scalar characters (numbers, true, false, null, or junk the parser rejects).
_TOKEN = re.compile(rf'\s*({_STRING}|[\[\]{{}},:]|[^\s"\[\]{{}},:]+)', re.DOTALL)
# An escape, or a raw surrogate (which json.loads's 'surrogatepass' decoding lets in).
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)|[\ud800-\udfff]", re.DOTALL)
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
    data = text.encode("utf-8", "surrogatepass")
    # The verdict: a real body passes all three. When one fires, the exact pass raises
    # (naming the field) or finds nothing: a long digit run inside a string, a pair.
    if (
        _SURROGATE.search(data)
        or data.translate(_AS_DIGITS).find(_LONG_RUN) >= 0
        or _deeper_than_limit(data)
    ):
        _Layout(data).check()


def _deeper_than_limit(data: bytes) -> bool:
    """Whether the brackets outside strings nest deeper than MAX_JSON_DEPTH, counted as
    the reference counts them (an opening bracket +1, a closing one -1).

    Escaped backslashes, then escaped quotes, are deleted (left to right, so an escaped
    backslash before a quote leaves the quote); every quote left opens or closes a
    string, so every other piece between quotes is outside strings.
    """
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return False  # most bodies stop here
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    steps = b"".join(unescaped.split(b'"')[::2]).translate(_AS_STEPS, _NOT_BRACKETS)
    depths = np.frombuffer(steps, np.int8).cumsum(dtype=np.int32)
    return bool(steps) and int(depths.max()) > MAX_JSON_DEPTH


def check_json_reference(text: str) -> None:
    """check_json's definition, token by token in plain Python: the first refusal in the
    text, with the path to it (see the module's docstring)."""
    depth = 0
    for match in _SCAN.finditer(text):
        token = match.group()
        first = token[0]
        if first in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise _too_deep(_path_at(text, match.start()))
        elif first in "]}":
            depth -= 1
        elif first == '"':
            lone = _lone_surrogate(token)
            if lone is not None:
                raise _lone(lone, _path_at(text, match.start()))
        else:
            raise _too_long(len(token), _path_at(text, match.start()))


def _too_deep(path: list[str | int]) -> JSONGuardError:
    return JSONGuardError(
        "json_too_deep",
        f"nested more than {MAX_JSON_DEPTH} levels deep; "
        f"at most {MAX_JSON_DEPTH} levels are accepted",
        _shown(_trailing_indices_dropped(path)),
    )


def _lone(escape: str, path: list[str | int]) -> JSONGuardError:
    return JSONGuardError(
        "json_lone_surrogate",
        f"lone UTF-16 surrogate {escape} (half of a character pair); text must be valid Unicode",
        _shown(path),
    )


def _too_long(length: int, path: list[str | int]) -> JSONGuardError:
    return JSONGuardError(
        "json_number_too_long",
        f"number literal of {length} characters; "
        f"at most {MAX_NUMBER_CHARS} characters are accepted",
        _shown(path),
    )


def _table(members: bytes) -> np.ndarray:
    table = np.zeros(256, bool)
    table[list(members)] = True
    return table


_IS_NUMBER = _table(_NUMBER_CHARS)
_IS_HEX = _table(b"0123456789abcdefABCDEF")
_IS_HIGH = _table(b"89abAB")  # the third hex digit of \uD800-\uDBFF
_IS_LOW = _table(b"cdefCDEF")  # of \uDC00-\uDFFF


class _Layout:
    """The reference's reading of UTF-8 bytes, as arrays: which bytes are escaped, inside
    strings and at what depth. Every array has one entry per byte."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        b = np.frombuffer(data, np.uint8)
        n = b.size
        self.b = np.concatenate((b, np.zeros(6, np.uint8)))  # room to look 6 bytes ahead
        index = np.arange(n)
        backslash = b == ord("\\")
        # A byte is escaped after an odd run of backslashes.
        run = index - np.maximum.accumulate(np.where(backslash, -1, index))
        self.escaped = np.zeros(n, bool)
        self.escaped[1:] = run[:-1] % 2 == 1
        self.quote = (b == ord('"')) & ~self.escaped
        # After an odd number of quotes: inside a string (its closing quote too).
        self.inside = (np.cumsum(self.quote) - self.quote) % 2 == 1
        outside = ~self.inside
        self.opening = outside & ((b == ord("[")) | (b == ord("{")))
        closing = outside & ((b == ord("]")) | (b == ord("}")))
        self.depth = np.cumsum(self.opening.astype(np.int32) - closing)  # after each byte
        self.comma = outside & (b == ord(","))
        self.colon = outside & (b == ord(":"))
        self.number = outside & _IS_NUMBER[b]

    def check(self) -> None:
        """Raise the reference's refusal, if any: the first fault in the text."""
        faults = [f for f in (self._too_deep(), self._too_long(), self._lone()) if f]
        if faults:
            position, make = min(faults, key=lambda fault: fault[0])
            raise make(position)

    def _too_deep(self) -> tuple[int, Callable[[int], JSONGuardError]] | None:
        deep = np.flatnonzero(self.opening & (self.depth > MAX_JSON_DEPTH))
        if not deep.size:
            return None
        return int(deep[0]), lambda at: _too_deep(self.path_at(at))

    def _too_long(self) -> tuple[int, Callable[[int], JSONGuardError]] | None:
        edges = np.diff(np.concatenate(([0], self.number.view(np.int8), [0])))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = np.flatnonzero(ends - starts > MAX_NUMBER_CHARS)
        if not long.size:
            return None
        start, length = int(starts[long[0]]), int(ends[long[0]] - starts[long[0]])
        return start, lambda at: _too_long(length, self.path_at(at))

    def _lone(self) -> tuple[int, Callable[[int], JSONGuardError]] | None:
        n = self.escaped.size
        b = self.b
        ahead = [b[k : k + n] for k in range(1, 6)]  # the 5 bytes after each byte
        escape = (
            self.inside
            & (b[:n] == ord("\\"))
            & ~self.escaped
            & (ahead[0] == ord("u"))
            & ((ahead[1] | 0x20) == ord("d"))
            & _IS_HEX[ahead[3]]
            & _IS_HEX[ahead[4]]
        )
        high = escape & _IS_HIGH[ahead[2]]
        low = escape & _IS_LOW[ahead[2]]
        paired_high = np.zeros(n, bool)
        paired_high[:-6] = high[:-6] & low[6:]
        paired_low = np.zeros(n, bool)
        paired_low[6:] = paired_high[:-6]
        # UTF-8 of a surrogate ('surrogatepass'): ED A0-BF xx.
        raw = self.inside & (b[:n] == 0xED) & (ahead[0] >= 0xA0) & (ahead[0] <= 0xBF)
        lone = np.flatnonzero((high & ~paired_high) | (low & ~paired_low) | raw)
        if not lone.size:
            return None
        at = int(lone[0])
        if raw[at]:
            shown = f"\\u{ord(self.data[at : at + 3].decode('utf-8', 'surrogatepass')):04x}"
        else:
            shown = self.data[at : at + 6].decode("ascii").lower()
        return at, lambda position: _lone(shown, self.path_at(position))

    def path_at(self, position: int) -> list[str | int]:
        """The path to the token at `position`, as _path_at reads it: each enclosing
        array's index, each enclosing object's key (none where the token is the key)."""
        levels = int(self.depth[position]) - int(self.opening[position])
        opens = np.flatnonzero(self.opening[:position])
        open_depths = self.depth[opens]
        path: list[str | int] = []
        child, end = position, opens.size
        for level in range(levels, 0, -1):
            end = int(np.flatnonzero(open_depths[:end] == level)[-1])
            start = int(opens[end])
            here = self.depth[start + 1 : child] == level
            if self.data[start] == ord("["):
                path.append(int(np.count_nonzero(self.comma[start + 1 : child] & here)))
            else:
                path.extend(self._key(start, child, here))
            child = start
        return path[::-1]

    def _key(self, start: int, child: int, here: np.ndarray) -> list[str]:
        """[the key of the member at `child`] of the object opened at `start`, or [] when
        the token at `child` is itself a key."""
        colons = np.flatnonzero(self.colon[start + 1 : child] & here)
        commas = np.flatnonzero(self.comma[start + 1 : child] & here)
        if not colons.size or (commas.size and commas[-1] > colons[-1]):
            return []
        quotes = start + 1 + np.flatnonzero(self.quote[start + 1 : start + 1 + colons[-1]])
        if quotes.size < 2:
            return []
        token = self.data[quotes[-2] : quotes[-1] + 1].decode("utf-8", "surrogatepass")
        return [_key_text(token)]


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
    """The first lone surrogate in a string token, as an escape ('\\ud800'), or None.

    A raw one (decoded with 'surrogatepass') is always lone: Python keeps a high and a
    low half side by side as two characters, which UTF-8 cannot encode.
    """
    pending_high: re.Match[str] | None = None
    for escape in _ESCAPE.finditer(token):
        raw = escape.group(1) is None and len(escape.group()) == 1
        code = ord(escape.group()) if raw else int(escape.group(1) or "-1", 16)
        if pending_high is not None:
            if 0xDC00 <= code <= 0xDFFF and not raw and escape.start() == pending_high.end():
                pending_high = None
                continue
            return pending_high.group().lower()
        if raw:
            return f"\\u{code:04x}"
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
