"""Gradscape's 2-D test functions: a registry of `Landscape` objects.

>>> import landscapes
>>> f = landscapes.get("rosenbrock")
>>> float(f.value([1.0, 1.0]))
0.0

Adding a landscape is one short file that defines ``LANDSCAPE`` plus one line in
``_ALL`` below; the order of ``_ALL`` is the teaching order the page shows.
Definitions and minima follow Surjanovic & Bingham, Virtual Library of
Simulation Experiments (https://www.sfu.ca/~ssurjano/optimization.html).
"""

import reprlib

from . import (
    ackley,
    beale,
    booth,
    faithful_linear,
    faithful_logistic,
    goldstein_price,
    himmelblau,
    ill_conditioned,
    rastrigin,
    rosenbrock,
    saddle,
    six_hump_camel,
    styblinski_tang,
)
from ._base import KINDS, Landscape, Minimum

__all__ = ["KINDS", "Landscape", "Minimum", "get", "names", "parse"]

_ALL: tuple[Landscape, ...] = (
    rosenbrock.LANDSCAPE,
    saddle.LANDSCAPE,
    rastrigin.LANDSCAPE,
    ill_conditioned.LANDSCAPE,
    beale.LANDSCAPE,
    himmelblau.LANDSCAPE,
    ackley.LANDSCAPE,
    booth.LANDSCAPE,
    goldstein_price.LANDSCAPE,
    six_hump_camel.LANDSCAPE,
    styblinski_tang.LANDSCAPE,
    faithful_linear.LANDSCAPE,
    faithful_logistic.LANDSCAPE,
)
_REGISTRY: dict[str, Landscape] = {f.name: f for f in _ALL}


def names() -> tuple[str, ...]:
    """Every landscape name, in teaching order."""
    return tuple(_REGISTRY)


def get(name: str) -> Landscape:
    """The landscape called `name`; ValueError naming the valid names if unknown."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown landscape {reprlib.repr(name)}; valid names: {', '.join(_REGISTRY)}"
        ) from None


def parse(
    text: str,
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (-3.0, 3.0)),
    start: tuple[float, float] | None = None,
) -> Landscape:
    """A Landscape from a lecturer's typed ``f(x, y)`` (landscapes/expr.py): an AST
    whitelist, the exact symbolic gradient, minima found numerically; ValueError naming the
    column. SymPy is imported here, not with the package, so the CLI starts fast."""
    from .expr import parse as typed

    return typed(text, bounds, start)
