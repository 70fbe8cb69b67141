"""Simulated annealing — a random walk that accepts uphill moves less and less often."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import GradientFree, HyperParam, Value, sigma_param


@dataclass(slots=True)
class AnnealingState:
    """``step`` is t, the updates taken; ``loss`` f at the chain's point θ (its energy);
    ``proposal`` the last point proposed and ``accepted`` whether the chain moved there.
    ``value`` is the f it samples and ``rng`` its generator (``GradientFree`` says why
    they live here)."""

    step: int
    loss: np.ndarray
    proposal: np.ndarray
    accepted: np.ndarray
    value: Callable[[np.ndarray], np.ndarray]
    rng: np.random.Generator


class SimulatedAnnealing(GradientFree):
    r"""Simulated annealing (Kirkpatrick, Gelatt & Vecchi, Science 1983) with Gaussian
    proposals and the Metropolis rule; it reads f's values only, never ∇f.

    Lecture notes, at update t = 0, 1, …::

        θ' = θ + σ z,               z ~ N(0, I)              (a proposal)
        ΔE = f(θ') − f(θ)
        T_t = T₀ γᵗ                                         (geometric cooling)
        accept θ' if ΔE ≤ 0, or else with probability exp(−ΔE / T_t)
        θ ← θ' if accepted, else θ stays

    Hot (T large) it wanders across barriers; cold it only goes downhill, a random
    descent. σ is the ``lr`` slot (a schedule multiplies it). Per update and row it
    draws z (2 normals) then one uniform u, accepting when ``u < exp(−ΔE / T)``; a
    proposal where f is not finite is rejected. Each update evaluates f once per row.

    Hyperparameters:
        lr (float): proposal step σ. Default 0.1, range [1e-4, 10] (log slider).
        temperature (float): T₀, the starting temperature, in f's units. Default 1,
            range [1e-6, 1e6] (log slider).
        cooling (float): γ, the temperature's factor per update (1: never cools).
            Default 0.99, range [0.5, 1].
    """

    name = "annealing"
    title = "Simulated annealing"
    group = "gradient-free"
    STREAM = 1
    hyperparams = (
        sigma_param("Proposal step σ: each proposal is θ + σz, z ~ N(0, I)"),
        HyperParam(
            "temperature",
            1.0,
            1e-6,
            1e6,
            True,
            "T₀: how far uphill (in f's units) a move is still often accepted at first.",
        ),
        HyperParam(
            "cooling",
            0.99,
            0.5,
            1.0,
            False,
            "γ: the temperature is T₀γᵗ at update t (1: it never cools).",
        ),
    )

    def init(  # type: ignore[override]  # GradientFree's init, which also takes f
        self, theta: np.ndarray, value: Callable[[np.ndarray], np.ndarray], seed: int
    ) -> AnnealingState:
        rows = len(theta)
        return AnnealingState(
            step=0,
            loss=value(theta),
            proposal=theta.copy(),
            accepted=np.ones(rows, dtype=bool),
            value=value,
            rng=self.rng(seed),
        )

    def temperature(self, step: int) -> Value:
        """T at update ``step`` (0-based): T₀ γᵗ, per row where given per row."""
        return self.params["temperature"] * np.power(self.params["cooling"], step)

    def update(
        self,
        grad: np.ndarray,
        state: AnnealingState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: object = None,
    ) -> tuple[np.ndarray, AnnealingState]:
        rows = len(theta)
        z = state.rng.standard_normal((rows, 2))
        u = state.rng.random(rows)
        proposal = theta + lr * z
        loss = state.value(proposal)
        with np.errstate(all="ignore"):  # ΔE/T overflows to inf for a cold chain: exp → 0
            rise = loss - state.loss
            accepted = (rise <= 0) | (u < np.exp(-rise / self.temperature(state.step)))
        # NaN compares False: a proposal where f is not finite is never taken
        accepted &= np.isfinite(loss)
        new = np.where(accepted[:, None], proposal, theta)
        if out is not None:
            out[...] = new
            new = out
        state.loss = np.where(accepted, loss, state.loss)
        state.proposal, state.accepted = proposal, accepted
        state.step += 1
        return new, state

    def samples(self, state: AnnealingState) -> np.ndarray:
        return state.proposal[:, None, :]

    def sample_count(self) -> int:
        return 1

    def evaluations(self, updates: int) -> int:
        """f at the start, then once per proposal."""
        return 1 + updates
