"""The numbers the inside panel derives for torch's AdamW … Rprop and RMSprop's centered
option (inside_math.js) from real recorded runs: every slot of every term it shows is
filled, and the terms' arithmetic gives back the recorded buffers and points."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import landscapes
import optimizers
from app.equations import EQUATIONS

pytestmark = pytest.mark.browser

STEPS = 8  # RAdam at β₂ = 0.9 is rectified from update 6 on: both of its forms show
CASES = {
    "adamw": {"lr": 0.05, "weight_decay": 0.1},
    "amsgrad": {"lr": 0.05, "beta2": 0.9},
    "nadam": {"lr": 0.05, "weight_decay": 0.1},
    "radam": {"lr": 0.01, "beta2": 0.9},
    "adamax": {"lr": 0.05},
    "adadelta": {"lr": 2.0, "eps": 1e-3},
    "adafactor": {"lr": 0.3, "weight_decay": 0.1},  # the clip acts at update 6
    "rprop": {"lr": 0.05},
    "rmsprop": {"lr": 0.01, "centered": 1},
    # decoupled weight decay (as AdamW): θ shrinks before the step, and the terms say so
    "nadam+decoupled": {"lr": 0.05, "weight_decay": 0.2, "decoupled_weight_decay": 1},
    "radam+decoupled": {"lr": 0.01, "beta2": 0.9, "weight_decay": 0.2, "decoupled_weight_decay": 1},
}

#: The ones the effective-learning-rate chart draws (a rate per axis times m or g).
CHARTED = {"adamw", "amsgrad", "adamax", "rmsprop"}

VALUES = """async ({ runs, steps }) => {
  const m = await import('/static/js/inside_math.js');
  const f = (a) => Float64Array.from(a);
  const out = {};
  for (const [name, run] of Object.entries(runs)) {
    run.xs = f(run.xs);
    run.ys = f(run.ys);
    run.record.grads = f(run.record.grads);
    run.record.lrs = f(run.record.lrs);
    for (const k of Object.keys(run.record.state)) run.record.state[k] = f(run.record.state[k]);
    out[name] = [];
    const eff = m.effectiveLr(run);
    for (let t = 0; t < steps; t += 1) {
      const chart = eff ? [eff.x[t], eff.y[t]] : null;
      out[name].push({ v: m.updateValues(run, t), arrows: m.arrowsAt(run, t).length, chart });
    }
  }
  return out;
}"""


def _run(name: str, params: dict[str, float]) -> dict[str, Any]:
    opt = optimizers.create(name, **params)
    traj = optimizers.run(landscapes.get("himmelblau"), opt, [-1.5, 2.0], STEPS, record=True)
    assert traj.grads is not None and traj.lrs is not None and traj.state is not None
    return {
        "optimizer": name,
        "n": STEPS + 1,
        "params": {s.name: float(opt.params[s.name]) for s in optimizers.spec(name)},
        "xs": traj.points[:, 0, 0].tolist(),
        "ys": traj.points[:, 0, 1].tolist(),
        "record": {
            "n": STEPS,
            "buffers": list(traj.state),
            "grads": traj.grads[:, 0].ravel().tolist(),
            "lrs": traj.lrs[:, 0].tolist(),
            "state": {k: v[:, 0].ravel().tolist() for k, v in traj.state.items()},
        },
    }


def _step(v: dict[str, Any]) -> np.ndarray:
    """The step the terms' numbers say θ takes, per optimizer."""
    a = {k: np.array(x) if isinstance(x, list) else x for k, x in v.items()}
    name = v["optimizer"]
    # NAdam's and RAdam's step starts from θ, or from the decayed θ under decoupled decay
    shrink = a["decayed"] - a["theta"] if "decayed" in a else 0.0
    if name in ("adamw", "amsgrad"):
        start = a["decayed"] if name == "adamw" else a["theta"]
        return start - a["eff_hat"] * a["mhat"] - a["theta"]
    if name == "nadam":
        return shrink - (a["c_g"] * a["g"] + a["c_m"] * a["m"]) / a["denom"]
    if name == "radam":
        return shrink - (a["eff"] * a["mhat"] if "rect" in a else a["lr"] * a["mhat"])
    if name == "adamax":
        return -a["eff"] * a["m"]
    if name == "adadelta":
        return -a["lr"] * a["delta"]
    if name == "adafactor":
        return a["decayed"] - a["alpha_t"] / a["clip"] * a["u"] - a["theta"]
    if name == "rprop":
        return -a["sign"] * a["step_size"]
    return -a["eff"] * a["g"]  # RMSprop, centered


def test_inside_numbers_of_the_torch_optimizers(app_page: Any) -> None:
    runs = {case: _run(case.split("+")[0], params) for case, params in CASES.items()}
    gs = app_page.open("landscape=himmelblau&opt=sgd&steps=10")
    found = gs.page.evaluate(VALUES, {"runs": runs, "steps": STEPS})
    for case, updates in found.items():
        name = case.split("+")[0]
        terms = {term.key: term.mathml for term in EQUATIONS[name].terms}
        for t, update in enumerate(updates):
            v = update["v"]
            assert v is not None, (name, t)
            assert update["arrows"] >= 2, (name, t)
            for key in v["terms"]:
                assert key in terms, (name, t, key)
                missing = {s for s in re.findall(r"\{(\w+)\}", terms[key]) if s not in v}
                assert not missing, (name, t, key, missing)
            step = np.array(v["theta_next"]) - np.array(v["theta"])
            np.testing.assert_allclose(_step(v), step, rtol=1e-9, atol=1e-15, err_msg=name)
            # the effective-learning-rate chart draws the same per-axis rate as the terms
            assert (update["chart"] is not None) == (name in CHARTED), name
            if name in CHARTED:
                np.testing.assert_allclose(update["chart"], v["eff"], rtol=1e-12, err_msg=name)
        shown = {key for update in updates for key in update["v"]["terms"]}
        if name == "radam":  # both forms of the step
            theta = "theta_decayed" if case.endswith("+decoupled") else "theta"
            assert {"rect", f"{theta}_plain", theta} <= shown
        if name == "rmsprop":
            assert {"gbar", "eff_centered"} <= shown and "eff" not in shown
        if name == "adamw" or case.endswith("+decoupled"):
            assert "decay" in shown
        if case.endswith("+decoupled"):
            assert not {"theta", "theta_plain"} & shown
            assert "theta_decayed" in shown
        if name == "adafactor":
            assert max(update["v"]["clip"] for update in updates) > 1
    gs.assert_clean()
