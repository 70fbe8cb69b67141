"""Adadelta — ``torch.optim.Adadelta``."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    average_square_,
    fma,
)


@dataclass(slots=True)
class AdadeltaState:
    """torch's buffers: ``step``; ``square_avg`` h, the moving average of g ⊙ g;
    ``acc_delta`` s, the moving average of the squared steps Δ ⊙ Δ."""

    step: int
    square_avg: np.ndarray
    acc_delta: np.ndarray


class Adadelta(Optimizer):
    r"""Adadelta: RMSprop whose step size is the RMS of its own past steps.

    Lecture notes (Zeiler 2012)::

        h ← ρh + (1 − ρ) g ⊙ g
        Δ = √(s + ε) / √(h + ε) ⊙ g
        s ← ρs + (1 − ρ) Δ ⊙ Δ
        θ ← θ − Δ

    The ratio has the units of θ, so Zeiler's method needs no learning rate; PyTorch
    (``Adadelta``) keeps one as a factor, θ ← θ − ηΔ, with η = 1 by default (Zeiler's
    method). Its order of operations::

        std = √(h + ε),  Δ = (√(s + ε) / std) · g
        θ ← θ − ηΔ                     torch: param.add_(delta, alpha=-lr)

    Early on s is 0 and Δ ≈ √ε / √h · g: the first steps are tiny (about √ε) whatever η
    is. With weight decay λ, g ← g + λθ first. h and s start at 0.

    Hyperparameters:
        lr (float): learning rate η, a factor on Δ. Default 1, range [1e-5, 10] (log slider).
        rho (float): ρ, decay of both averages. Default 0.9, range [0, 0.9999].
        eps (float): ε. Default 1e-6, range [1e-12, 1] (log slider).
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "adadelta"
    title = "Adadelta"
    group = "adaptive"
    hyperparams = (
        HyperParam("lr", 1.0, 1e-5, 10.0, True, "Learning rate η: a factor on the step Δ."),
        HyperParam("rho", 0.9, 0.0, 0.9999, False, "ρ: decay of the averages of g² and Δ²."),
        HyperParam(
            "eps", 1e-6, 1e-12, 1.0, True, "ε inside both square roots: sets the first steps."
        ),
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> AdadeltaState:
        return AdadeltaState(
            step=0, square_avg=np.zeros_like(theta), acc_delta=np.zeros_like(theta)
        )

    def update(
        self,
        grad: np.ndarray,
        state: AdadeltaState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AdadeltaState]:
        rho, eps = self.hyper["rho"], self.hyper["eps"]
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        state.step += 1
        # h ← ρh + (1 − ρ) g ⊙ g       torch: square_avg.mul_(rho).addcmul_(grad, grad, ...)
        average_square_(state.square_avg, g, rho, s.term)
        # Δ = √(s + ε) / √(h + ε) ⊙ g   torch: acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        std = np.add(state.square_avg, eps, out=s.denom)
        np.sqrt(std, out=std)
        delta = np.add(state.acc_delta, eps, out=np.empty_like(theta))
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        # s ← ρs + (1 − ρ) Δ ⊙ Δ        torch: acc_delta.mul_(rho).addcmul_(delta, delta, ...)
        average_square_(state.acc_delta, delta, rho, s.term)
        # θ ← θ − ηΔ                     torch: param.add_(delta, alpha=-lr)
        delta *= -lr
        return np.add(theta, delta, out=out), state

    def buffers(self) -> tuple[str, ...]:
        return ("square_avg", "acc_delta")

    def scalar(self, state: AdadeltaState) -> tuple[ScalarUpdate, Callable[[], None]]:
        rho, eps = self.number("rho"), self.number("eps")
        decay, share = self.scalar_decay(), 1 - rho
        t = state.step
        hx, hy = state.square_avg[0].tolist()
        sx, sy = state.acc_delta[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, hx, hy, sx, sy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            t += 1
            hx, hy = hx * rho + gx * share * gx, hy * rho + gy * share * gy
            dx = math.sqrt(sx + eps) / math.sqrt(hx + eps) * gx
            dy = math.sqrt(sy + eps) / math.sqrt(hy + eps) * gy
            sx, sy = sx * rho + dx * share * dx, sy * rho + dy * share * dy
            return x + dx * -lr, y + dy * -lr

        def save() -> None:
            state.step = t
            state.square_avg[0] = hx, hy
            state.acc_delta[0] = sx, sy

        return step, save
