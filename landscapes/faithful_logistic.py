"""Old Faithful, logistic regression: a classifier's loss over data (landscapes/data.py).

P(eruption longer than 4 minutes) = σ(w · z + b), z the standardized waiting time before
it; x is the weight w and y the bias b. The loss is ``torch.nn.BCEWithLogitsLoss``'s
mean, computed as log(1 + eˢ) − c·s (stable for large |s|). 132 of the 272 eruptions
are long; the waiting times of long and short ones overlap, so the minimum is finite.
"""

import numpy as np

from ._base import Array, Landscape
from .data import faithful, loss_landscape, standardized

#: Rows of points per chunk of the loss ((rows, N) temporaries of 4.4 MB).
CHUNK_ROWS = 2048

#: An eruption longer than this (minutes) is "long", the model's label.
LONG_ERUPTION = 4.0


class _Logistic:
    """Logistic regression P(c = 1) = σ(w·z + b) over samples (z, c), mean log loss."""

    def __init__(self, z: np.ndarray, c: np.ndarray) -> None:
        self.z, self.c = z, c
        self.everything = np.arange(len(z))

    def _chunks(self, w: Array, b: Array) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, np.float64))
        return w.reshape(-1), b.reshape(-1), w.shape

    def value(self, w: Array, b: Array) -> Array:
        """mean(log(1 + eˢ) − c·s), s = w·z + b: ``BCEWithLogitsLoss``."""
        flat_w, flat_b, shape = self._chunks(w, b)
        out = np.empty(flat_w.shape)
        for low in range(0, len(flat_w), CHUNK_ROWS):
            part = slice(low, low + CHUNK_ROWS)
            s = flat_w[part, None] * self.z + flat_b[part, None]
            out[part] = np.mean(np.logaddexp(0.0, s) - self.c * s, axis=-1)
        return out.reshape(shape)

    def grad(self, w: Array, b: Array) -> tuple[Array, Array]:
        return self.batch_grad(w, b, self.everything)

    def batch_grad(self, w: Array, b: Array, batch: np.ndarray) -> tuple[Array, Array]:
        """∂/∂w = mean((σ(s) − c)·z), ∂/∂b = mean(σ(s) − c), means over ``batch``."""
        z, c = self.z[batch], self.c[batch]
        flat_w, flat_b, shape = self._chunks(w, b)
        gw, gb = np.empty(flat_w.shape), np.empty(flat_w.shape)
        for low in range(0, len(flat_w), CHUNK_ROWS):
            part = slice(low, low + CHUNK_ROWS)
            s = flat_w[part, None] * z + flat_b[part, None]
            residual = 1 / (1 + np.exp(-s)) - c
            gw[part] = np.mean(residual * z, axis=-1)
            gb[part] = np.mean(residual, axis=-1)
        return gw.reshape(shape), gb.reshape(shape)


def _build() -> Landscape:
    lengths, waits = faithful()
    long = (lengths > LONG_ERUPTION).astype(np.float64)
    long.flags.writeable = False
    return loss_landscape(
        "faithful_logistic",
        "Old Faithful: logistic regression (data)",
        "f(x, y) = mean of log(1 + eˢ) − c·s, s = x·z + y, over the 272 eruptions: c = 1 "
        "for one longer than 4 min, z the wait before it (standardized)",
        r"f(x, y) = \frac{1}{272}\sum_{i=1}^{272} \log(1 + e^{s_i}) - c_i s_i,"
        r"\quad s_i = x\,z_i + y",
        _Logistic(standardized(waits), long),
        ((-2.0, 6.0), (-4.0, 4.0)),
        (-1.5, 2.5),
        "A classifier's loss over real data: stretched along the weight, and each "
        "mini-batch pulls its own way.",
    )


LANDSCAPE = _build()
