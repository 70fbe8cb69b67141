"""NAdam — ``torch.optim.NAdam``: Adam with Nesterov momentum."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.adam import BETA1, BETA2, scalar_moments, update_moments
from optimizers.adamw import decay_theta, scalar_shrink
from optimizers.base import (
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    ScalarUpdate,
    Scratch,
    Value,
    add_weight_decay,
    addcdiv,
    eps_param,
    float_pow,
    fma,
    lr_param,
)

#: torch's bool options as 0/1 switches (the page's integer slider; 1 = True).
DECOUPLED = HyperParam(
    "decoupled_weight_decay",
    0.0,
    0.0,
    1.0,
    False,
    "1: weight decay shrinks θ directly (as AdamW); 0: λθ is added to g (L2).",
    integer=True,
)


@dataclass(slots=True)
class NAdamState:
    """torch's buffers: ``step`` t; ``exp_avg`` m; ``exp_avg_sq`` v; ``mu_product`` the
    product μ₁μ₂…μₜ of the momentum coefficients so far (one number per row, a (K, 1)
    column; torch keeps a 0-d tensor per parameter)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    mu_product: np.ndarray


def pow_of(base: float, exponent: Value) -> Value:
    """``base ** exponent`` through Python's float pow, element by element for a (K, 1)
    exponent (torch computes μₜ on Python floats; see ``base.float_pow``)."""
    if isinstance(exponent, np.ndarray):
        values = [base**e for e in exponent.ravel().tolist()]
        return np.array(values).reshape(exponent.shape)
    return base**exponent


def weight_decays(
    opt: Optimizer, grad: np.ndarray, theta: np.ndarray, lr: Value, scratch: Scratch
) -> tuple[np.ndarray, np.ndarray]:
    """(g, θ) after ``weight_decay`` λ as the 0/1 switch ``decoupled_weight_decay`` says:
    g + λθ (coupled, L2), or θ(1 − ηλ) (decoupled, as AdamW); a per-row switch picks per
    row. NAdam's and RAdam's (torch: ``grad.add(param, alpha=weight_decay)`` or
    ``param.mul_(1 - lr * weight_decay)``). The new θ is a new array when it changes."""
    weight_decay, decoupled = opt.hyper["weight_decay"], opt.hyper["decoupled_weight_decay"]
    if not isinstance(decoupled, np.ndarray):
        if decoupled:
            return grad, decay_theta(theta, lr, weight_decay, np.empty_like(theta))
        return add_weight_decay(grad, theta, weight_decay, scratch.grad), theta
    coupled = add_weight_decay(grad, theta, weight_decay, scratch.grad)
    shrunk = decay_theta(theta, lr, weight_decay, np.empty_like(theta))
    on = decoupled != 0.0
    return np.where(on, grad, coupled), np.where(on, shrunk, theta)


def seen_gradient(opt: Optimizer, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``weight_decays``' g (a new array)."""
    weight_decay, decoupled = opt.hyper["weight_decay"], opt.hyper["decoupled_weight_decay"]
    coupled = add_weight_decay(grad, theta, weight_decay, np.empty_like(grad))
    return np.where(decoupled != 0.0, grad, coupled)


def scalar_decays(opt: Optimizer) -> tuple[float | None, float | None]:
    """(coupled λ, decoupled λ) of a one-row optimizer for ``scalar``: one is None."""
    if opt.number("decoupled_weight_decay"):
        return None, scalar_shrink(opt)
    return Optimizer.scalar_decay(opt), None


class NAdam(Optimizer):
    r"""NAdam: Adam whose momentum looks ahead, as Nesterov's does for SGD.

    Lecture notes (Dozat 2016), at update t = 1, 2, …::

        μₜ = β₁(1 − 0.5 · 0.96^(tψ))
        m ← β₁m + (1 − β₁) g
        v ← β₂v + (1 − β₂) g ⊙ g
        v̂ = v / (1 − β₂ᵗ)
        θ ← θ − η ((1 − μₜ) g / (1 − μ₁⋯μₜ) + μₜ₊₁ m / (1 − μ₁⋯μₜ₊₁)) / (√v̂ + ε)

    The momentum coefficient μₜ warms up to β₁ (ψ = momentum_decay). The bracket mixes
    the fresh gradient with the look-ahead momentum μₜ₊₁m, each bias-corrected by the
    product of the μ's. PyTorch (``NAdam``) keeps that product in
    ``mu_product`` and takes the two terms as two steps::

        μ₁⋯μₜ ← μ₁⋯μₜ₋₁ · μₜ                  torch: mu_product *= mu
        denom = √(v / (1 − β₂ᵗ)) + ε
        θ ← θ − η(1 − μₜ) / (1 − μ₁⋯μₜ) · g / denom
        θ ← θ − ημₜ₊₁ / (1 − μ₁⋯μₜ₊₁) · m / denom

    m as ``m.lerp_(g, 1 − β₁)`` (see ``adam``). With weight decay λ: g ← g + λθ first,
    or with ``decoupled_weight_decay`` = 1, θ ← θ(1 − ηλ) first (the NAdamW of
    torch). m and v start at 0, the product at 1.

    Hyperparameters:
        lr (float): learning rate η. Default 2e-3, range [1e-5, 10] (log slider).
        beta1 (float): β₁. Default 0.9, range [0, 0.9999].
        beta2 (float): β₂. Default 0.999, range [0, 0.9999].
        eps (float): ε. Default 1e-8, range [1e-12, 1] (log slider).
        weight_decay (float): λ. Default 0, range [0, 1].
        momentum_decay (float): ψ, how fast μₜ warms up to β₁. Default 4e-3,
            range [0, 1].
        decoupled_weight_decay (0 or 1): torch's bool. Default 0 (False).
    """

    name = "nadam"
    title = "NAdam"
    group = "adaptive"
    hyperparams = (
        lr_param(2e-3),
        BETA1,
        BETA2,
        eps_param(1e-8),
        WEIGHT_DECAY,
        HyperParam(
            "momentum_decay",
            4e-3,
            0.0,
            1.0,
            False,
            "ψ: μₜ = β₁(1 − ½·0.96^(tψ)) warms the momentum up to β₁.",
        ),
        DECOUPLED,
    )

    def init(self, theta: np.ndarray) -> NAdamState:
        return NAdamState(
            step=0,
            exp_avg=np.zeros_like(theta),
            exp_avg_sq=np.zeros_like(theta),
            mu_product=np.ones((len(theta), 1)),
        )

    def update(
        self,
        grad: np.ndarray,
        state: NAdamState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, NAdamState]:
        beta1, beta2 = self.hyper["beta1"], self.hyper["beta2"]
        psi = self.hyper["momentum_decay"]
        s = scratch or Scratch.like(theta)
        state.step += 1
        t = state.step
        bias_correction2 = 1 - float_pow(beta2, t)
        g, theta = weight_decays(self, grad, theta, lr, s)  # g ← g + λθ, or θ ← θ(1 − ηλ)
        # μₜ and μₜ₊₁                torch: beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu = beta1 * (1.0 - 0.5 * pow_of(0.96, t * psi))
        mu_next = beta1 * (1.0 - 0.5 * pow_of(0.96, (t + 1) * psi))
        state.mu_product *= mu  # μ₁⋯μₜ
        # m ← β₁m + (1 − β₁) g          torch: exp_avg.lerp_(grad, 1 - beta1)
        # v ← β₂v + (1 − β₂) g ⊙ g      torch: exp_avg_sq.mul_(beta2).addcmul_(...)
        update_moments(state.exp_avg, state.exp_avg_sq, g, beta1, beta2, s.term)
        # denom = √(v / (1 − β₂ᵗ)) + ε  torch: exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        denom = np.divide(state.exp_avg_sq, bias_correction2, out=s.denom)
        np.sqrt(denom, out=denom)
        denom += self.hyper["eps"]
        mu_product_next = state.mu_product * mu_next
        # θ ← θ − η(1 − μₜ)/(1 − μ₁⋯μₜ) · g / denom, then the momentum term:
        # torch: param.addcdiv_(grad, denom, value=-lr * (1 - mu) / (1 - mu_product)) and
        #        param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1 - mu_product_next))
        middle = addcdiv(theta, g, denom, -lr * (1.0 - mu) / (1.0 - state.mu_product), s.term)
        value = (-lr * mu_next) / (1.0 - mu_product_next)
        return addcdiv(middle, state.exp_avg, denom, value, out), state

    def buffers(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq", "mu_product")

    def seen_gradient(self, grad: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return seen_gradient(self, grad, theta)

    def scalar_decay(self) -> float | None:
        return scalar_decays(self)[0]

    def scalar(self, state: NAdamState) -> tuple[ScalarUpdate, Callable[[], None]]:
        beta1, beta2, eps = self.number("beta1"), self.number("beta2"), self.number("eps")
        psi = self.number("momentum_decay")
        (decay, shrink), axis = scalar_decays(self), scalar_moments(beta1, beta2)
        t = state.step
        mx, my = state.exp_avg[0].tolist()
        vx, vy = state.exp_avg_sq[0].tolist()
        product = float(state.mu_product[0, 0])

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, mx, my, vx, vy, product
            t += 1
            correction = 1 - beta2**t
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            if shrink is not None:
                factor = 1 - lr * shrink
                x, y = x * factor, y * factor
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            product *= mu
            mx, vx = axis(gx, mx, vx)
            my, vy = axis(gy, my, vy)
            dx, dy = math.sqrt(vx / correction) + eps, math.sqrt(vy / correction) + eps
            first = -lr * (1.0 - mu) / (1.0 - product)
            second = (-lr * mu_next) / (1.0 - product * mu_next)
            x, y = x + gx * first / dx, y + gy * first / dy
            return x + mx * second / dx, y + my * second / dy

        def save() -> None:
            state.step = t
            state.exp_avg[0] = mx, my
            state.exp_avg_sq[0] = vx, vy
            state.mu_product[0] = product

        return step, save
