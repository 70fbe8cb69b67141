"""Rosenbrock's banana: a curved, flat-bottomed valley that rewards momentum."""

from ._base import Landscape, Minimum


def _f(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


LANDSCAPE = Landscape(
    name="rosenbrock",
    title="Rosenbrock (banana valley)",
    formula="f(x, y) = (1 − x)² + 100 (y − x²)²",
    latex=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    default_start=(-1.2, 1.0),  # Rosenbrock's own 1960 start, below the valley floor
    minima=(Minimum(1.0, 1.0, 0.0, "global"),),
    fn=_f,
    grad_fn=_grad,
    about="Finding the valley is easy; following its curved, nearly flat floor to (1, 1) is slow.",
)
