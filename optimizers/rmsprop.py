"""RMSprop — ``torch.optim.RMSprop`` (centered=False)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    Value,
    add_weight_decay,
    eps_param,
    lr_param,
)


@dataclass(slots=True)
class RMSpropState:
    """``square_avg`` is h, the moving average of g²; ``buf`` the momentum buffer."""

    square_avg: np.ndarray
    buf: np.ndarray
    decayed: np.ndarray
    avg: np.ndarray
    step: np.ndarray


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with a forgetting average, so steps do not shrink forever.

    Lecture notes::

        h ← αh + (1 − α) g ⊙ g
        θ ← θ − η g / (√h + ε)

    PyTorch (``RMSprop``, centered=False) is the same; with momentum μ > 0 it keeps a
    buffer of the scaled steps::

        b ← μb + g / (√h + ε)
        θ ← θ − ηb

    With weight decay λ, g ← g + λθ first. h starts at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-2, range [1e-5, 10] (log slider).
        alpha (float): α, the smoothing constant. Default 0.99, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        momentum (float): μ. Default 0, range [0, 0.9999].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "rmsprop"
    title = "RMSprop"
    hyperparams = (
        lr_param(1e-2),
        HyperParam(
            "alpha", 0.99, 0.0, 0.9999, False, "Smoothing α of the squared-gradient average."
        ),
        eps_param(1e-8),
        HyperParam("momentum", 0.0, 0.0, 0.9999, False, "Momentum μ on the scaled steps."),
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> RMSpropState:
        return RMSpropState(
            square_avg=np.zeros_like(theta),
            buf=np.zeros_like(theta),
            decayed=np.zeros_like(theta),
            avg=np.zeros_like(theta),
            step=np.zeros_like(theta),
        )

    def update(
        self,
        grad: np.ndarray,
        state: RMSpropState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray,
    ) -> tuple[np.ndarray, RMSpropState]:
        alpha, mu = self.hyper["alpha"], self.hyper["momentum"]
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], state.decayed)
        state.square_avg *= alpha  # torch: square_avg.mul_(alpha).addcmul_(g, g, value=1-alpha)
        np.multiply(g, 1 - alpha, out=state.step)
        state.step *= g
        state.square_avg += state.step
        np.sqrt(state.square_avg, out=state.avg)
        state.avg += self.hyper["eps"]
        if isinstance(mu, np.ndarray) or mu > 0.0:
            np.divide(g, state.avg, out=state.step)
            state.buf *= mu  # torch: buf.mul_(momentum).addcdiv_(grad, avg)
            state.buf += state.step
            np.multiply(state.buf, -lr, out=state.step)  # torch: param.add_(buf, alpha=-lr)
            if isinstance(mu, np.ndarray):  # rows with μ = 0 step as a scalar μ = 0 run does
                np.copyto(state.step, -lr * g / state.avg, where=mu == 0.0)
        else:
            np.multiply(g, -lr, out=state.step)  # torch: param.addcdiv_(grad, avg, value=-lr)
            state.step /= state.avg
        np.add(theta, state.step, out=out)
        return out, state
