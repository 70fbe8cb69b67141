"""Record golden trajectories of Lion, LARS and LAMB from optax (run by hand; the suite
reads the npz and needs neither optax nor jax, which are no dependencies of Gradscape).

    python3 -m venv /tmp/optaxenv
    /tmp/optaxenv/bin/pip install jax jaxlib optax numpy
    /tmp/optaxenv/bin/python tests/optimizers/golden_optax/make_golden_optax.py

Recorded with optax 0.2.8, jax/jaxlib 0.10.2, float64 (``jax_enable_x64``), on an
x86-64 CPU with FMA. Each row of a case is one optax optimizer over one parameter, the
2-vector θ (one layer, for the trust ratios of LARS and LAMB), stepped the way optax's
documentation does: ``updates, state = opt.update(g, state, θ)`` then
``θ = optax.apply_updates(θ, updates)``, op by op (no ``jax.jit`` around the update, so
each operation of optax's source rounds once; jax's own library functions such as
``jnp.linalg.norm`` are compiled as jax ships them).

optax is fed the project's own NumPy landscape gradients (plus the same NumPy noise, one
(K, 2) draw per update from ``default_rng(seed)``). Its ``learning_rate`` is Gradscape's
rate of update t, the ``lr`` hyperparameter times the project's schedule factor (a
constant, or an optax schedule ``count -> lr·factor(count)`` under a schedule); that
factor is checked against an independent reading of SPEC "Schedules". Divergence is
marked per SPEC (first point with a non-finite coordinate or loss or |coordinate| > 1e6).

Writes ``cases.json`` and ``golden.npz``; per case:

- ``theta`` (steps + 1, K, 2): optax's parameters before each update and after the last;
- ``grads`` (steps, K, 2): the gradient optax was given at each update (noise included);
- ``lrs`` (steps, K): the learning rate optax used at each update, per row;
- ``state/NAME`` (steps + 1, K, 2): optax's buffers before each update and after the
  last, under optax's names (``mu`` of ``ScaleByLionState``; ``trace`` of LARS's
  ``TraceState``; ``mu``, ``nu`` of LAMB's ``ScaleByAdamState``);
- ``count`` (steps + 1,): the count optax's state held (Lion's and LAMB's; update t
  starts from count t);
- ``diverged_at`` (K,): the first bad point per SPEC, or -1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

jax.config.update("jax_enable_x64", True)

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import landscapes  # noqa: E402
import optimizers  # noqa: E402  (NumPy only: the schedule's factors)

HERE = Path(__file__).resolve().parent
LIMIT = 1e6

#: optax's state fields recorded per optimizer (and their state class).
BUFFERS = {
    "lion": ("ScaleByLionState", ("mu",)),
    "lars": ("TraceState", ("trace",)),
    "lamb": ("ScaleByAdamState", ("mu", "nu")),
}

S1 = [[-1.5, 2.0]]
S3 = [[-1.5, 2.0], [0.5, -0.5], [-0.2, 0.8]]
ORIGIN = [[-1.5, 2.0], [0.0, 0.0]]  # θ = 0: the trust ratio's ‖θ‖ = 0 branch


def case(cid, optimizer, params, landscape, starts, steps=200, noise=0.0, seed=0, schedule=None):
    return {
        "id": cid,
        "optimizer": optimizer,
        "params": params,
        "landscape": landscape,
        "starts": starts,
        "steps": steps,
        "noise": noise,
        "seed": seed,
        "schedule": schedule,
    }


CASES = [
    # lion
    case("lion_rosen", "lion", {"lr": 1e-3, "weight_decay": 1e-3}, "rosenbrock", S3),
    case("lion_himmel", "lion", {"lr": 0.01}, "himmelblau", S3),
    case(
        "lion_wd_noise",
        "lion",
        {"lr": 0.02, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.5},
        "rastrigin",
        S3,
        noise=1.0,
        seed=4,
    ),
    case(
        "lion_rows",
        "lion",
        {
            "lr": [1e-3, 0.01, 0.05],
            "beta1": [0.9, 0.0, 0.5],
            "beta2": [0.99, 0.9, 0.0],
            "weight_decay": [0.0, 0.1, 1e-3],
        },
        "beale",
        [[-1.0, 1.5]],  # not (1, 1), where ∂f/∂x = 0 exactly: its sign is 0 or ±1 by an ulp
    ),
    case(
        "lion_sched_cos",
        "lion",
        {"lr": 0.03},
        "ill_conditioned",
        [[-7, 2], [4, 1]],
        schedule={"kind": "cosine", "t_max": 80, "min_factor": 0.1, "warmup": 10},
    ),
    # lars
    case("lars_rosen", "lars", {"lr": 1.0}, "rosenbrock", S3),
    case(
        "lars_wd_origin",
        "lars",
        {"lr": 0.5, "trust_coefficient": 0.01, "weight_decay": 0.01, "momentum": 0.8},
        "rosenbrock",
        ORIGIN,
    ),
    case(
        "lars_eps_noise",
        "lars",
        {"lr": 2.0, "trust_coefficient": 0.005, "eps": 0.5},
        "himmelblau",
        S3,
        noise=0.5,
        seed=6,
    ),
    case(
        "lars_rows",
        "lars",
        {
            "lr": [0.5, 5.0],
            "momentum": [0.0, 0.95],
            "trust_coefficient": [0.01, 1e-3],
            "eps": [0.0, 1e-3],
            "weight_decay": [0.1, 0.0],
        },
        "six_hump_camel",
        [[1.5, 0.8]],
    ),
    case(
        "lars_sched_step",
        "lars",
        {"lr": 3.0, "trust_coefficient": 0.01},
        "booth",
        [[-8.0, 6.0], [3.0, -2.0]],
        schedule={"kind": "step", "step_size": 40, "gamma": 0.5},
    ),
    case(
        "lars_diverge",
        "lars",
        {"lr": 10.0, "trust_coefficient": 0.5, "momentum": 0.9},
        "rosenbrock",
        S3,
        steps=60,
    ),
    # lamb
    case("lamb_rosen", "lamb", {"lr": 0.01}, "rosenbrock", S3),
    case(
        "lamb_wd_origin",
        "lamb",
        {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1},
        "rosenbrock",
        ORIGIN,
    ),
    case("lamb_noise", "lamb", {"lr": 0.05}, "ackley", [[2.5, -1.5]], noise=0.3, seed=8),
    case(
        "lamb_rows",
        "lamb",
        {
            "lr": [0.005, 0.05],
            "beta1": [0.0, 0.95],
            "beta2": [0.5, 0.9999],
            "eps": [1e-8, 0.1],
            "weight_decay": [0.0, 0.3],
        },
        "goldstein_price",
        [[-1.0, 1.0]],
    ),
    case(
        "lamb_sched_exp",
        "lamb",
        {"lr": 0.05},
        "styblinski_tang",
        [[0.5, 0.5], [-4.0, 4.5]],
        schedule={"kind": "exponential", "gamma": 0.98, "warmup": 5},
    ),
]

DEFAULTS = {name: {p.name: p.default for p in optimizers.spec(name)} for name in BUFFERS}


def optax_optimizer(name, hp, learning_rate):
    """optax's optimizer for one row's hyperparameters (every other argument its default)."""
    hp = DEFAULTS[name] | hp
    if name == "lion":
        return optax.lion(
            learning_rate, b1=hp["beta1"], b2=hp["beta2"], weight_decay=hp["weight_decay"]
        )
    if name == "lars":
        return optax.lars(
            learning_rate,
            weight_decay=hp["weight_decay"],
            trust_coefficient=hp["trust_coefficient"],
            eps=hp["eps"],
            momentum=hp["momentum"],
        )
    if name == "lamb":
        return optax.lamb(
            learning_rate,
            b1=hp["beta1"],
            b2=hp["beta2"],
            eps=hp["eps"],
            weight_decay=hp["weight_decay"],
        )
    raise KeyError(name)


def find_state(state, cls):
    """The first sub-state of class ``cls`` in an optax chain's state (a nested tuple)."""
    if type(state).__name__ == cls:
        return state
    if isinstance(state, tuple):
        for part in state:
            found = find_state(part, cls)
            if found is not None:
                return found
    for field in ("inner_state",):  # optax.masked
        if hasattr(state, field):
            return find_state(getattr(state, field), cls)
    return None


def spec_factors(spec, steps):
    """factor(t) as SPEC "Schedules" words it, written independently of the package."""
    out = []
    kind, warmup = spec["kind"], spec.get("warmup", 0)
    for t in range(steps):
        if t < warmup:
            out.append((t + 1) / warmup)
            continue
        u = t - warmup
        if kind == "constant":
            out.append(1.0)
        elif kind == "step":
            out.append(spec.get("gamma", 0.5) ** (u // spec.get("step_size", 100)))
        elif kind == "exponential":
            out.append(spec.get("gamma", 0.99) ** u)
        elif kind == "inverse_time":
            out.append(1 / (1 + spec.get("decay", 0.01) * u))
        else:
            t_max = spec.get("t_max") or steps
            m = spec.get("min_factor", 0.0)
            out.append(m + (1 - m) * (1 + np.cos(np.pi * u / t_max)) / 2)
    return np.array(out)


def run_optax(c):
    f = landscapes.get(c["landscape"])
    starts = np.array(c["starts"], dtype=np.float64)
    hp, steps = c["params"], c["steps"]
    rows = max([len(v) for v in hp.values() if isinstance(v, list)] or [len(starts)])
    if len(starts) != rows:
        starts = np.repeat(starts, rows, axis=0)
    if c["schedule"] is None:
        factors = np.ones(steps)
    else:
        factors = optimizers.schedule(**c["schedule"]).factors(steps)
        expected = spec_factors(c["schedule"], steps)
        np.testing.assert_allclose(factors, expected, rtol=1e-12, atol=0, err_msg=c["id"])
    cls, names = BUFFERS[c["optimizer"]]

    params, optims, states, rates = [], [], [], []
    for k in range(rows):
        row_hp = {key: (v[k] if isinstance(v, list) else v) for key, v in hp.items()}
        lr = DEFAULTS[c["optimizer"]]["lr"] if "lr" not in row_hp else row_hp["lr"]
        row_rates = lr * factors  # Gradscape's η of each update: lr · factor(t)
        if c["schedule"] is None:
            learning_rate = float(lr)
        else:
            table = jnp.asarray(row_rates)
            learning_rate = lambda count, table=table: table[count]  # noqa: E731
        opt = optax_optimizer(c["optimizer"], row_hp, learning_rate)
        p = jnp.asarray(starts[k])
        params.append(p)
        optims.append(opt)
        states.append(opt.init(p))
        rates.append(row_rates)

    rng = np.random.default_rng(c["seed"])
    theta = np.empty((steps + 1, rows, 2))
    grads = np.empty((steps, rows, 2))
    lrs = np.array(rates).T.copy()
    state = {name: np.full((steps + 1, rows, 2), np.nan) for name in names}
    counts = np.full(steps + 1, -1)

    def snapshot(t):
        theta[t] = np.stack([np.asarray(p) for p in params])
        for k, s in enumerate(states):
            sub = find_state(s, cls)
            for name in names:
                state[name][t, k] = np.asarray(getattr(sub, name))
            if "count" in sub._fields:
                counts[t] = int(sub.count)

    snapshot(0)
    for t in range(steps):
        with np.errstate(all="ignore"):
            grad = f.grad(theta[t])
            if c["noise"] > 0:
                grad = grad + c["noise"] * rng.standard_normal((rows, 2))
        grads[t] = grad
        for k in range(rows):
            updates, states[k] = optims[k].update(jnp.asarray(grad[k]), states[k], params[k])
            params[k] = optax.apply_updates(params[k], updates)
        snapshot(t + 1)

    with np.errstate(all="ignore"):
        losses = f.value(theta)
    bad = ~(np.abs(theta) <= LIMIT).all(axis=-1) | ~np.isfinite(losses)
    diverged_at = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1)
    return theta, grads, lrs, state, counts, diverged_at


def main() -> None:
    arrays = {}
    for c in CASES:
        theta, grads, lrs, state, counts, diverged_at = run_optax(c)
        assert theta.dtype == np.float64
        if "diverge" in c["id"]:
            assert (diverged_at >= 0).any(), f"{c['id']} should diverge"
        else:
            assert (diverged_at < 0).all(), f"{c['id']} diverged unexpectedly"
        arrays[f"{c['id']}/theta"] = theta
        arrays[f"{c['id']}/grads"] = grads
        arrays[f"{c['id']}/lrs"] = lrs
        arrays[f"{c['id']}/diverged_at"] = diverged_at
        if (counts >= 0).all():
            arrays[f"{c['id']}/count"] = counts
        for name, values in state.items():
            arrays[f"{c['id']}/state/{name}"] = values
        print(f"{c['id']:<18} rows={theta.shape[1]} diverged_at={diverged_at.tolist()}")
    np.savez_compressed(HERE / "golden.npz", **arrays)
    (HERE / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
    print(f"optax {optax.__version__}, jax {jax.__version__}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
