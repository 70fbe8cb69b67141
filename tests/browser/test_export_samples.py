"""The handout's gradient-free samples in headless Chromium: stepping the frames moves the
genetic algorithm's population and switches annealing's proposal between taken (a ring
in its colour round the head) and turned down (grey, crossed), offline, without errors.

Plotly replays frames with `redraw: False`, so a marker attribute a frame names must reach
the drawn points: this is checked on the SVG, not only on the figure's data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.export.data import build_scene
from app.export.pipeline import run_export
from app.export.render import REJECTED, hex_rgb
from app.schemas import ExportRequest

pytestmark = pytest.mark.browser
STEPS = 10
PLOT = "document.querySelector('.js-plotly-plot')"


def test_handout_frames_move_the_population_and_mark_the_proposal(
    browser: Any, tmp_path: Any
) -> None:
    request = ExportRequest.model_validate(
        {
            "landscape": "rastrigin",
            "steps": STEPS,
            "runs": [
                {"optimizer": "genetic", "params": {"lr": 0.3, "population": 12, "spread": 2}},
                {"optimizer": "annealing", "params": {"lr": 0.5}},
            ],
            "format": "html",
            "frames": STEPS + 1,
        }
    )
    path = run_export(request, tmp_path / "handout.html")
    genetic, annealing = build_scene(request).runs
    taken = next(k for k in range(1, STEPS + 1) if not annealing.rejected(k))
    turned_down = next(k for k in range(1, STEPS + 1) if annealing.rejected(k))

    tab = browser.new_page()
    requested: list[str] = []
    errors: list[str] = []
    tab.on("request", lambda r: requested.append(r.url))
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        tab.goto(path.as_uri())
        tab.wait_for_function(f"{PLOT} && {PLOT}._fullLayout && {PLOT}._transitionData")
        traces = tab.evaluate(
            f"{PLOT}._fullData.filter(t => t.meta && t.meta.samples).map(t => t.index)"
        )
        assert len(traces) == 2
        for step in (taken, turned_down):
            tab.evaluate(
                f"Plotly.animate({PLOT}, ['{step}'], {{frame: {{duration: 0, redraw: false}}, "
                "transition: {duration: 0}, mode: 'immediate'})"
            )
            tab.wait_for_function(f"{PLOT}._fullLayout.sliders[0].active === {step}")
            shown = tab.evaluate(
                f"""() => {{
                const gd = {PLOT}, out = [];
                for (const i of {traces}) {{
                    const t = gd._fullData[i];
                    // the trace's drawn points: their positions and the SVG's stroke colours
                    const node = gd.querySelectorAll('.scatterlayer .trace')[i - gd._fullData
                        .findIndex(d => d.type === 'scatter')];
                    const points = [...node.querySelectorAll('path.point')];
                    out.push({{x: Array.from(t.x), y: Array.from(t.y),
                        strokes: points.map(p => getComputedStyle(p).stroke)}});
                }}
                return out;
            }}"""
            )
            population, proposal = shown
            np.testing.assert_allclose(population["x"], genetic.samples[step][:, 0], rtol=1e-6)  # type: ignore[index]
            assert len(population["strokes"]) == 12
            np.testing.assert_allclose(proposal["x"][1], annealing.samples[step][0][0], rtol=1e-6)  # type: ignore[index]
            ink = REJECTED if step == turned_down else annealing.color
            assert f"rgb{hex_rgb(ink)}".replace(" ", "") in {
                s.replace(" ", "") for s in proposal["strokes"]
            }, (step, proposal["strokes"])
        assert errors == []
        assert all(url.startswith("file://") for url in requested)
    finally:
        tab.close()
