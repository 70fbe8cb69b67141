"""The saddle x² − y²: zero gradient at the origin, yet not a minimum."""

from ._base import Landscape, Minimum


def _f(x, y):
    return x**2 - y**2


def _grad(x, y):
    return 2 * x, -2 * y


LANDSCAPE = Landscape(
    name="saddle",
    title="Saddle point",
    formula="f(x, y) = x² − y²",
    latex=r"f(x, y) = x^2 - y^2",
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    # Just off the x-axis: plain gradient descent slides to the saddle and stalls
    # there for a long time, because the escaping component −2y starts tiny.
    default_start=(-1.8, 1e-3),
    minima=(Minimum(0.0, 0.0, 0.0, "saddle"),),
    fn=_f,
    grad_fn=_grad,
    about="The gradient vanishes at the origin, but downhill continues along y: "
    "SGD stalls there, adaptive methods escape.",
)
