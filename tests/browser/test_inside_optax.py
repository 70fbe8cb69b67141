"""The numbers the inside panel derives for Lion, LARS and LAMB (inside_math.js) from a
real recorded run: every slot of every term it shows is filled, and the terms' arithmetic
gives back the recorded buffers and points."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

import landscapes
import optimizers
from app.equations import EQUATIONS

pytestmark = pytest.mark.browser

STEPS = 6
CASES = {
    "lion": {"lr": 0.05, "weight_decay": 0.1},
    "lars": {"lr": 2.0, "trust_coefficient": 0.01, "weight_decay": 0.05},
    "lamb": {"lr": 0.02, "weight_decay": 0.1},
    "lamb-plain": {"lr": 0.02},
}

VALUES = """async ({ run, steps }) => {
  const m = await import('/static/js/inside_math.js');
  const f = (a) => Float64Array.from(a);
  run.xs = f(run.xs);
  run.ys = f(run.ys);
  run.record.grads = f(run.record.grads);
  run.record.lrs = f(run.record.lrs);
  for (const k of Object.keys(run.record.state)) run.record.state[k] = f(run.record.state[k]);
  const out = [];
  for (let t = 0; t < steps; t += 1) {
    const v = m.updateValues(run, t);
    const arrows = m.arrowsAt(run, t).map((a) => [a.kind, a.vec]);
    out.push({ v, arrows });
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


def _close(a: Any, b: Any) -> bool:
    return bool(np.allclose(a, b, rtol=1e-12, atol=1e-15))


@pytest.mark.parametrize("case", list(CASES))
def test_inside_numbers_of_the_optax_optimizers(app_page: Any, case: str) -> None:
    name = case.split("-")[0]
    run = _run(name, CASES[case])
    gs = app_page.open("landscape=himmelblau&opt=sgd&steps=10")
    updates = gs.page.evaluate(VALUES, {"run": run, "steps": STEPS})
    terms = {term.key: term.mathml for term in EQUATIONS[name].terms}
    p = run["params"]
    for t, update in enumerate(updates):
        v = update["v"]
        assert v is not None, t
        for key in v["terms"]:
            assert key in terms, (case, t, key)
            missing = {s for s in re.findall(r"\{(\w+)\}", terms[key]) if s not in v}
            assert not missing, (case, t, key, missing)
        theta, after, lr = np.array(v["theta"]), np.array(v["theta_next"]), v["lr"]
        arrows = dict(update["arrows"])
        if name == "lion":
            assert v["terms"][-3:] == ["theta_wd", "m", "step"]
            assert v["sign"] == [math.copysign(1.0, c) for c in v["c"]]
            assert _close(after, theta - lr * (np.array(v["sign"]) + p["weight_decay"] * theta))
            assert _close(
                v["m"], p["beta2"] * np.array(v["m_prev"]) + v["keep2"] * np.array(v["g"])
            )
            assert _close(arrows["momentum"], -np.array(v["m"]))
        elif name == "lars":
            assert "u" in v["terms"] and ("ratio" in v["terms"]) != ("ratio_one" in v["terms"])
            step = p["momentum"] * np.array(v["b_prev"]) - lr * v["ratio"] * np.array(v["u"])
            assert _close(v["b"], step)
            assert _close(after, theta + np.array(v["b"]))
            assert _close(arrows["momentum"], v["b"])  # the trace is a step already: +b
        else:
            assert ("u_wd" in v["terms"]) == (case == "lamb")
            assert _close(v["ratio"], v["pnorm"] / v["unorm"])
            assert _close(after, theta - lr * v["ratio"] * np.array(v["u"]))
            assert _close(arrows["momentum"], -np.array(v["m"]))
    gs.assert_clean()
