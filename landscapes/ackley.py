"""Ackley: a nearly flat, rippled plain with one deep funnel at the origin."""

import numpy as np

from ._base import Landscape, Minimum

A, B, C = 20.0, 0.2, 2 * np.pi


def _f(x, y):
    r = np.hypot(x, y) / np.sqrt(2)
    return -A * np.exp(-B * r) - np.exp((np.cos(C * x) + np.cos(C * y)) / 2) + A + np.e


def _grad(x, y):
    norm = np.hypot(x, y)  # hypot: no underflow to 0 right next to the tip
    # dr/dx = x / (√2 ‖(x, y)‖), with x/‖(x, y)‖ bounded; at the funnel's tip the cone
    # has no gradient, and 0 is the subgradient that keeps every optimizer at rest.
    safe = np.where(norm > 0, norm, 1.0)
    slope = A * B * np.exp(-B * norm / np.sqrt(2)) / np.sqrt(2)
    ripple = C / 2 * np.exp((np.cos(C * x) + np.cos(C * y)) / 2)
    ux, uy = x / safe, y / safe  # the unit direction away from the tip
    return slope * ux + ripple * np.sin(C * x), slope * uy + ripple * np.sin(C * y)


LANDSCAPE = Landscape(
    name="ackley",
    title="Ackley",
    formula="f(x, y) = −20 exp(−0.2 √((x² + y²)/2)) − exp((cos 2πx + cos 2πy)/2) + 20 + e",
    latex=r"f(x, y) = -20\exp\left(-0.2\sqrt{\tfrac{x^2 + y^2}{2}}\right)"
    r" - \exp\left(\tfrac{\cos 2\pi x + \cos 2\pi y}{2}\right) + 20 + e",
    # The literature's domain is [−32.768, 32.768]²; this view shows the funnel.
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    default_start=(-3.2, 2.4),
    minima=(
        Minimum(0.0, 0.0, 0.0, "global"),
        # The ripple that holds plain gradient descent from the default start
        # (refined by Newton's method in 50-digit arithmetic).
        Minimum(-2.973139419924383, 1.9821399503814776, 7.9617112746898275, "local"),
    ),
    fn=_f,
    grad_fn=_grad,
    about="The ripples hold small steps in shallow local minima; "
    "only the large-scale slope leads to the centre.",
)
