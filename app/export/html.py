"""A standalone interactive HTML handout: a Plotly figure with animation frames.

Plotly.js is inlined (include_plotlyjs=True), so the file opens from disk with no network;
nothing in it loads a URL. Play/pause buttons and a step slider drive the frames. Each
frame carries every run's path so far; for long runs the paths inside frames are thinned
with a fixed stride per run (so frames stay prefixes of one another and never jitter),
keeping the file within a few megabytes. The head of each path is always exact.
A gradient-free run's samples ride along in one more trace per run, under the paths: the
genetic algorithm's population, annealing's head-to-proposal segment and marker (its
colour and size per frame say whether the proposal was taken), as on the page.
User text (the title) is HTML-escaped: Plotly would otherwise read tags such as <a href>.

The handout also carries the lesson as the page shows it, in the page's language
(`scene.lang`, words from static/i18n): the preset's explanation above the plot when the
export names one; below it the loss chart (f − f* on a log axis where f* is known), whose
cursor follows the frame on show, and the status table.

Why every frame names the contour traces too: with `redraw: False` Plotly replots only
the traces a frame names, and its per-subplot layer join then removes every layer none of
them belongs to, so the contour vanished on the first frame of play or scrub. Naming the
contour is not enough either: Plotly drops non-animatable trace types (contour is one)
from a frame, so the page marks the contour module animatable (KEEP_CONTOUR) before any
frame plays. `redraw: True` also brings the contour back, but only after a painted frame
without it (a flicker), and each frame costs ~1.7 times as much.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from app.export.data import ExportRun, ExportScene, Progress, ui_words
from app.export.ranges import (
    GAP_FLOOR,
    PAGE_GRID_RESOLUTION,
    clip_series,
    landscape_range,
    loss_band,
    short_number,
)
from app.export.render import (
    CONTOUR_LEVELS,
    MINIMUM_MARKERS,
    POPULATION_OPACITY,
    REJECTED,
    SEGMENT,
    log_ticks,
)
from app.export.render import dot_every as page_dot_every
from app.palette import LANDSCAPE_COLORSCALE, MINIMUM_COLOR, START_COLOR
from app.words import say
from app.words import short_number as table_number

# (x, y) pairs stored across all frames and runs, at most (about 5 MB as float32 base64).
POINT_BUDGET = 400_000
MIN_POINTS_PER_FRAME = 40
GRID_RESOLUTION = 160
# Both charts of the handout: no Plotly logo, and they follow the window's size.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
PLOT_ID = "handout-plot"
LOSS_ID = "handout-loss"
# Run once the figure exists; the module docstring says why. The handout inlines its own
# Plotly.js, so a written file keeps working; tests/browser guards a Plotly upgrade.
KEEP_CONTOUR = """
document.getElementById('{plot_id}')._fullData.forEach(function (trace) {
    if (trace.type === 'contour') trace._module.animatable = true;
});
"""
# The Play/Pause buttons and the step slider run Plotly.animate and drop the promise it
# returns (Plotly's updatemenus and sliders call it through an internal module the page
# cannot reach). Plotly rejects that promise with `undefined` whenever a newer animation
# interrupts a frame, as Pause and every scrub during play do: an "Uncaught (in promise)
# undefined" each time. An interrupted frame is what the reader asked for, so exactly
# those rejections (reason undefined) are marked handled; any real error still shows.
QUIET_INTERRUPTS = """
window.addEventListener('unhandledrejection', function (event) {
    if (event.reason === undefined) event.preventDefault();
});
"""
# Equal scale narrows the plot inside the window; the colour bar and the legend, placed in
# paper coordinates, would stay at the window's right edge, far from it. After each layout
# (and window resize) they move to the plot's right side, as on the page.
BESIDE_PLOT = """
(function () {
    var gd = document.getElementById('{plot_id}');
    function place() {
        var full = gd._fullLayout, right = 0;
        Object.keys(full).forEach(function (key) {
            if (/^xaxis\\d*$/.test(key)) right = Math.max(right, full[key].domain[1]);
        });
        var bottom = 1, top = 0;
        Object.keys(full).forEach(function (key) {
            if (!/^yaxis\\d*$/.test(key)) return;
            bottom = Math.min(bottom, full[key].domain[0]);
            top = Math.max(top, full[key].domain[1]);
        });
        var bar = right + 12 / full._size.w, legend = right + 110 / full._size.w;
        var contour = gd.data.findIndex(function (t) { return t.type === 'contour'; });
        // The bar spans exactly the plot's height (equal scale shortens the plot inside the
        // window; the bar would otherwise take the window's whole height).
        var cb = contour >= 0 ? gd.data[contour].colorbar : null;
        if (cb && (Math.abs((cb.x || 0) - bar) > 0.003 || Math.abs((cb.y || 0) - top) > 0.003 ||
                   Math.abs((cb.len || 0) - (top - bottom)) > 0.003)) {
            Plotly.restyle(gd, {
                'colorbar.x': bar, 'colorbar.xanchor': 'left',
                'colorbar.y': top, 'colorbar.yanchor': 'top',
                'colorbar.len': top - bottom, 'colorbar.lenmode': 'fraction',
            }, [contour]);
        }
        if (Math.abs((full.legend.x || 0) - legend) > 0.003) {
            Plotly.relayout(gd, {'legend.x': legend});
        }
    }
    gd.on('plotly_afterplot', place);
    place();
})();
"""

# The step slider's labels at round steps (0, 25, 50, … or 0, 10, 20, …), as many as fit:
# Plotly labels every n-th frame, n set by the labels' width, which gives 0, 7, 14, 21, ….
# Its own labels are hidden (STYLE); these sit under its ticks, redrawn after each layout.
ROUND_LABELS = r"""
(function () {
    var gd = document.getElementById('{plot_id}');
    var NICE = [1, 2, 5];
    function label() {
        var ticks = gd.querySelectorAll('.slider-group rect.slider-tick-rect');
        var steps = gd._fullLayout.sliders[0].steps.map(function (s) { return Number(s.label); });
        if (ticks.length !== steps.length || steps.length < 2) return;
        var parent = ticks[0].parentNode;
        var old = parent.querySelector('g.round-labels');
        if (old) old.remove();
        var at = Array.prototype.map.call(ticks, function (t) {
            var m = t.getAttribute('transform').match(/translate\(([-\d.e]+)[ ,]+([-\d.e]+)\)/);
            return {x: Number(m[1]), y: Number(m[2]) + Number(t.getAttribute('height'))};
        });
        var last = steps[steps.length - 1];
        var perStep = (at[at.length - 1].x - at[0].x) / (last - steps[0]);
        var room = 8 * String(last).length + 18;  // px a label needs, with a gap
        var every = steps[1] - steps[0];
        for (var k = 0; every * perStep < room; k += 1) {
            every = (steps[1] - steps[0]) * NICE[k % 3] * Math.pow(10, Math.floor(k / 3));
        }
        var group = document.createElementNS('http://www.w3.org/2000/svg', 'g');
        group.setAttribute('class', 'round-labels');
        steps.forEach(function (step, i) {
            var end = i === steps.length - 1;
            if (step % every !== 0 && !end) return;
            if (end && step % every !== 0 && (step % every) * perStep < room) return;
            var text = document.createElementNS('http://www.w3.org/2000/svg', 'text');
            text.setAttribute('x', at[i].x);
            text.setAttribute('y', at[i].y + 14);
            text.setAttribute('text-anchor', 'middle');
            text.setAttribute('class', 'round-label');
            text.textContent = String(step);
            group.appendChild(text);
        });
        parent.appendChild(group);
    }
    gd.on('plotly_afterplot', label);
    label();
})();
"""


def handout_steps(steps: int, frames: int) -> np.ndarray:
    """The step each handout frame shows: 0, d, 2d, …, steps with d the largest round number
    (1, 2, 5 × 10^k) giving at least `frames` frames (at most 2.5 times as many: the point
    budget still holds), so the slider's labels fall on round steps, never 0, 7, 14, 22."""
    frames = max(2, min(frames, steps + 1))
    raw = steps / (frames - 1)
    if raw < 1:
        return np.arange(steps + 1)
    decade = 10 ** math.floor(math.log10(raw))
    every = max(int(m * decade) for m in (1, 2, 5) if m * decade <= raw + 1e-9)
    shown = list(range(0, steps + 1, every))
    if shown[-1] != steps:
        shown.append(steps)
    return np.array(shown, dtype=int)


def _noop(_: float) -> None:
    pass


def _sample_width(run: ExportRun) -> int:
    """Points a frame's samples trace of `run` holds at most (0 for a gradient method)."""
    return max((len(s) for s in run.samples or [] if s is not None), default=0)


def _per_frame(scene: ExportScene, frames: int) -> int:
    """Points one path may store in one frame, within POINT_BUDGET (less what the
    gradient-free runs' samples take: each frame holds a population)."""
    samples = frames * sum(_sample_width(run) for run in scene.runs)
    budget = max(0, POINT_BUDGET - samples)
    return max(MIN_POINTS_PER_FRAME, budget // max(1, frames * len(scene.runs)))


def _strides(scene: ExportScene, frames: int) -> list[int]:
    per_frame = _per_frame(scene, frames)
    return [max(1, math.ceil(len(run.points) / per_frame)) for run in scene.runs]


def dot_every(scene: ExportScene, frames: int) -> int:
    """Step dots every k-th step: as on the page and in the GIF/MP4, fewer when many frames
    would make them outweigh the paths (at most a quarter of a path's points)."""
    budget = max(MIN_POINTS_PER_FRAME // 4, _per_frame(scene, frames) // 4)
    return max(page_dot_every(scene.steps), page_dot_every(scene.steps, budget))


def _typed(values: np.ndarray) -> dict[str, str]:
    """Plotly.js's typed-array form: float32 little-endian, base64 (a third of JSON's size)."""
    data = np.ascontiguousarray(values, dtype="<f4").tobytes()
    return {"dtype": "f4", "bdata": base64.b64encode(data).decode("ascii")}


def _path(points: np.ndarray, step: int, stride: int) -> np.ndarray:
    """The path up to `step` (clipped to the run's finite part), thinned, head exact."""
    if not len(points):
        return points.reshape(0, 2)
    last = min(step, len(points) - 1)
    thinned = points[: last + 1 : stride]
    if (last % stride) != 0:
        thinned = np.concatenate([thinned, points[last : last + 1]])
    return thinned.astype(np.float32)


def _dots(points: np.ndarray, step: int, every: int) -> np.ndarray:
    """Every `every`-th point up to `step`, the start excluded: the step dots, as on the page."""
    last = min(step, len(points) - 1)
    return points[every : last + 1 : every].astype(np.float32).reshape(-1, 2)


def _samples(run: ExportRun, step: int) -> tuple[np.ndarray, bool]:
    """A gradient-free run's samples trace at `step`: the population, or for annealing the
    head and its proposal (a dotted segment ending in the hollow marker); and whether that
    proposal was turned down. Empty where the run has none to show."""
    index = run.sample_index(step)
    entry = None if index is None or run.samples is None else run.samples[index]
    if index is None or entry is None or not len(entry):
        return np.zeros((0, 2), dtype=np.float32), False
    if not run.proposes:
        return np.asarray(entry, dtype=np.float32).reshape(-1, 2), False
    head = run.points[min(step, len(run.points) - 1)]
    return np.array([head, entry[0], entry[0]], dtype=np.float32), run.rejected(index)


# Annealing's trace holds three points: the head (no marker: the head is drawn there), the
# proposal's hollow marker and a cross on it. Taken, the marker is a ring round the head
# in the run's colour; turned down, a grey crossed marker at the end of a dotted segment
# (the page's, static/js/dots.js). Sizes in px; the head is 12.
PROPOSAL_SIZES = {False: [0, 20, 0], True: [0, 12, 8]}


def _sample_frame(run: ExportRun, step: int) -> dict:
    """The samples trace's data in one frame (annealing's marker says taken or not)."""
    points, rejected = _samples(run, step)
    data: dict = {"type": "scatter", "x": _typed(points[:, 0]), "y": _typed(points[:, 1])}
    if run.proposes:
        color = REJECTED if rejected else run.color
        data["marker"] = {"color": color, "size": PROPOSAL_SIZES[rejected]}
    return data


def build_figure(
    scene: ExportScene,
    *,
    frames: int,
    frame_ms: float = 50.0,
    layout: str = "overlay",
    progress: Progress = _noop,
) -> dict:
    """The Plotly figure (as a dict) with one animation frame per sampled step, each
    shown `frame_ms` milliseconds when played."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = scene.runs
    words = ui_words(scene.lang)  # the page's labels, in the page's language
    explained = scene.preset is not None and not scene.user_title  # explanation() heads it
    side_by_side = layout == "side_by_side" and len(runs) > 1
    panels = len(runs) if side_by_side else 1
    cols = math.ceil(math.sqrt(panels * 1.3)) if side_by_side else 1
    rows = math.ceil(panels / cols)
    if side_by_side:
        fig = make_subplots(
            rows=rows,
            cols=cols,
            subplot_titles=[html.escape(run.legend_label, quote=False) for run in runs],
            shared_xaxes="all",
            shared_yaxes="all",
            horizontal_spacing=0.04,
            vertical_spacing=0.08,
        )
    else:
        fig = go.Figure()

    (xmin, xmax), (ymin, ymax) = scene.bounds
    grid = scene.color_grid(GRID_RESOLUTION) if scene.color_grid is not None else None

    def cell(i: int) -> dict:
        return {"row": i // cols + 1, "col": i % cols + 1} if side_by_side else {}

    contour_traces: list[int] = []
    for p in range(panels):
        if grid is not None:
            contour_traces.append(len(fig.data))
            x, y, color = grid
            colorbar = {
                "title": {
                    "text": html.escape(words["plot.colorLog"] if scene.log_color else "f"),
                    "side": "right",
                },
                "outlinewidth": 0,
                "thickness": 14,
                "ypad": 0,  # flush with the plot's top and bottom (BESIDE_PLOT sets its length)
            }
            if scene.log_color:
                finite = np.asarray(color, dtype=float)
                finite = finite[np.isfinite(finite)]
                if len(finite):
                    ticks = log_ticks(float(finite.min()), float(finite.max()))
                    colorbar["tickvals"] = [value for value, _ in ticks]
                    colorbar["ticktext"] = [text for _, text in ticks]
            fig.add_trace(
                go.Contour(
                    x=np.asarray(x, dtype=np.float32),
                    y=np.asarray(y, dtype=np.float32),
                    z=np.nan_to_num(np.asarray(color, dtype=np.float32)),
                    colorscale=LANDSCAPE_COLORSCALE,
                    ncontours=CONTOUR_LEVELS,
                    contours={"coloring": "fill"},
                    line={"width": 0.5},
                    # One colour bar, as on the page; the side-by-side panels share it.
                    showscale=p == 0,
                    colorbar=colorbar,
                    hoverinfo="skip",
                    name="landscape",
                    showlegend=False,
                ),
                **cell(p),
            )
        for kind, (symbol, key) in MINIMUM_MARKERS.items():
            found = [m for m in scene.minima if m.kind == kind]
            label = html.escape(words[key], quote=False)
            if found:
                fig.add_trace(
                    go.Scatter(
                        x=[m.x for m in found],
                        y=[m.y for m in found],
                        mode="markers",
                        marker={
                            "symbol": symbol,
                            "size": 14,
                            "color": MINIMUM_COLOR,
                            "line": {"color": "#000000", "width": 1},
                        },
                        name=label,
                        legendgroup=kind,
                        showlegend=p == 0,
                        hovertemplate=f"{label}: (%{{x}}, %{{y}})<extra></extra>",
                    ),
                    **cell(p),
                )
        fig.add_trace(
            go.Scatter(
                x=[scene.start[0]],
                y=[scene.start[1]],
                mode="markers",
                marker={"size": 11, "color": START_COLOR, "line": {"color": "#FFFFFF", "width": 1}},
                name=words["plot.start"],
                legendgroup="start",
                showlegend=p == 0,
                hovertemplate=f"{words['plot.start']}: (%{{x}}, %{{y}})<extra></extra>",
            ),
            **cell(p),
        )

    steps = handout_steps(scene.steps, frames)
    # The same seconds over the (fewer) round frames.
    frame_ms = frame_ms * min(frames, scene.steps + 1) / len(steps)
    strides = _strides(scene, len(steps))
    every = dot_every(scene, len(steps))
    # A gradient-free run's samples (CONTRACT-15 "Drawing", as the page): the genetic
    # algorithm's population as small dots, annealing's proposal as a hollow marker on a
    # dotted line from the head (grey when turned down); under every path, as in the GIF.
    sample_traces: list[int] = []
    for i, run in enumerate(runs):
        if run.samples is None:
            continue
        points, _ = _samples(run, int(steps[0]))
        name = html.escape(run.legend_label, quote=False)
        sample_traces.append(len(fig.data))
        if run.proposes:
            points, rejected = _samples(run, int(steps[0]))
            trace = go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="lines+markers",
                line={"color": SEGMENT, "width": 1.2, "dash": "dot"},
                marker={
                    "symbol": [f"{run.symbol.removesuffix('-open')}-open"] * 2 + ["x-thin-open"],
                    "size": PROPOSAL_SIZES[rejected],
                    "color": REJECTED if rejected else run.color,
                    "line": {"width": 2},
                },
                name=name,
                legendgroup=f"run{i}",
                showlegend=False,
                hoverinfo="skip",
                meta={"samples": run.optimizer},
            )
        else:
            trace = go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                marker={
                    "size": 7,
                    "color": run.color,
                    "opacity": POPULATION_OPACITY,
                    "line": {"color": "#000000", "width": 1},
                },
                name=name,
                legendgroup=f"run{i}",
                showlegend=False,
                hoverinfo="skip",
                meta={"samples": run.optimizer},
            )
        fig.add_trace(trace, **cell(i if side_by_side else 0))
    first_path_trace = len(fig.data)
    for i, run in enumerate(runs):
        path = _path(run.points, int(steps[0]), strides[i])
        name = html.escape(run.legend_label, quote=False)
        fig.add_trace(
            go.Scatter(
                x=path[:, 0],
                y=path[:, 1],
                mode="lines",
                line={"color": run.color, "width": 2.5, "dash": run.dash},
                name=name,
                legendgroup=f"run{i}",
                showlegend=False,  # the head's entry shows the run's shape and colour
                hovertemplate=f"{name}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            ),
            **cell(i if side_by_side else 0),
        )
        dots = _dots(run.points, int(steps[0]), every)
        fig.add_trace(
            go.Scatter(
                x=dots[:, 0],
                y=dots[:, 1],
                mode="markers",
                marker={
                    "size": 9,  # the page's: three quarters of a head
                    "symbol": run.symbol,
                    "color": run.color,
                    "line": {"color": "#FFFFFF", "width": 0.8},
                },
                name=name,
                legendgroup=f"run{i}",
                showlegend=False,
                hoverinfo="skip",
            ),
            **cell(i if side_by_side else 0),
        )
        fig.add_trace(
            go.Scatter(
                x=path[-1:, 0],
                y=path[-1:, 1],
                # One point draws no line; the legend's key shows the path's dash with it.
                mode="lines+markers",
                line={"color": run.color, "width": 2.5, "dash": run.dash},
                marker={
                    "size": 12,
                    "symbol": run.symbol,
                    "color": run.color,
                    "line": {"color": "#000000", "width": 1},
                },
                name=name,
                legendgroup=f"run{i}",
                hoverinfo="skip",
            ),
            **cell(i if side_by_side else 0),
        )
    # The contours ride along unchanged ({}), so the layer join keeps them.
    paths = list(range(first_path_trace, first_path_trace + 3 * len(runs)))
    animated = contour_traces + sample_traces + paths

    frame_list = []
    for k, step in enumerate(steps):
        data: list[dict] = [{} for _ in contour_traces]
        data += [_sample_frame(run, int(step)) for run in runs if run.samples is not None]
        for i, run in enumerate(runs):
            path = _path(run.points, int(step), strides[i])
            data.append({"type": "scatter", "x": _typed(path[:, 0]), "y": _typed(path[:, 1])})
            dots = _dots(run.points, int(step), every)
            data.append({"type": "scatter", "x": _typed(dots[:, 0]), "y": _typed(dots[:, 1])})
            data.append({"type": "scatter", "x": _typed(path[-1:, 0]), "y": _typed(path[-1:, 1])})
        frame_list.append({"data": data, "traces": animated, "name": str(k)})
        progress((k + 1) / len(steps))

    still = {"duration": 0, "redraw": False}
    slider_steps = [
        {
            "args": [
                [str(k)],
                {"frame": still, "mode": "immediate", "transition": {"duration": 0}},
            ],
            "label": str(int(step)),
            "method": "animate",
        }
        for k, step in enumerate(steps)
    ]
    fig.update_layout(
        # The preset's heading above the figure is the title; never the same line twice.
        title={"text": "" if explained else html.escape(scene.full_title, quote=False), "x": 0.01},
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 60, "b": 20},
        # Grey, so the white minimum markers show in the legend; right of the colour bar.
        legend={"bgcolor": "#E8E8E8", "x": 1.16, "xanchor": "left", "y": 1, "yanchor": "top"},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.06,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 10, "r": 10},
                "showactive": False,
                "buttons": [
                    {
                        "label": f"▶ {words['play.play']}",
                        "method": "animate",
                        "args": [
                            None,
                            {
                                "frame": {"duration": round(frame_ms), "redraw": False},
                                "fromcurrent": True,
                                "mode": "immediate",
                                "transition": {"duration": 0},
                            },
                        ],
                    },
                    {
                        "label": f"❚❚ {words['play.pause']}",
                        "method": "animate",
                        "args": [
                            [None],
                            {"frame": still, "mode": "immediate", "transition": {"duration": 0}},
                        ],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": 0,
                # Room for the buttons' longest words (Japanese "一時停止") at 1024 px.
                "x": 0.24,
                "len": 0.76,
                "y": -0.06,
                "yanchor": "top",
                "currentvalue": {"prefix": f"{words['plot.step']} ", "visible": True},
                # One tick length: ROUND_LABELS labels round steps, not Plotly's n-th frames.
                "ticklen": 5,
                "minorticklen": 5,
                "steps": slider_steps,
            }
        ],
    )
    fig.update_xaxes(range=[xmin, xmax], showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(range=[ymin, ymax], showgrid=False, zeroline=False, constrain="domain")
    fig.update_layout(margin={"b": 110})
    figure = fig.to_dict()
    # Equal scale, as on the page: each panel's y axis takes its x axis's unit length.
    for key, axis in figure["layout"].items():
        if key.startswith("yaxis"):
            axis["scaleanchor"] = "x" + key.removeprefix("yaxis")
            axis["scaleratio"] = 1
    # Frames are plain dicts with typed arrays: validating thousands of go.Frame objects
    # would take longer than everything else together.
    figure["frames"] = frame_list
    return figure


def write_html(
    scene: ExportScene,
    path: Path,
    *,
    frames: int,
    frame_ms: float = 50.0,
    layout: str = "overlay",
    progress: Progress = _noop,
) -> None:
    """Write the standalone HTML file (Plotly.js inlined, no external URL loaded)."""
    import plotly.io as pio

    figure = build_figure(scene, frames=frames, frame_ms=frame_ms, layout=layout, progress=progress)
    document = pio.to_html(
        figure,
        validate=False,
        include_plotlyjs=True,
        full_html=True,
        auto_play=False,
        include_mathjax=False,
        default_width="100%",
        default_height="88vh",
        div_id=PLOT_ID,
        config=PLOTLY_CONFIG,
        post_script=[QUIET_INTERRUPTS, KEEP_CONTOUR, BESIDE_PLOT, ROUND_LABELS],
    )
    document = document.replace(
        "<head>", f"<head><title>{html.escape(scene.full_title)}</title>{STYLE}", 1
    )
    words = ui_words(scene.lang)
    loss_chart = pio.to_html(
        loss_figure(scene, words),
        validate=False,
        include_plotlyjs=False,
        full_html=False,
        div_id=LOSS_ID,
        default_width="100%",
        default_height="320px",
        config=PLOTLY_CONFIG,
    )
    lesson = f'<section class="lesson">{loss_chart}{status_table(scene, words)}</section>'
    document = document.replace("<body>", f"<body>{explanation(scene)}", 1)
    document = document.replace("</body>", f"{lesson}{_cursor_script(scene, frames)}</body>", 1)
    document = document.replace("<html>", f'<html lang="{scene.lang}">', 1)
    Path(path).write_text(document, encoding="utf-8")


STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 0 1rem; color: #222; }
.explanation { max-width: 60rem; margin: 0.8rem 0 0; line-height: 1.5; }
.explanation h1 { font-size: 1.2rem; margin: 0 0 0.3rem; }
.explanation p { margin: 0; }
.lesson { max-width: 60rem; margin: 0 0 2rem; }
.status { border-collapse: collapse; margin-top: 0.5rem; }
.status th, .status td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
.status .num { text-align: right; font-variant-numeric: tabular-nums; }
.status .outcome td { color: #444; border-bottom: 1px solid #aaa; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; }
.slider-labels { display: none; }
.round-label { font: 12px "Open Sans", verdana, arial, sans-serif; fill: #2a3f5f; }
</style>"""


def outcome(run: ExportRun, lang: str) -> tuple[str, str, int | None]:
    """(code, words, step): how the run ends, as the page's status table says it — the
    server's status (app.scene.status_json) in the handout's language."""
    status = run.result.status
    return status.code, status.text.get(lang, status.text["en"]), status.step


def status_table(scene: ExportScene, words: dict[str, str]) -> str:
    """The page's status table: final f, the step, and how each run ends in words."""
    rows = []
    for run in scene.runs:
        code, sentence, step = outcome(run, scene.lang)
        final = float(run.losses[-1]) if len(run.losses) else None
        rows.append(
            f'<tr class="{code}" data-status="{code}"><th scope="row"><span class="swatch" '
            f'style="background:{html.escape(run.color)}"></span>{html.escape(run.legend_label)}</th>'
            f'<td class="num">{table_number(final)}</td>'
            f'<td class="num">{"—" if step is None else step}</td></tr>'
            f'<tr class="outcome {code}"><td colspan="3">{html.escape(sentence)}</td></tr>'
        )
    head = "".join(
        f'<th scope="col"{"" if key == "status.optimizer" else " class=num"}>'
        f"{html.escape(words[key])}</th>"
        for key in ("status.optimizer", "status.finalLoss", "status.stepCol")
    )
    body = "".join(rows)
    return f'<table class="status"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def explanation(scene: ExportScene) -> str:
    """The preset's title and lesson paragraph in the scene's language, or nothing."""
    if scene.preset is None:
        return ""
    from app import presets

    preset = presets.get(scene.preset)
    title = preset.title.get(scene.lang, preset.title["en"])
    text = preset.text.get(scene.lang, preset.text["en"])
    return (
        f'<section class="explanation"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(text)}</p></section>"
    )


def _decade_ticks(lo: float, hi: float) -> dict:
    """Only powers of ten on a log axis spanning decades, as the page's loss chart
    (logAxisTicks in static/js/plot.js: Plotly's 2 and 5 minor labels clutter it)."""
    decades = math.log10(hi / lo)
    return {"dtick": max(1, math.ceil(decades / 6))} if decades >= 1.5 else {}


def loss_figure(scene: ExportScene, words: dict[str, str]) -> dict:
    """Loss over steps as the page's LossView draws it: f − f* on a log axis where the global
    minimum's value is known, f itself otherwise; a vertical line marks the frame shown
    above. The value axis spans the landscape's own range (app.export.ranges, the twin of
    static/js/ranges.js): a runaway run is clipped at the edge, its marker there points the
    way it went, a dotted line runs on along the edge, and a note above the chart says from
    which step ("Momentum: below −84 from step 94")."""
    import plotly.io as pio

    globals_ = [m.value for m in scene.minima if m.kind == "global" and m.value is not None]
    fstar = min(globals_) if globals_ else None
    log_scale = fstar is not None
    own = (
        landscape_range(scene.value_grid(PAGE_GRID_RESOLUTION))
        if scene.value_grid is not None
        else None
    )
    band = loss_band(own, fstar) if own is not None else (-math.inf, math.inf)
    if log_scale:
        band = (0.0, band[1])
    traces: list[dict] = []
    marks: list[dict] = []
    notes: list[str] = []
    drawn: list[np.ndarray] = []
    for run in scene.runs:
        losses = np.asarray(run.losses, dtype=float)
        values = losses if fstar is None else np.maximum(losses - fstar, GAP_FLOOR)
        y, off = clip_series(values, *band)
        drawn.append(y)
        name = html.escape(run.label, quote=False)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x0": 0,
                "dx": 1,
                # Typed float32: compact, and NaN (the gap after a run leaves the band)
                # needs no JSON spelling.
                "y": _typed(y),
                "name": name,
                "line": {"color": run.color, "width": 2, "dash": run.dash},
                "hovertemplate": f"{name}: %{{y:.4g}}<extra></extra>",
            }
        )
        if off is None:
            continue
        edge = float(y[off.step])
        last = max(len(y) - 1, off.step)
        marks.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [off.step, last],
                "y": [edge, edge],
                "name": f"{name} off scale",
                "meta": {"offScale": off.side, "optimizer": run.optimizer, "step": off.step},
                "line": {"color": run.color, "width": 2, "dash": "dot"},
                "marker": {
                    "symbol": ["triangle-down" if off.side == "below" else "triangle-up", "circle"],
                    "size": [12, 0],
                    "color": run.color,
                    "line": {"color": "#222222", "width": 1},
                },
                "hoverinfo": "skip",
            }
        )
        key = "loss.offBelow" if off.side == "below" else "loss.offAbove"
        value = short_number(edge + fstar if fstar is not None else edge)
        notes.append(say(words[key], name=run.name, value=value, step=off.step))
    # The value axis: what the runs show inside the band, and the landscape's own range.
    seen = np.concatenate(drawn) if drawn else np.empty(0)
    seen = seen[np.isfinite(seen)]
    yaxis: dict = {"type": "log" if log_scale else "linear", "exponentformat": "power"}
    if len(seen) and not log_scale:
        lo = min(float(seen.min()), own.min) if own is not None else float(seen.min())
        hi = max(float(seen.max()), own.max) if own is not None else float(seen.max())
        pad = 0.05 * ((hi - lo) or 1.0)
        yaxis |= {"range": [lo - pad, hi + pad], "autorange": False}
    elif len(seen):
        lo = max(float(seen.min()) if seen.min() > 0 else GAP_FLOOR, GAP_FLOOR)
        hi = max(float(seen.max()), lo * 10)
        yaxis |= {"range": [math.log10(lo) - 0.1, math.log10(hi) + 0.1], "autorange": False}
        yaxis |= _decade_ticks(10 ** yaxis["range"][0], 10 ** yaxis["range"][1])
    note_size = 12
    annotations = []
    if notes:
        annotations.append(
            {
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 1,
                "xanchor": "left",
                "yanchor": "bottom",
                "align": "left",
                "showarrow": False,
                "text": "<br>".join(html.escape(note, quote=False) for note in notes),
                "font": {"size": note_size},
                "name": "off-scale-note",
            }
        )
    return {
        "data": traces + marks,
        "layout": {
            "template": pio.templates["plotly_white"].to_plotly_json(),
            # The notes go in the top margin, under the title, clear of the lines.
            "margin": {"l": 60, "r": 20, "t": 36 + len(notes) * round(note_size * 1.35), "b": 40},
            "title": {
                "text": html.escape(words["loss.titleLog" if log_scale else "loss.title"]),
                "x": 0.01,
                "y": 0.98,
                "yanchor": "top",
            },
            "xaxis": {
                "title": {"text": html.escape(words["plot.step"])},
                "range": [0, scene.steps],
            },
            "yaxis": yaxis,
            "annotations": annotations,
            "showlegend": False,
            "shapes": [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": 0,
                    "x1": 0,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#555555", "width": 1, "dash": "dot"},
                }
            ],
        },
    }


def _cursor_script(scene: ExportScene, frames: int) -> str:
    """Keeps the loss chart's cursor on the step the main plot shows (play, pause, scrub)."""
    steps = [int(s) for s in handout_steps(scene.steps, frames)]
    return f"""<script>
(function () {{
    var steps = {steps};
    var plot = document.getElementById("{PLOT_ID}");
    var loss = document.getElementById("{LOSS_ID}");
    plot.on("plotly_animatingframe", function (event) {{
        var step = steps[Number(event.name)];
        if (step === undefined) return;
        Plotly.relayout(loss, {{"shapes[0].x0": step, "shapes[0].x1": step}});
    }});
}})();
</script>"""
