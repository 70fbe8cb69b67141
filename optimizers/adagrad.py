"""AdaGrad — ``torch.optim.Adagrad``."""

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
    addcdiv,
    addcmul_,
    eps_param,
    fma,
    lr_param,
    sqrt_plus,
)


@dataclass(slots=True)
class AdagradState:
    """torch's buffers: ``sum`` is h, the running sum of g ⊙ g; ``step`` the updates taken."""

    step: int
    sum: np.ndarray


class Adagrad(Optimizer):
    r"""AdaGrad: each coordinate's step shrinks with the gradients it has already seen.

    Lecture notes::

        h ← h + g ⊙ g
        θ ← θ − η g / (√h + ε)

    PyTorch (``Adagrad``) is the same, starting from h₀ = initial_accumulator_value and
    with an optional decay of the learning rate at update t = 1, 2, …::

        η_t = η / (1 + (t − 1)·lr_decay)
        h ← h + g ⊙ g
        θ ← θ − η_t g / (√h + ε)

    With weight decay λ, g ← g + λθ first.

    Hyperparameters:
        lr (float): learning rate η. Default 1e-2, range [1e-5, 10] (log slider).
        lr_decay (float): learning-rate decay per update. Default 0, range [0, 1].
        eps (float): ε. Default 1e-10, range [1e-12, 1] (log slider).
        initial_accumulator_value (float): h₀. Default 0, range [0, 10].
        weight_decay (float): L2 penalty λ. Default 0, range [0, 1].
    """

    name = "adagrad"
    title = "AdaGrad"
    group = "adaptive"
    hyperparams = (
        lr_param(1e-2),
        HyperParam(
            "lr_decay", 0.0, 0.0, 1.0, False, "η_t = η / (1 + (t − 1)·lr_decay) at update t."
        ),
        eps_param(1e-10),
        HyperParam(
            "initial_accumulator_value",
            0.0,
            0.0,
            10.0,
            False,
            "Starting value h₀ of the sum of squared gradients.",
        ),
        WEIGHT_DECAY,
    )

    def init(self, theta: np.ndarray) -> AdagradState:
        h0 = self.hyper["initial_accumulator_value"]
        return AdagradState(step=0, sum=np.zeros_like(theta) + h0)

    def update(
        self,
        grad: np.ndarray,
        state: AdagradState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: Scratch | None = None,
    ) -> tuple[np.ndarray, AdagradState]:
        s = scratch or Scratch.like(theta)
        g = add_weight_decay(grad, theta, self.hyper["weight_decay"], s.grad)  # g ← g + λθ
        state.step += 1
        clr = lr / (1 + (state.step - 1) * self.hyper["lr_decay"])  # η_t
        addcmul_(state.sum, g, g, 1, s.term)  # h ← h + g ⊙ g    torch: state_sum.addcmul_(g, g)
        std = sqrt_plus(state.sum, self.hyper["eps"], s.denom)  # √h + ε
        # θ ← θ − η_t g / (√h + ε)     torch: param.addcdiv_(grad, std, value=-clr)
        return addcdiv(theta, g, std, -clr, out), state

    def buffers(self) -> tuple[str, ...]:
        return ("sum",)

    def scalar(self, state: AdagradState) -> tuple[ScalarUpdate, Callable[[], None]]:
        lr_decay, eps, decay = self.number("lr_decay"), self.number("eps"), self.scalar_decay()
        t = state.step
        hx, hy = state.sum[0].tolist()

        def step(gx: float, gy: float, x: float, y: float, lr: float) -> tuple[float, float]:
            nonlocal t, hx, hy
            if decay is not None:
                gx, gy = fma(x, decay, gx), fma(y, decay, gy)
            t += 1
            rate = -(lr / (1 + (t - 1) * lr_decay))  # −η_t
            hx, hy = hx + gx * gx, hy + gy * gy
            return x + gx * rate / (math.sqrt(hx) + eps), y + gy * rate / (math.sqrt(hy) + eps)

        def save() -> None:
            state.step = t
            state.sum[0] = hx, hy

        return step, save
