"""Plain (stochastic) gradient descent — ``torch.optim.SGD(lr, weight_decay)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    WEIGHT_DECAY,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    fma,
    lr_param,
)


@dataclass(slots=True)
class SGDState:
    """Nothing: plain SGD remembers no past (torch keeps no state for it either)."""


class SGD(Optimizer):
    r"""Gradient descent: step against the gradient.

    Lecture notes::

        θ ← θ − η ∇f(θ)

    PyTorch (``SGD(lr, momentum=0)``) writes exactly this; with weight decay λ the
    gradient first becomes ``g ← g + λθ``. With ``noise=σ`` the runner adds σ·N(0, I) to
    every gradient, which is what makes it *stochastic* gradient descent.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "sgd"
    title = "SGD"
    group = "classic"
    hyperparams = (lr_param(1e-3), WEIGHT_DECAY)

    def init(self, theta: np.ndarray) -> SGDState:
        return SGDState()

    def update(
        self,
        grad: np.ndarray,
        state: SGDState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, SGDState]:
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        # θ ← θ − ηg          torch: param.add_(grad, alpha=-lr)
        step = np.multiply(g, -lr, out=s.term)
        return np.add(theta, step, out=out), state

    def scalar(self, state: SGDState) -> tuple[ScalarUpdate, Callable[[], None]]:
        decay = self.scalar_decay()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            return x + gx * -lr, y + gy * -lr

        return step, lambda: None
