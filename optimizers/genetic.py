"""The genetic algorithm — a population that breeds its better members."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizers.base import GradientFree, HyperParam, Value, sigma_param

#: Entrants per tournament: each parent is the better of this many random members.
TOURNAMENT = 2


@dataclass(slots=True)
class GeneticState:
    """``step`` is t, the generations bred; ``population`` (K, P, 2) and ``fitness``
    (K, P), f at each member (+inf where f is not finite); member 0 is the elite.
    ``value`` and ``rng`` as ``GradientFree`` says."""

    step: int
    population: np.ndarray
    fitness: np.ndarray
    value: Callable[[np.ndarray], np.ndarray]
    rng: np.random.Generator


class Genetic(GradientFree):
    r"""A real-coded genetic algorithm (Holland 1975; the blend crossover and Gaussian
    mutation of evolution strategies); it reads f's values only, never ∇f.

    Lecture notes, per generation t = 0, 1, … of P members x₁ … x_P::

        elite = argmin f(xᵢ)                            (kept as it is)
        for each of the other P − 1 children:
            a, b = two parents, each the better of 2 random members   (tournaments)
            child = a + α ⊙ (b − a),        α ~ U(0, 1)²   (blend crossover)
            child ← child + σ z,            z ~ N(0, I)    (mutation)
        population = elite + children;  θ = the best member

    The first population is the start plus P − 1 members at start + s·z (``spread``
    s), so every method in a race starts from the same point. The path drawn is the
    best member of each generation: with the elite kept, its loss never rises. σ is the
    ``lr`` slot (a schedule multiplies it). Each generation evaluates f at P − 1 points
    per row (P at the start); draws per generation: the tournaments' members (integers,
    (K, P − 1, 2, 2)), α (uniform, (K, P − 1, 2)), z (normal, (K, P − 1, 2)).

    Hyperparameters:
        lr (float): mutation step σ. Default 0.1, range [1e-4, 10] (log slider).
        population (int): P, the members per generation. Default 20, range [4, 100];
            one value for all rows.
        spread (float): s, the first population's spread around the start. Default 1,
            range [0, 10].
    """

    name = "genetic"
    title = "Genetic algorithm"
    group = "gradient-free"
    STREAM = 2
    hyperparams = (
        sigma_param("Mutation step σ: each child moves by σz, z ~ N(0, I)"),
        HyperParam(
            "population",
            20.0,
            4.0,
            100.0,
            False,
            "P: members per generation (each generation evaluates f P − 1 times).",
            integer=True,
            per_row=False,  # the population is one (K, P, 2) array
        ),
        HyperParam(
            "spread",
            1.0,
            0.0,
            10.0,
            False,
            "s: how far around the start the first population is scattered.",
        ),
    )

    def sample_count(self) -> int:
        return int(self.params["population"])

    def evaluations(self, updates: int) -> int:
        """f at the P first members, then at the P − 1 children of each generation."""
        size = self.sample_count()
        return size + updates * (size - 1)

    def init(  # type: ignore[override]  # GradientFree's init, which also takes f
        self, theta: np.ndarray, value: Callable[[np.ndarray], np.ndarray], seed: int
    ) -> GeneticState:
        rng = self.rng(seed)
        rows, size = len(theta), self.sample_count()
        spread = np.reshape(self.params["spread"], (-1, 1, 1))
        population = np.repeat(theta[:, None, :], size, axis=1)
        population[:, 1:] += spread * rng.standard_normal((rows, size - 1, 2))
        return GeneticState(0, population, _fitness(value(population)), value, rng)

    def update(
        self,
        grad: np.ndarray,
        state: GeneticState,
        theta: np.ndarray,
        lr: Value,
        out: np.ndarray | None = None,
        scratch: object = None,
    ) -> tuple[np.ndarray, GeneticState]:
        population, fitness, rng = state.population, state.fitness, state.rng
        rows, size = fitness.shape
        row = np.arange(rows)[:, None]
        best = np.argmin(fitness, axis=1)  # the first of equals
        # tournaments: (K, children, parent a/b, entrant), each parent the fitter entrant
        entrants = rng.integers(0, size, (rows, size - 1, 2, TOURNAMENT))
        scores = fitness[row[..., None, None], entrants]
        parents = np.take_along_axis(entrants, np.argmin(scores, axis=-1)[..., None], -1)
        a = population[row, parents[..., 0, 0]]
        b = population[row, parents[..., 1, 0]]
        alpha = rng.random((rows, size - 1, 2))
        children = a + alpha * (b - a)
        children += np.reshape(lr, (-1, 1, 1)) * rng.standard_normal((rows, size - 1, 2))
        elite = population[np.arange(rows), best]
        state.population = np.concatenate([elite[:, None], children], axis=1)
        state.fitness = np.concatenate(
            [fitness[np.arange(rows), best][:, None], _fitness(state.value(children))], axis=1
        )
        state.step += 1
        new = state.population[np.arange(rows), np.argmin(state.fitness, axis=1)]
        if out is not None:
            out[...] = new
            new = out
        return new, state

    def samples(self, state: GeneticState) -> np.ndarray:
        return state.population


def _fitness(losses: np.ndarray) -> np.ndarray:
    """Losses as fitness to minimize: a member where f is not finite is never chosen."""
    return np.where(np.isfinite(losses), losses, np.inf)
