"""Where a request's landscape becomes a `Landscape`: a registry name or a typed function.

Every route, the live channel, the maps and the exporters resolve ``request.landscape``
here (`resolve`), so a typed ``{"expr", "bounds", "start"}`` works wherever a name does.
Typed functions are compiled once per (normalized text, bounds, start): SymPy's
differentiation and lambdify take tens of milliseconds, and a slider drag sends the same
function with every request. The text is only ever read by `landscapes.expr` (an ast
whitelist; see its docstring): nothing here evaluates it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import landscapes
from landscapes import expr as typed_expr
from landscapes._base import Bounds, Landscape

CUSTOM = "custom"
"""The name a typed function goes by (in titles, file names, the page's picker)."""


class Typed(Protocol):
    """A typed function as the request models carry it (app.schemas.LandscapeExpr)."""

    expr: str
    bounds: Any
    start: Any


@lru_cache(maxsize=32)
def _compiled(text: str, bounds: Bounds, start: tuple[float, float] | None) -> Landscape:
    return typed_expr.parse(text, bounds, start, name=CUSTOM)


def typed(text: str, bounds: Any, start: Any = None) -> Landscape:
    """The landscape of a typed function, compiled once per (text, bounds, start).

    ValueError (with the column) for a bad expression; errors are not cached, and are
    found before any SymPy work in all but the rarest cases.
    """
    key_bounds = typed_expr.check_bounds(bounds)
    key_start = None if start is None else (float(start[0]), float(start[1]))
    return _compiled(typed_expr.normalize(text), key_bounds, key_start)


def resolve(landscape: str | Typed) -> Landscape:
    """A registry name's landscape, or a typed function's; ValueError otherwise."""
    if isinstance(landscape, str):
        return landscapes.get(landscape)
    return typed(landscape.expr, landscape.bounds, landscape.start)


def label(landscape: str | Typed) -> str:
    """What the landscape is called in file names and keys: its name, or "custom"."""
    return landscape if isinstance(landscape, str) else CUSTOM
