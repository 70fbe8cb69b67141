"""The app's settings in one place: asset paths, limits, scene constants, server defaults.

Everything else in `app` reads these; this module imports nothing from `app`, so imports
point down: config → core (landscapes, optimizers) → scene → routes → main. Changing a
limit here changes what the models accept, what `/api/settings` and `gradscape list`
report and what the CLI's help prints.

Asset paths: the source tree keeps `static/` and `templates/` at the top level, beside
`app/` (the spec's layout). The wheel carries them inside the `app` package as
`app/static` and `app/templates` (pyproject.toml maps them there with `package-dir`), so
an installed copy finds them next to its own code with importlib.resources, from any
working directory. The API docs' Swagger UI bundle comes from the installed
`fastapi-offline` package, so /docs works without internet.
"""

from __future__ import annotations

import dataclasses
from importlib.resources import files
from pathlib import Path
from typing import Any

# --- server ---------------------------------------------------------------------------

# Loopback by default: a lecture laptop should not expose itself to the room unless asked.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# `gradscape serve` tells the app which address it bound in this environment variable (so
# it reaches every worker process too): the share panel says whether students can open links.
BIND_HOST_ENV = "GRADSCAPE_BIND_HOST"
# `gradscape serve --workers N`: worker processes sharing the listening sockets. Each one
# is a whole server (its own caches and limits), so more than the cores only costs memory.
DEFAULT_WORKERS = 1
MAX_WORKERS = 16
# Longer links make a QR code too dense to scan from a projected slide (version 27 at 1 kB).
MAX_QR_TEXT = 1024
# A `run` message is a few hundred bytes; 64 KiB leaves room and refuses floods.
WS_MAX_MESSAGE_BYTES = 64 * 1024
# SO_SNDBUF of the listening sockets (accepted ones inherit it; Linux doubles it). Left to
# autotuning, a client that never reads lets the kernel take ~4 MB before a send waits, so
# the server computes ~55 % of a 12 × 10,000 run for nobody before it notices the stall
# (app.routes.ws); at 256 KiB it notices after ~0.5 MB, still far above a LAN's
# bandwidth-delay product (1 Gbit/s × 1 ms = 125 kB).
SOCKET_SEND_BUFFER_BYTES = 256 * 1024
# Who may talk to the server (app.gate): extra Host names (a reverse proxy's) and page
# origins, comma-separated. `gradscape serve --allow-host/--allow-origin` set them, so they
# reach every worker process.
ALLOW_HOSTS_ENV = "GRADSCAPE_ALLOW_HOSTS"
ALLOW_ORIGINS_ENV = "GRADSCAPE_ALLOW_ORIGINS"
# The largest legitimate body, an export of 12 runs with every option and a 120-character
# Japanese title, is 4.1 kB as JSON (about 7 kB pretty-printed): 64 KiB is ample, and a
# body above it is refused (413) before it is read.
MAX_BODY_BYTES = 64 * 1024
# Request bodies and WebSocket messages nest 3 levels (body, runs, params); deeper JSON is
# refused (422) before a parser recurses through it (app.jsonguard).
MAX_JSON_DEPTH = 32
# A float64 needs at most 24 characters ("-2.2250738585072014e-308"); longer literals are
# refused before int() or float() converts thousands of digits.
MAX_NUMBER_CHARS = 100

# --- scene limits and constants ---------------------------------------------------------

MAX_STEPS = 10_000
MAX_RUNS = 12
MAX_GRID_RESOLUTION = 800
# Fewer than this many samples per side cannot show a contour.
MIN_GRID_RESOLUTION = 8
DEFAULT_GRID_RESOLUTION = 150
MIN_GRID_DIGITS, MAX_GRID_DIGITS = 3, 15  # float64 holds ~15.9 digits; omit for all 17
# Contours are coloured on a log scale when values above the minimum span more decades.
LOG_COLOR_DECADES = 3.0
MAX_NOISE = 100.0
MAX_SEED = 2**32 - 1
# Steps per WebSocket chunk: small enough that the first chunk leaves within milliseconds.
DEFAULT_CHUNK = 100
# A gradient-free run (simulated annealing, the genetic algorithm) evaluates S points per
# step (annealing 1, the genetic algorithm its population): steps × S is at most this ...
MAX_SAMPLED = 200_000
# ... and a reply carries at most this many of them per run, every k-th point's samples
# with k = ceil((steps + 1) × S / SAMPLE_POINTS) (k = 1 for a 500-step race of 20 members).
SAMPLE_POINTS = 50_000
# The race the lecture notes run: `gradscape export`'s default and the presets' full field.
CLASSIC_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nag", "adagrad", "rmsprop", "adam")

# --- export limits ----------------------------------------------------------------------

MAX_EXPORT_WIDTH = 1920
MAX_EXPORT_HEIGHT = 1080
MIN_EXPORT_SIZE = 64
MAX_EXPORT_FRAMES = 2_000
MAX_EXPORT_FPS = 60
# A clip a lecturer can talk over: long enough to follow, whatever the step count.
DEFAULT_EXPORT_SECONDS = 8.0
MIN_EXPORT_SECONDS, MAX_EXPORT_SECONDS = 1.0, 120.0
MAX_TITLE_LENGTH = 120


@dataclasses.dataclass(frozen=True)
class Option:
    """A scene or export option: default and inclusive range, in one place.

    The models in app.schemas take their bounds from these, and `gradscape list` and the
    CLI's help print them, so a range that is shown is exactly the range that is accepted.
    """

    name: str
    default: Any  # a number, the title's text, or None where the model derives it
    min: float
    max: float
    help: str
    integer: bool = True


STEPS = Option("steps", 200, 1, MAX_STEPS, "optimizer updates")
RUNS = Option("runs", None, 1, MAX_RUNS, "how many optimizers race (a name may repeat)")
NOISE = Option("noise", 0.0, 0.0, MAX_NOISE, "gradient noise σ", integer=False)
SEED = Option("seed", 0, 0, MAX_SEED, "noise seed")
SCENE_OPTIONS = (STEPS, RUNS, NOISE, SEED)

WIDTH = Option("width", 800, MIN_EXPORT_SIZE, MAX_EXPORT_WIDTH, "pixels (GIF, MP4, PNG)")
HEIGHT = Option("height", 600, MIN_EXPORT_SIZE, MAX_EXPORT_HEIGHT, "pixels (GIF, MP4, PNG)")
FPS = Option("fps", 20, 1, MAX_EXPORT_FPS, "frames per second (GIF, MP4, HTML)")
DURATION = Option(
    "duration",
    DEFAULT_EXPORT_SECONDS,
    MIN_EXPORT_SECONDS,
    MAX_EXPORT_SECONDS,
    f"clip length in seconds (GIF, MP4, HTML); duration × fps ≤ {MAX_EXPORT_FRAMES} frames",
    integer=False,
)
FRAMES = Option(
    "frames",
    "duration × fps",
    1,
    MAX_EXPORT_FRAMES,
    "instead of duration: this many frames, one per sampled step (at most steps + 1)",
)
FRAME = Option("frame", "steps", 0, MAX_STEPS, "PNG still: the step shown, at most --steps")
TITLE = Option(
    "title",
    "",
    0,
    MAX_TITLE_LENGTH,
    "the title line, in characters (default: the preset's, else the landscape's)",
)
EXPORT_OPTIONS = (WIDTH, HEIGHT, FPS, DURATION, FRAMES, FRAME, TITLE)

# The maps (issue 13): many runs summarised at once (POST /api/maps/..., the CLI's sweep,
# basins and tune). Served in /api/settings under "maps".
MAP_STEPS = Option("steps", 500, 1, 2000, "optimizer updates of each run of a map or trial")
SWEEP_COUNT = Option("lr_count", 64, 16, 256, "learning rates swept, log-spaced")
HEATMAP_COUNT = Option("axis_count", 32, 4, 64, "values per heatmap axis")
BASIN_RESOLUTION = Option("resolution", 128, 8, 256, "starts per side of a basin map")
BASIN_RUNS = Option("basin_runs", None, 1, 6, "optimizers mapped side by side")
TUNE_BUDGET = Option("budget", 20, 4, 64, "trials per method and optimizer")
MAP_OPTIONS = (MAP_STEPS, SWEEP_COUNT, HEATMAP_COUNT, BASIN_RESOLUTION, BASIN_RUNS, TUNE_BUDGET)

# --- asset paths ------------------------------------------------------------------------


def _package_dir(package: str, name: str) -> Path | None:
    """`package`'s data directory `name` as a filesystem path, or None if it has none.

    StaticFiles and Jinja2's loader read real directories. pip and other installers
    unpack wheels, so an installed package's resources are files on disk (a Path).
    """
    found = files(package).joinpath(name)
    return found if isinstance(found, Path) and found.is_dir() else None


def _app_dir(name: str) -> Path:
    """The wheel's `app/<name>`, else `<name>` beside `app/` in the source tree.

    The fallback serves an editable install (`pip install -e .`) and a bare checkout:
    setuptools' editable finder maps `app` to the source `app/` directory and cannot
    import a data directory mapped into a regular package (it has no __init__.py), so
    there the assets are read where the tree keeps them.
    """
    packaged = _package_dir("app", name)
    return packaged if packaged is not None else Path(__file__).resolve().parent.parent / name


STATIC_DIR: Path = _app_dir("static")
"""ES modules, CSS, i18n JSON and the favicon, served under /static."""

TEMPLATES_DIR: Path = _app_dir("templates")
"""The Jinja2 page(s)."""

I18N_DIR: Path = STATIC_DIR / "i18n"
"""The page's text, one JSON file per language (also the presets' titles and paragraphs)."""


def _docs_assets_dir() -> Path:
    found = _package_dir("fastapi_offline", "static")
    if found is None:  # a fastapi-offline that moved its bundles: fail loudly, not a blank /docs
        raise RuntimeError("fastapi-offline's static/ directory (Swagger UI) is missing")
    return found


DOCS_ASSETS_DIR: Path = _docs_assets_dir()
"""Swagger UI's JavaScript and CSS, served under /vendor/docs."""
