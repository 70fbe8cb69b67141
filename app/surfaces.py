"""Where a request's landscape becomes a `Landscape`: a registry name or a typed function.

Every route, the live channel, the maps and the exporters resolve ``request.landscape``
here (`resolve`), so a typed ``{"expr", "bounds", "start"}`` works wherever a name does.

Two steps, for the event loop's sake: `check` (the request models' validation, on the
event loop) reads the text over the whitelist and checks bounds and start — milliseconds,
and every error names its column; `resolve` (in the compute workers) differentiates,
compiles and searches the minima, which takes tens to hundreds of milliseconds, once per
(normalized text, bounds, start): a slider drag sends the same function with every request.
The text is only ever read by `landscapes.expr` (an ast whitelist; see its docstring):
nothing here evaluates it.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Any, Protocol

import landscapes
from landscapes._base import Bounds, Landscape

CUSTOM = "custom"
"""The name a typed function goes by (in titles, file names, the page's picker)."""


def _expr() -> ModuleType:
    """landscapes.expr, imported on first use: SymPy takes half a second to import, which
    every `gradscape` command would pay, though only typed functions need it."""
    from landscapes import expr

    return expr


class Typed(Protocol):
    """A typed function as the request models carry it (app.schemas.LandscapeExpr)."""

    expr: str
    bounds: Any
    start: Any


@lru_cache(maxsize=32)
def _compiled(text: str, bounds: Bounds, start: tuple[float, float] | None) -> Landscape:
    return _expr().parse(text, bounds, start, name=CUSTOM)


def typed(text: str, bounds: Any, start: Any = None) -> Landscape:
    """The landscape of a typed function, compiled once per (text, bounds, start).

    ValueError (with the column) for a bad expression; errors are not cached, and are
    found before any SymPy work in all but the rarest cases.
    """
    key_bounds = _expr().check_bounds(bounds)
    key_start = None if start is None else (float(start[0]), float(start[1]))
    return _compiled(_expr().normalize(text), key_bounds, key_start)


@lru_cache(maxsize=256)
def _checked(text: str) -> None:
    _expr().check(text)


def check(landscape: str | Typed) -> Bounds:
    """Validate without compiling: the name is known, or the typed text reads and its bounds
    and start hold. The landscape's bounds; ValueError (with the column) otherwise."""
    if isinstance(landscape, str):
        return landscapes.get(landscape).bounds
    bounds = _expr().check_bounds(landscape.bounds)
    if landscape.start is not None:
        _expr().check_start(landscape.start, bounds)
    _checked(_expr().normalize(landscape.expr))
    return bounds


def resolve(landscape: str | Typed) -> Landscape:
    """A registry name's landscape, or a typed function's; ValueError otherwise."""
    if isinstance(landscape, str):
        return landscapes.get(landscape)
    return typed(landscape.expr, landscape.bounds, landscape.start)


def label(landscape: str | Typed) -> str:
    """What the landscape is called in file names and keys: its name, or "custom"."""
    return landscape if isinstance(landscape, str) else CUSTOM
