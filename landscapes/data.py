"""Losses over a real dataset, for the lesson on mini-batch SGD.

The course notes teach SGD on data: the gradient of the loss over a random mini-batch
of samples is a noisy but unbiased estimate of the full gradient. Two landscapes are
such losses over Old Faithful's 272 eruptions (``data/faithful.csv``; source
and license in ``data/README.md``), with the model's two parameters as the plane's
coordinates, so the contours are the full-batch loss and each path's wiggle is the
data's own noise:

- ``faithful_linear`` (its own file): least squares, waiting time ≈ w · eruption length + b, both
  standardized (mean 0, standard deviation 1, as ``numpy.std`` computes it); the loss
  is ``torch.nn.MSELoss``'s mean of squared residuals.
- ``faithful_logistic`` (its own file): logistic regression, P(eruption longer than 4 minutes) =
  σ(w · waiting time + b), the waiting time standardized; the loss is
  ``torch.nn.BCEWithLogitsLoss``'s mean (computed as log(1 + eˢ) − c·s, stable).

Each landscape also has ``batch_grad_fn(w, b, batch)``: the gradient of the same loss
over the samples ``batch`` (sorted indices). ``grad_fn`` *is* ``batch_grad_fn`` over
all N samples, so a batch of size N gives full-batch gradient descent bit for bit.
``Batches`` draws the batches as ``torch.utils.data.DataLoader(shuffle=True)`` does: a
fresh random order of the N samples per epoch, cut into batches of ``size`` (the last
one smaller when ``size`` does not divide N).

The linear loss is a quadratic, so its batch gradient needs only five batch means
(of u², u, uv, v and v²): O(B) once per update, then O(1) per row, which keeps a basin
map of 65,536 starts as cheap as on the analytic landscapes. The logistic loss has no
such shortcut: O(B) per row.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Protocol

import numpy as np

from ._base import Array, Landscape, Minimum

DATA = Path(__file__).parent / "data" / "faithful.csv"


class Model(Protocol):
    """A loss over samples: value, full gradient, batch gradient, the sample indices."""

    everything: np.ndarray

    def value(self, w: Array, b: Array) -> Array: ...
    def grad(self, w: Array, b: Array) -> tuple[Array, Array]: ...
    def batch_grad(self, w: Array, b: Array, batch: np.ndarray) -> tuple[Array, Array]: ...


@functools.cache
def faithful() -> tuple[np.ndarray, np.ndarray]:
    """Old Faithful's eruption lengths (minutes) and the waiting times before them
    (minutes), 272 each, read-only."""
    table = np.loadtxt(DATA, delimiter=",", skiprows=1, dtype=np.float64)
    lengths, waits = np.ascontiguousarray(table[:, 0]), np.ascontiguousarray(table[:, 1])
    for column in (lengths, waits):
        column.flags.writeable = False
    return lengths, waits


def standardized(values: np.ndarray) -> np.ndarray:
    """``(values − mean) / std`` (population std, as ``StandardScaler``), read-only."""
    out = (values - values.mean()) / values.std()
    out.flags.writeable = False
    return out


class Batches:
    """The sample indices of each update's mini-batch, as ``DataLoader(shuffle=True,
    batch_size=size)`` yields them, seeded by ``numpy.random.default_rng(seed)``.

    Epoch e is the e-th ``rng.permutation(N)``, cut in order into ``ceil(N / size)``
    batches; update t takes batch ``t mod per_epoch`` of epoch ``t // per_epoch``. Each
    batch comes back sorted (the mean over a set does not depend on its order; sorting
    makes the full batch the same array as the full data).
    """

    def __init__(self, samples: int, size: int, seed: int) -> None:
        if not 1 <= size <= samples:
            raise ValueError(f"batch size must be in [1, {samples}], got {size}")
        self.samples, self.size = samples, size
        self.per_epoch = math.ceil(samples / size)
        self._rng = np.random.default_rng(seed)
        self._epoch = -1
        self._batches: list[np.ndarray] = []

    @property
    def full(self) -> bool:
        """Whether every batch is all the data (full-batch gradient descent)."""
        return self.size == self.samples

    def __getitem__(self, update: int) -> np.ndarray:
        """The sorted indices of update ``update``'s batch (updates are asked in order,
        or again within the current epoch)."""
        epoch, which = divmod(update, self.per_epoch)
        if epoch < self._epoch:
            raise ValueError("batches are drawn in order: an earlier epoch is gone")
        while self._epoch < epoch:
            order = self._rng.permutation(self.samples)
            self._batches = [
                np.sort(order[low : low + self.size]) for low in range(0, self.samples, self.size)
            ]
            self._epoch += 1
        return self._batches[which]


def _newton(model: Model, start: tuple[float, float]) -> tuple[float, float]:
    """The full-batch minimum, by Newton's method on the analytic gradient (Hessian by
    central differences, as ``Landscape.hessian``): both losses are convex."""
    point = np.array(start, dtype=np.float64)
    for _ in range(100):
        gw, gb = model.grad(point[:1], point[1:])
        g = np.array([gw[0], gb[0]])
        h = 1e-5
        columns = []
        for axis in range(2):
            step = np.zeros(2)
            step[axis] = h
            plus, minus = point + step, point - step
            gp, gm = model.grad(plus[:1], plus[1:]), model.grad(minus[:1], minus[1:])
            columns.append((np.array([gp[0][0], gp[1][0]]) - [gm[0][0], gm[1][0]]) / (2 * h))
        move = np.linalg.solve(np.stack(columns, axis=1), g)
        point = point - move
        if np.abs(move).max() < 1e-15:
            break
    return float(point[0]), float(point[1])


def loss_landscape(
    name: str,
    title: str,
    formula: str,
    latex: str,
    model: Model,
    bounds: tuple[tuple[float, float], tuple[float, float]],
    start: tuple[float, float],
    about: str,
) -> Landscape:
    x, y = _newton(model, (0.0, 0.0))
    value = float(model.value(np.array([x]), np.array([y]))[0])
    return Landscape(
        name=name,
        title=title,
        formula=formula,
        latex=latex,
        bounds=bounds,
        default_start=start,
        minima=(Minimum(x, y, value, "global"),),
        fn=model.value,
        grad_fn=model.grad,
        about=about,
        samples=len(model.everything),
        batch_grad_fn=model.batch_grad,
    )
