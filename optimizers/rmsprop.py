"""RMSprop — ``torch.optim.RMSprop``, plain or centered."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.adam import _lerp, scalar_lerp
from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    addcdiv,
    average_square_,
    eps_param,
    fma,
    lr_param,
    sqrt_plus,
)


@dataclass(slots=True)
class RMSpropState:
    """torch's buffers: ``square_avg`` is h, the moving average of g ⊙ g; ``step`` the
    updates taken; ``momentum_buffer`` b only with momentum μ > 0 (None otherwise);
    ``grad_avg`` ḡ, the moving average of g, only when centered (None otherwise)."""

    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None
    grad_avg: np.ndarray | None = None


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with a forgetting average, so steps do not shrink forever.

    Lecture notes::

        h ← αh + (1 − α) g ⊙ g
        θ ← θ − η g / (√h + ε)

    PyTorch (``RMSprop``, centered=False) is the same; with momentum μ > 0 it keeps a
    buffer of the scaled steps::

        h ← αh + (1 − α) g ⊙ g
        b ← μb + g / (√h + ε)
        θ ← θ − ηb

    Centered (Graves 2013; ``centered=True``) divides by an estimate of the gradient's
    standard deviation instead of its root mean square: the mean ḡ is averaged too and
    its square taken off::

        ḡ ← αḡ + (1 − α) g
        θ ← θ − η g / (√(h − ḡ ⊙ ḡ) + ε)

    (torch: ``grad_avg.lerp_(grad, 1 - alpha)``, then ``square_avg.addcmul(grad_avg,
    grad_avg, value=-1).sqrt_()``; that subtraction cancels where g hardly varies, so it is
    fused here as torch's kernel fuses it, ``base.fma``). With weight decay λ, g ← g + λθ
    first. h and ḡ start at 0.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-2, range [1e-5, 10] (log slider).
        alpha (float): α, the smoothing constant. Default 0.99, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        momentum (float): μ. Default 0, range [0, 0.9999].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
        centered (0 or 1): torch's bool; 1 divides by the centered √(h − ḡ²). Default 0.
    """

    name = "rmsprop"
    title = "RMSprop"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-2),
        HyperParam(
            "alpha", 0.99, 0.0, 0.9999, False, "Smoothing α of the squared-gradient average."
        ),
        eps_param(1e-8),
        HyperParam("momentum", 0.0, 0.0, 0.9999, False, "Momentum μ on the scaled steps."),
        WEIGHT_DECAY,
        HyperParam(
            "centered",
            0.0,
            0.0,
            1.0,
            False,
            "1: divide by √(h − ḡ²), the gradient's spread, not its RMS √h (torch's bool).",
            integer=True,
        ),
    )

    def init(self, theta: np.ndarray) -> RMSpropState:
        mu = self.hyper["momentum"]
        with_buffer = isinstance(mu, np.ndarray) or mu > 0.0
        return RMSpropState(
            step=0,
            square_avg=np.zeros_like(theta),
            momentum_buffer=np.zeros_like(theta) if with_buffer else None,
            grad_avg=np.zeros_like(theta) if self._keeps_grad_avg() else None,
        )

    def _keeps_grad_avg(self) -> bool:
        return self.per_row("centered") or self.params["centered"] != 0.0

    def update(
        self,
        grad: np.ndarray,
        state: RMSpropState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, RMSpropState]:
        alpha, mu = self.hyper["alpha"], self.hyper["momentum"]
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        state.step += 1
        # h ← αh + (1 − α) g ⊙ g      torch: square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
        average_square_(state.square_avg, g, alpha, s.term)
        if state.grad_avg is None:
            avg = sqrt_plus(state.square_avg, self.hyper["eps"], s.denom)  # √h + ε
        else:
            avg = self._centered(g, state.square_avg, state.grad_avg, s)  # √(h − ḡ²) + ε
        buf = state.momentum_buffer
        if buf is None:
            # θ ← θ − η g / (√h + ε)   torch: param.addcdiv_(grad, avg, value=-lr)
            return addcdiv(theta, g, avg, -lr, out), state
        # b ← μb + g / (√h + ε)        torch: buf.mul_(momentum).addcdiv_(grad, avg)
        buf *= mu
        buf += np.divide(g, avg, out=s.term)
        # θ ← θ − ηb                   torch: param.add_(buf, alpha=-lr)
        step = np.multiply(buf, -lr, out=s.term)
        if isinstance(mu, np.ndarray):  # rows with μ = 0 step as a scalar μ = 0 run does
            np.copyto(step, -lr * g / avg, where=mu == 0.0)
        return np.add(theta, step, out=out), state

    def _centered(
        self, g: np.ndarray, square_avg: np.ndarray, grad_avg: np.ndarray, s: Scratch
    ) -> np.ndarray:
        """ḡ ← αḡ + (1 − α) g, then √(h − ḡ ⊙ ḡ) + ε into ``s.denom`` (√h + ε in rows
        with a per-row centered = 0, which keep ḡ as torch would not)."""
        # torch: grad_avg.lerp_(grad, 1 - alpha)
        _lerp(grad_avg, g, 1 - self.hyper["alpha"], s.term)
        # torch: avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(eps)
        centered = np.sqrt(fma(grad_avg, -grad_avg, square_avg))
        flag = self.hyper["centered"]
        if isinstance(flag, np.ndarray):
            centered = np.where(flag != 0.0, centered, np.sqrt(square_avg))
        np.add(centered, self.hyper["eps"], out=s.denom)
        return s.denom

    def buffers(self) -> tuple[str, ...]:
        keeps = self.per_row("momentum") or self.params["momentum"] > 0.0
        names = ("square_avg", "momentum_buffer") if keeps else ("square_avg",)
        return (*names, "grad_avg") if self._keeps_grad_avg() else names

    def absent_rows(self, name: str) -> np.ndarray | None:
        if name == "grad_avg" and self.per_row("centered"):
            return np.asarray(self.params["centered"]) == 0.0  # torch keeps no ḡ there
        return super().absent_rows(name)

    def scalar(self, state: RMSpropState) -> tuple[ScalarUpdate, Callable[[], None]]:
        alpha, mu, eps = self.number("alpha"), self.number("momentum"), self.number("eps")
        decay, share = self.scalar_decay(), 1 - alpha
        t = state.step
        hx, hy = state.square_avg[0].tolist()
        buffer = state.momentum_buffer
        bx, by = (0.0, 0.0) if buffer is None else buffer[0].tolist()
        sgd_rows = self.per_row("momentum") and mu == 0.0  # see update's np.copyto
        averages = state.grad_avg
        cx, cy = (0.0, 0.0) if averages is None else averages[0].tolist()
        centered = self.number("centered") != 0.0
        lerp = scalar_lerp(share)  # ḡ ← ḡ.lerp(g, 1 − α)

        def denominator(g: float, h: float, c: float) -> tuple[float, float]:
            """(ḡ, √(h − ḡ²) + ε) as ``_centered``; √h + ε when not centered."""
            if averages is not None:
                c = lerp(g, c)
            if centered:
                return c, math.sqrt(fma(c, -c, h)) + eps
            return c, math.sqrt(h) + eps

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, hx, hy, bx, by, cx, cy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            t += 1
            hx, hy = hx * alpha + gx * share * gx, hy * alpha + gy * share * gy
            cx, ax = denominator(gx, hx, cx)
            cy, ay = denominator(gy, hy, cy)
            if buffer is None:
                return x + gx * -lr / ax, y + gy * -lr / ay
            bx, by = bx * mu + gx / ax, by * mu + gy / ay
            if sgd_rows:
                return x + -lr * gx / ax, y + -lr * gy / ay
            return x + bx * -lr, y + by * -lr

        def save() -> None:
            state.step = t
            state.square_avg[0] = hx, hy
            if buffer is not None:
                buffer[0] = bx, by
            if averages is not None:
                averages[0] = cx, cy

        return step, save
