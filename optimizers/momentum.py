"""Heavy-ball momentum — ``torch.optim.SGD(lr, momentum, dampening)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    MOMENTUM,
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    Value,
    add_weight_decay,
    lr_param,
)


@dataclass(slots=True)
class MomentumState:
    """``buf`` is PyTorch's momentum buffer b; ``count`` the number of updates taken."""

    buf: np.ndarray
    count: int
    decayed: np.ndarray
    step: np.ndarray


class Momentum(Optimizer):
    r"""Momentum: a velocity that accumulates past gradients (a ball rolling downhill).

    Lecture notes::

        v ← μv − ηg
        θ ← θ + v

    PyTorch keeps a buffer b instead of the velocity and multiplies by η at the end::

        b ← g                      (first update)
        b ← μb + (1 − τ)g          (later updates; τ = dampening)
        θ ← θ − ηb

    With τ = 0 and a constant η the two agree (v = −ηb). Under a schedule they differ:
    PyTorch rescales the whole accumulated buffer by the *current* η. This is PyTorch's
    form. With weight decay λ, g ← g + λθ first; with μ = 0 it is plain SGD (no buffer).

    Hyperparameters:
        lr (float): learning rate η. Default 1e-3, range [1e-5, 10] (log slider).
        momentum (float): μ, how much velocity survives each step. Default 0.9,
            range [0, 0.9999].
        dampening (float): τ, scales the new gradient's share. Default 0, range [0, 1].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "momentum"
    title = "Momentum"
    hyperparams = (
        lr_param(1e-3),
        MOMENTUM,
        HyperParam("dampening", 0.0, 0.0, 1.0, False, "Dampening τ: new gradients count (1 − τ)."),
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> MomentumState:
        return MomentumState(
            buf=np.zeros_like(theta),
            count=0,
            decayed=np.zeros_like(theta),
            step=np.zeros_like(theta),
        )

    def update(
        self,
        grad: np.ndarray,
        state: MomentumState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray,
    ) -> tuple[np.ndarray, MomentumState]:
        mu = self.hyper["momentum"]
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], state.decayed)
        if state.count == 0:
            np.copyto(state.buf, g)  # torch: buf = grad.clone()
        else:
            state.buf *= mu  # torch: buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            np.multiply(g, 1 - self.hyper["dampening"], out=state.step)
            state.buf += state.step
        state.count += 1
        if isinstance(mu, np.ndarray):
            direction = np.where(mu == 0.0, g, state.buf)  # torch skips the buffer at μ = 0
        else:
            direction = state.buf if mu != 0.0 else g
        np.multiply(direction, -lr, out=state.step)
        np.add(theta, state.step, out=out)
        return out, state
