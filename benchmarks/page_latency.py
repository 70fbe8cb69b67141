"""Slider-to-redraw latency of the page, in headless Chromium (Playwright).

Opens the page with six optimizers × 500 steps, then moves Adam's learning-rate slider
30 times and measures, inside the page, the time from the `input` event to the end of the
redraw of the run that event started (window.__gradscape.redrawAfter). The app runs in
its own uvicorn process. Baselines from the same page and run, for a ratio: a plain
GET /healthz round trip and a POST /api/trajectories round trip of the full six-optimizer
scene (compute + JSON, no drawing; the page itself asks only for the changed run).

    python benchmarks/page_latency.py [--changes 30] [--steps 500]

Target: p95 ≤ 100 ms. Prints medians, p95 and the breakdown (until the server's `done`
message, then drawing).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--steps", type=int, default=500)
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
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{base}/?steps={args.steps}")
            page.wait_for_function("() => window.__gradscape && window.__gradscape.ready")
            page.evaluate("() => window.__gradscape.redrawAfter(0)")
            runs = page.evaluate("() => window.__gradscape.runs()")
            assert len(runs) == 6 and all(r["n"] == args.steps + 1 for r in runs), runs
            body = {
                "landscape": "rosenbrock",
                "steps": args.steps,
                "runs": [{"optimizer": r["optimizer"], "params": r["params"]} for r in runs],
            }

            # Warm-up (JIT, caches), then alternate the two measurements.
            lrs = [0.01 * (10 ** (i / args.changes)) for i in range(args.changes)]
            for lr in (0.02, 0.03, 0.04):
                page.evaluate(MEASURE_CHANGE, [lr])
                page.evaluate(MEASURE_FETCH, [f"{base}/healthz", None])
            changes, healthz, rest = [], [], []
            for lr in lrs:
                changes.append(page.evaluate(MEASURE_CHANGE, [lr]))
                healthz.append(page.evaluate(MEASURE_FETCH, [f"{base}/healthz", None]))
                rest.append(page.evaluate(MEASURE_FETCH, [f"{base}/api/trajectories", body]))
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)

    total = [c["total"] for c in changes]
    done = [c["done"] for c in changes]
    draw = [c["draw"] for c in changes]
    base_p50 = statistics.median(healthz)
    print(f"page latency: 6 optimizers x {args.steps} steps, {args.changes} slider changes")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
