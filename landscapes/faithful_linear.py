"""Old Faithful, least squares: the mini-batch lesson on a quadratic (landscapes/data.py).

Waiting time v ≈ w · eruption length u + b, both standardized; x is the slope w and y
the intercept b. The loss is ``torch.nn.MSELoss``'s mean of squared residuals, a bowl
with Hessian 2·I (standardized u has mean 0 and mean square 1).
"""

import numpy as np

from ._base import Array, Landscape
from .data import faithful, loss_landscape, standardized


class _Linear:
    """Least squares v ≈ w·u + b over samples (u, v): value and batch gradient from the
    batch means of u², u, uv, v and v² (module docstring)."""

    def __init__(self, u: np.ndarray, v: np.ndarray) -> None:
        self.u, self.v = u, v
        self.everything = np.arange(len(u))
        self.full = self.moments(self.everything)

    def moments(self, batch: np.ndarray) -> tuple[float, float, float, float, float]:
        u, v = self.u[batch], self.v[batch]
        means = (np.mean(u * u), np.mean(u), np.mean(u * v), np.mean(v), np.mean(v * v))
        return tuple(float(m) for m in means)  # type: ignore[return-value]

    def value(self, w: Array, b: Array) -> Array:
        """mean((w·u + b − v)²) = w²·m_uu + 2wb·m_u + b² − 2w·m_uv − 2b·m_v + m_vv."""
        uu, u, uv, v, vv = self.full
        return w * w * uu + 2 * w * b * u + b * b - 2 * w * uv - 2 * b * v + vv

    def grad(self, w: Array, b: Array) -> tuple[Array, Array]:
        return self.batch_grad(w, b, self.everything)

    def batch_grad(self, w: Array, b: Array, batch: np.ndarray) -> tuple[Array, Array]:
        """∂/∂w = 2(w·m_uu + b·m_u − m_uv), ∂/∂b = 2(w·m_u + b − m_v), means over ``batch``."""
        uu, u, uv, v, _ = self.full if batch is self.everything else self.moments(batch)
        return 2 * (w * uu + b * u - uv), 2 * (w * u + b - v)


def _build() -> Landscape:
    lengths, waits = faithful()
    return loss_landscape(
        "faithful_linear",
        "Old Faithful: linear regression (data)",
        "f(x, y) = mean of (x·u + y − v)² over the 272 eruptions: x the slope, y the "
        "intercept, u the eruption's length, v the wait before it (both standardized)",
        r"f(x, y) = \frac{1}{272}\sum_{i=1}^{272} (x\,u_i + y - v_i)^2",
        _Linear(standardized(lengths), standardized(waits)),
        ((-1.0, 3.0), (-2.0, 2.0)),
        (-0.5, 1.5),
        "Each step sees a random mini-batch of the 272 eruptions: smaller batches, "
        "noisier paths, the same expected direction.",
    )


LANDSCAPE = _build()
