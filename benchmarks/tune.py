"""Speed of the fair-race tuner (maps.tune.tune_race), against one run per trial.

    python benchmarks/tune.py [--repeats 3] [--no-max]

Case A — what the page's tune panel asks for: the 6 optimizers × grid, random, bayes ×
20 trials × 500 steps on rosenbrock from its default start, lr alone. A-noise: the same
with noise 0.5. Case B — 2-D: Momentum (lr, μ), NAG (lr, μ), RMSprop (lr, α), Adam
(lr, β₁), 20 trials each. Case MAX — the API's largest request: 12 runs × 3 methods × 64
trials × 2,000 steps, without and with noise (one repeat each).

Baseline — ``one-run``: the same searches (``maps.tune.tune``, the same seed) whose
objective runs ``optimizers.run`` once per trial, one row at a time: the obvious way.
Its trials are the very same numbers (checked). Ratios are tune_race time / baseline
time (below 1 = faster); each figure is the median of ``--repeats`` runs. ``gp`` is the
share of tune_race's time spent fitting and querying the Gaussian process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# the project first: run as a script, this folder (with benchmarks/maps.py) leads sys.path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import landscapes
import optimizers
from maps import gp
from maps.tune import GAP_FLOOR, METHODS, RaceRun, race_space, tune, tune_race
from optimizers.status import global_minimum_value

LANDSCAPE = "rosenbrock"
STEPS, BUDGET, SEED = 500, 20, 0


def runs_1d() -> list[RaceRun]:
    return [RaceRun(name) for name in optimizers.names()]


def runs_2d() -> list[RaceRun]:
    pairs = [("momentum", "momentum"), ("nag", "momentum"), ("rmsprop", "alpha"), ("adam", "beta1")]
    return [
        RaceRun(name, space=race_space(name, extra=(extra, 0.0, 0.99, None)))
        for name, extra in pairs
    ]


def race(runs: list[RaceRun], steps: int, budget: int, noise: float) -> Any:
    f = landscapes.get(LANDSCAPE)
    return tune_race(f, runs, None, steps, noise, SEED, None, budget)


def one_run_per_trial(runs: list[RaceRun], steps: int, budget: int, noise: float) -> Any:
    f = landscapes.get(LANDSCAPE)
    f_star = global_minimum_value(f)
    results = []
    for run in runs:
        space = run.resolved_space()

        def objective(values: np.ndarray, run: RaceRun = run, space: Any = space) -> np.ndarray:
            scores = []
            for row in values:
                params = {d.name: float(v) for d, v in zip(space, row, strict=True)}
                opt = optimizers.create(run.optimizer, **run.params, **params)
                traj = optimizers.run(f, opt, f.default_start, steps, noise, SEED)
                if traj.diverged_at[0] >= 0:
                    scores.append(np.inf)
                else:
                    gap = float(traj.losses[-1, 0]) - f_star
                    scores.append(float(np.log10(max(gap, GAP_FLOOR))))
            return np.array(scores)

        results.append({m: tune(objective, space, m, budget, SEED) for m in METHODS})
    return results


def median_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class GPTimer:
    """Time spent in GaussianProcess.fit and FittedGP.predict (patched for the run)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> GPTimer:
        self.fit, self.predict = gp.GaussianProcess.fit, gp.FittedGP.predict

        def timed(method: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any) -> Any:
                start = time.perf_counter()
                try:
                    return method(*args)
                finally:
                    self.seconds += time.perf_counter() - start

            return wrapper

        gp.GaussianProcess.fit = timed(self.fit)  # type: ignore[method-assign]
        gp.FittedGP.predict = timed(self.predict)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        gp.GaussianProcess.fit = self.fit  # type: ignore[method-assign]
        gp.FittedGP.predict = self.predict  # type: ignore[method-assign]


def case(name: str, runs: list[RaceRun], steps: int, budget: int, noise: float, repeats: int,
         baseline: bool = True) -> None:  # fmt: skip
    ours, result = median_seconds(lambda: race(runs, steps, budget, noise), repeats)
    with GPTimer() as timer:
        race(runs, steps, budget, noise)
    trials = len(runs) * len(METHODS) * budget
    line = (
        f"{name:<8} {len(runs):>2} runs × 3 × {budget:>2} trials × {steps:>4} steps "
        f"noise {noise:<3}: {ours * 1e3:8.0f} ms ({ours / trials * 1e3:.2f} ms/trial, "
        f"gp {timer.seconds / ours:.0%})"
    )
    if baseline:
        theirs, plain = median_seconds(
            lambda: one_run_per_trial(runs, steps, budget, noise), repeats
        )
        for run, searches in zip(result.runs, plain, strict=True):
            for method in METHODS:
                assert run.results[method].trials == searches[method].trials, (run, method)
        line += f"   one-run {theirs * 1e3:8.0f} ms   ratio {ours / theirs:.2f}"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-max", action="store_true", help="skip the API's largest case")
    args = parser.parse_args()
    case("A", runs_1d(), STEPS, BUDGET, 0.0, args.repeats)
    case("A-noise", runs_1d(), STEPS, BUDGET, 0.5, args.repeats)
    case("B", runs_2d(), STEPS, BUDGET, 0.0, args.repeats)
    if not args.no_max:
        twelve = runs_1d() + runs_2d() + runs_1d()[:2]
        case("MAX", twelve, 2000, 64, 0.0, 1, baseline=False)
        case("MAX-nz", twelve, 2000, 64, 0.5, 1, baseline=False)


if __name__ == "__main__":
    main()
