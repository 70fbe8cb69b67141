"""Page latency in headless Chromium (Playwright): loading the page, and slider redraws.

Loads. Load-to-first-plot is the time from navigation start to the first complete plot
(window.__gradscape.redrawAfter(0): contour, paths and loss chart drawn). Cold = a fresh
browser context (empty HTTP cache, new renderer); warm = a reload in the same context.
Bytes are what Chromium received over HTTP for the load (DevTools
`Network.loadingFinished.encodedDataLength`: headers + body as sent, so compressed; 0 for a
reply from the cache), plus, separately, the WebSocket frames of the first run. The
baseline, measured in the same run and interleaved with it, is the same page with
Chromium sending `Accept-Encoding: identity` and its cache disabled: every load moves every
byte uncompressed, as before compression and validators. One unmeasured load first fills
the server's own caches (grid, gzip of Plotly.js), so "cold" is the browser's cold. Also
printed: Plotly.js evaluated alone in a fresh context, already downloaded — the floor of a
cold load on this machine. `--url` against a server of an older checkout measures "before".

Slider. Opens the page with six optimizers × 500 steps, then moves Adam's learning-rate
slider 30 times and measures, inside the page, the time from the `input` event to the end
of the redraw of the run that event started (window.__gradscape.redrawAfter). Baselines
from the same page and run, for a ratio: a plain GET /healthz round trip and a POST
/api/trajectories round trip of the full six-optimizer scene (compute + JSON, no drawing;
the page itself asks only for the changed run). The paths are drawn as a lecturer sees them:
lines, step dots in each run's marker shape and end markers (checked before timing).

The app runs in its own uvicorn process.

    python benchmarks/page_latency.py [--loads 7] [--changes 30] [--steps 500]

Targets: cold load-to-first-plot ≤ 1.5 s and ≤ 2 MB; warm < 100 kB; slider p95 ≤ 100 ms.
Prints medians (and p95 for the slider) and the breakdown.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
SERVED = "as served"
BASELINE = "baseline: identity, cache off"
CONFIGS = (SERVED, BASELINE)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

MEASURE_CHANGE = """
async ([lr]) => {
  const g = window.__gradscape;
  const slider = document.querySelector('[data-testid="slider-adam-lr"]');
  const before = g.runCounter();
  const t0 = performance.now();
  slider.value = String(Math.log10(lr));
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  const r = await g.redrawAfter(before);
  return { total: r.at - t0, done: r.doneAt - t0, draw: r.at - r.doneAt };
}
"""

MEASURE_FETCH = """
async ([url, body]) => {
  const t0 = performance.now();
  const reply = await fetch(url, body ? {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  } : undefined);
  await reply.json();
  return performance.now() - t0;
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def serve() -> tuple[str, subprocess.Popen[bytes]]:
    """`gradscape`'s app in its own process, as deployed (not sharing this process's GIL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return base, process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the app did not start")


def measure_load(page: Any, navigate: Any) -> dict[str, float]:
    """One load: ms to the first complete plot, HTTP bytes received, WebSocket bytes."""
    cdp = page.context.new_cdp_session(page)
    urls: dict[str, str] = {}
    received: dict[str, int] = {}
    ended: set[str] = set()
    frames = [0]
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], "?"))
    cdp.on(
        "Network.loadingFinished",
        lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    cdp.on("Network.loadingFailed", lambda e: ended.add(e["requestId"]))
    cdp.on(
        "Network.webSocketFrameReceived",
        lambda e: frames.__setitem__(0, frames[0] + len(e["response"]["payloadData"].encode())),
    )
    cdp.send("Network.enable")
    navigate()
    page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
    first_plot = page.evaluate("() => window.__gradscape.redrawAfter(0)")["at"]
    deadline = time.monotonic() + 30
    while set(urls) - set(received) - ended and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # the favicon may finish after the plot
    cdp.detach()
    return {"ms": first_plot, "http": sum(received.values()), "ws": frames[0]}


EVALUATE_PLOTLY = """
async (url) => {
  const source = await (await fetch(url)).text();
  const script = document.createElement('script');
  script.textContent = source;
  const t0 = performance.now();
  document.head.append(script);  // an inline script runs synchronously
  return performance.now() - t0;
}
"""


def plotly_evaluation(browser: Any, base: str) -> float:
    """ms to evaluate Plotly.js alone in a fresh context, already downloaded: the floor."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/healthz")
    (path,) = re.findall(r'"(/vendor/plotly-[^"]+)"', httpx.get(f"{base}/").text)
    ms = float(page.evaluate(EVALUATE_PLOTLY, base + path))
    context.close()
    return ms


def measure_loads(browser: Any, base: str, repeats: int) -> dict[str, list[dict[str, float]]]:
    """Cold and warm loads, served as deployed and in the baseline, interleaved."""
    results: dict[str, list[dict[str, float]]] = {
        f"{temp} {config}": [] for config in CONFIGS for temp in ("cold", "warm")
    }
    results["plotly"] = []
    for repeat in range(repeats + 1):
        if repeat > 0:
            results["plotly"].append({"ms": plotly_evaluation(browser, base)})
        for config in CONFIGS:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.set_default_timeout(60_000)
            if config == BASELINE:
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send(
                    "Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}}
                )
            cold = measure_load(page, lambda page=page: page.goto(f"{base}/"))
            warm = measure_load(page, lambda page=page: page.reload())
            context.close()
            if repeat > 0:  # the first round fills the server's caches
                results[f"cold {config}"].append(cold)
                results[f"warm {config}"].append(warm)
    return results


def report_loads(results: dict[str, list[dict[str, float]]]) -> None:
    repeats = len(results[f"cold {SERVED}"])
    print(
        f"page load: cold = fresh context, warm = reload in it; medians of {repeats}; 1 kB = 1000 B"
    )
    print(f"  {'':34} {'first plot':>10} {'HTTP':>12} {'WebSocket':>10}")
    medians = {}
    plotly = statistics.median(load["ms"] for load in results.pop("plotly"))
    for key, loads in results.items():
        med = {k: statistics.median(load[k] for load in loads) for k in ("ms", "http", "ws")}
        medians[key] = med
        print(
            f"  {key:34} {med['ms']:7.0f} ms {med['http'] / 1000:9.1f} kB "
            f"{med['ws'] / 1000:7.1f} kB"
        )
    print(
        f"  Plotly.js evaluation alone, fresh context {plotly:7.0f} ms (the floor of a cold load)"
    )
    for temp in ("cold", "warm"):
        now, base = medians[f"{temp} {SERVED}"], medians[f"{temp} {BASELINE}"]
        print(
            f"  ratio {temp} / baseline: first plot {now['ms'] / base['ms']:.2f}x, "
            f"HTTP bytes {now['http'] / base['http']:.3f}x"
        )
    cold, warm = medians[f"cold {SERVED}"], medians[f"warm {SERVED}"]
    verdict = {True: "met", False: "NOT met"}
    print(
        f"  targets: cold <= 1.5 s {verdict[cold['ms'] <= 1500]}; "
        f"cold <= 2 MB {verdict[cold['http'] <= 2_000_000]}; "
        f"warm < 100 kB {verdict[warm['http'] < 100_000]}"
    )


def measure_slider(
    browser: Any, base: str, changes: int, steps: int, inside: str = ""
) -> list[float]:
    """Slider change -> finished redraw, against /healthz and POST round trips; prints.
    ``inside``: optimizers shown from inside (recorded, arrows and equation panel drawn).
    Returns the redraw times."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{base}/?steps={steps}" + (f"&inside={inside}" if inside else ""))
    page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
    page.evaluate("() => window.__gradscape.redrawAfter(0)")
    runs = page.evaluate("() => window.__gradscape.runs()")
    assert len(runs) == 6 and all(r["n"] == steps + 1 for r in runs), runs
    drawn = page.evaluate(
        """() => { const gd = document.querySelector('#main-plot .layer-fg');
                   const dots = document.querySelector('#main-plot .layer-dots').dots;
                   return { dots: new Set(dots.points.map(p => p.optimizer)).size,
                            heads: gd.data.some(t => t.name === 'heads') }; }"""
    )
    assert drawn == {"dots": 6, "heads": True}, drawn  # step dots and markers on
    body = {
        "landscape": "rosenbrock",
        "steps": steps,
        "runs": [
            {
                "optimizer": r["optimizer"],
                "params": r["params"],
                "record": r["optimizer"] in inside.split(","),
            }
            for r in runs
        ],
    }

    # Warm-up (JIT, caches), then alternate the two measurements.
    lrs = [0.01 * (10 ** (i / changes)) for i in range(changes)]
    for lr in (0.02, 0.03, 0.04):
        page.evaluate(MEASURE_CHANGE, [lr])
        page.evaluate(MEASURE_FETCH, [f"{base}/healthz", None])
    results, healthz, rest = [], [], []
    for lr in lrs:
        results.append(page.evaluate(MEASURE_CHANGE, [lr]))
        healthz.append(page.evaluate(MEASURE_FETCH, [f"{base}/healthz", None]))
        rest.append(page.evaluate(MEASURE_FETCH, [f"{base}/api/trajectories", body]))
    page.close()

    total = [c["total"] for c in results]
    done = [c["done"] for c in results]
    draw = [c["draw"] for c in results]
    base_p50 = statistics.median(healthz)
    shown = f", {inside} shown from inside (recorded)" if inside else ""
    print(f"page latency: 6 optimizers x {steps} steps, {changes} slider changes{shown}")
    print(
        f"  slider -> redraw done   p50 {statistics.median(total):7.1f} ms   "
        f"p95 {percentile(total, 0.95):7.1f} ms   max {max(total):7.1f} ms"
    )
    print(
        f"    until server 'done'   p50 {statistics.median(done):7.1f} ms   "
        f"then drawing p50 {statistics.median(draw):6.1f} ms"
    )
    print(f"  baseline GET /healthz   p50 {base_p50:7.1f} ms")
    rest_p50 = statistics.median(rest)
    print(f"  POST /api/trajectories  p50 {rest_p50:7.1f} ms (same scene, no drawing)")
    print(
        f"  ratio redraw/healthz p50 {statistics.median(total) / base_p50:.1f}x; "
        f"target p95 <= 100 ms: {'met' if percentile(total, 0.95) <= 100 else 'NOT met'}"
    )
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7, help="cold+warm pairs; 0 skips")
    parser.add_argument("--changes", type=int, default=30, help="slider changes; 0 skips")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument(
        "--inside",
        default="",
        metavar="OPTS",
        help="also measure with these optimizers shown from inside (e.g. adam), against "
        "the plain page in the same run",
    )
    parser.add_argument(
        "--url",
        help="measure a running server (e.g. http://127.0.0.1:8000) instead of "
        "starting one in this process",
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    base, server = (args.url.rstrip("/"), None) if args.url else serve()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            if args.loads > 0:
                report_loads(measure_loads(browser, base, args.loads))
            if args.changes > 0:
                plain = measure_slider(browser, base, args.changes, args.steps)
                if args.inside:
                    inside = measure_slider(browser, base, args.changes, args.steps, args.inside)
                    p50 = statistics.median(inside) / statistics.median(plain)
                    p95 = percentile(inside, 0.95) / percentile(plain, 0.95)
                    print(f"  inside/plain: p50 x{p50:.2f}, p95 x{p95:.2f}")
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
