"""Unit checks of the page's recorded-state code with a fake record (no optimizer run): how
chunks' `record` parts are stored (runs.js storeRecord), and the numbers inside_math.js
derives from them — Adam's bias corrections and effective rates, the update shown at the
last point, the arrows. Run in Chromium on the served modules (they are ES modules)."""

from __future__ import annotations

import math
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Two chunks of a 5-step Adam run: updates 0–1 (offset 0: points 0–2), then 2–4; update 3's
# second buffer overflowed (null, as the API sends it).
FAKE = """async () => {
  const { storeRecord } = await import('/static/js/runs.js');
  const m = await import('/static/js/inside_math.js');
  const steps = 5;
  const run = {
    optimizer: 'adam', n: steps + 1,
    params: { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0 },
    xs: Float64Array.from([0, 1, 3, 6, 10, 15]),
    ys: Float64Array.from([0, -1, -1, 0, 2, 5]),
    record: { n: 0, buffers: ['exp_avg', 'exp_avg_sq'], grads: new Float64Array(2 * steps),
              lrs: new Float64Array(steps), state: { exp_avg: new Float64Array(2 * steps),
              exp_avg_sq: new Float64Array(2 * steps) } },
  };
  storeRecord(run.record, { first: 0, grads: [[1, 2], [3, 4]], lrs: [0.1, 0.1],
    state: { exp_avg: [[0.1, 0.2], [0.39, 0.58]], exp_avg_sq: [[0.001, 0.004], [0.01, 0.02]] } });
  const afterFirst = run.record.n;
  storeRecord(run.record, { first: 2, grads: [[5, 6], [7, 8], [9, 10]], lrs: [0.05, 0.05, 0.05],
    state: { exp_avg: [[1, 1], [2, 2], [3, 3]],
             exp_avg_sq: [[0.1, 0.2], [null, 0.3], [0.4, 0.5]] } });
  const v1 = m.updateValues(run, 1);
  const v3 = m.updateValues(run, 3);
  const eff = m.effectiveLr(run);
  return {
    afterFirst, n: run.record.n,
    v1: { bc1: v1.bc1, bc2: v1.bc2, mhat: v1.mhat, vhat: v1.vhat, eff: v1.eff, step: v1.step,
          m_prev: v1.m_prev, t: v1.t, terms: v1.terms, momentum: v1.momentum },
    v3x: v3.v[0],
    eff: { x: Array.from(eff.x), y: Array.from(eff.y), n: eff.n },
    atEnd: m.updateAt(run, 5), atMiddle: m.updateAt(run, 2),
    beyond: m.updateValues(run, 5),
    arrows: m.arrowsAt(run, 1).map((a) => [a.kind, a.vec, a.length, a.from]),
  };
}"""


def test_stored_chunks_and_the_numbers_derived_from_them(app_page: Any) -> None:
    gs = app_page.open("landscape=booth&opt=sgd&steps=10")
    r = gs.page.evaluate(FAKE)
    assert r["afterFirst"] == 2 and r["n"] == 5
    v1 = r["v1"]
    assert v1["t"] == 2
    assert v1["terms"] == ["g", "m", "v", "bias", "hat", "eff", "theta", "step"]
    assert math.isclose(v1["bc1"], 1 - 0.9**2) and math.isclose(v1["bc2"], 1 - 0.999**2)
    assert v1["m_prev"] == [0.1, 0.2]
    assert math.isclose(v1["mhat"][0], 0.39 / (1 - 0.9**2))
    assert math.isclose(v1["vhat"][1], 0.02 / (1 - 0.999**2))
    want = 0.1 / (1 - 0.9**2) / (math.sqrt(0.01) / math.sqrt(1 - 0.999**2) + 1e-8)
    assert math.isclose(v1["eff"][0], want, rel_tol=1e-15)
    assert v1["step"] == [2, 0]  # θ₂ − θ₁ from the points, not recomputed
    assert v1["momentum"] == [-0.39, -0.58]
    assert math.isnan(r["v3x"])  # null in the record (an overflow): NaN in the page, not 0
    eff = r["eff"]
    assert eff["n"] == 5
    assert math.isnan(eff["x"][3]) and math.isfinite(eff["y"][3])  # the overflowed entry only
    assert math.isclose(eff["x"][1], want, rel_tol=1e-15)
    assert r["atEnd"] == 4 and r["atMiddle"] == 2  # the last point shows the update into it
    assert r["beyond"] is None
    kinds = {kind: (vec, length, start) for kind, vec, length, start in r["arrows"]}
    assert kinds["grad"][0] == [-3, -4] and kinds["grad"][1] == 5
    assert kinds["step"][0] == [2, 0] and kinds["step"][2] == [1, -1]
    gs.assert_clean()
