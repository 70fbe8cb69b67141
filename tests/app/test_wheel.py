"""The built wheel, installed in a fresh virtualenv outside the checkout, serves everything.

`pip install -e .` hides packaging mistakes: the code and assets are read from the source
tree. This module builds the sdist and, from it, the wheel (as `python -m build` does for a
release), installs the wheel into a new virtualenv in a temporary directory (no system
site-packages, so nothing of the checkout or of the test environment can leak in), then
runs the installed `gradscape` from another temporary directory: the page and every file
it loads, the API, the offline docs and two CLI exports. One build and one install serve
every test here: about 10 s together, most of it pip fetching the dependencies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from PIL import Image

from tests.serving import stop, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
CODE_PACKAGES = ("app", "landscapes", "optimizers")
ASSET_DIRS = ("static", "templates")
# Variables that would point the subprocesses at another environment or at the checkout.
LEAKY_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Install:
    """A wheel built from the checkout and installed into a fresh virtualenv."""

    wheel: Path
    build_log: str
    venv: Path
    workdir: Path  # an empty directory outside the checkout: every command runs there
    env: dict[str, str]

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
        return done


def _clean_env(venv: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else distutils warns that it cannot compile
    env["PYTHONNOUSERSITE"] = "1"  # no ~/.local site-packages either
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _outside_checkout(path: Path) -> Path:
    assert not path.resolve().is_relative_to(ROOT), f"{path} is inside the checkout"
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Install]:
    """Build from a copy of the checkout (no build/ or egg-info left in the working tree),
    install the wheel into a new virtualenv, and hand over where it lives. The virtualenv
    (about 340 MB) is removed afterwards; pytest would keep three runs' worth in /tmp."""
    base = _outside_checkout(tmp_path_factory.mktemp("wheel"))
    source = base / "source"
    # The working tree as `pip install .` would see it, minus VCS data, virtualenvs, caches.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "*.egg-info", "build", "dist", "venv", "node_modules"
        ),
    )
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(base / "dist"), str(source)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    build_log = built.stdout + built.stderr
    assert built.returncode == 0, build_log
    (wheel,) = (base / "dist").glob("gradscape-*.whl")

    venv = base / "venv"
    # No pip inside: this environment's pip installs into it (`pip --python`), which skips
    # ensurepip's seconds and an old bundled pip. No bytecode: it is not what is tested.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    workdir = base / "work"
    workdir.mkdir()
    install = Install(wheel, build_log, venv, workdir, _clean_env(venv))
    install.run(
        sys.executable, "-m", "pip", "--python", install.bin("python"),
        "install", "--quiet", "--no-compile", wheel, timeout=400,
    )  # fmt: skip
    print(f"wheel {wheel.stat().st_size / 1024:.0f} KiB; built and installed in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    yield install
    shutil.rmtree(base, ignore_errors=True)


def test_building_prints_no_warning(installed: Install) -> None:
    noisy = [
        line
        for line in installed.build_log.splitlines()
        if re.search(r"warn|deprecat", line, re.IGNORECASE)
    ]
    assert noisy == [], "\n".join(noisy)


def test_the_wheel_carries_every_module_asset_and_the_licence(installed: Install) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"gradscape-{VERSION}.dist-info/METADATA").decode()
    for package in CODE_PACKAGES:
        for module in (ROOT / package).rglob("*.py"):
            assert module.relative_to(ROOT).as_posix() in names, module
    for directory in ASSET_DIRS:  # shipped inside the app package: app/static, app/templates
        files = [p for p in (ROOT / directory).rglob("*") if p.is_file()]
        assert files, directory
        for path in files:
            assert f"app/{path.relative_to(ROOT).as_posix()}" in names, path
    assert not any(name.startswith(ASSET_DIRS) for name in names), "assets at the top level"
    assert f"gradscape-{VERSION}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata.splitlines()


PROBE = """
import importlib.metadata, json, os, sys, sysconfig
import app, app.config, landscapes, optimizers
print(json.dumps({
    "site": sysconfig.get_paths()["purelib"],
    "modules": [app.__file__, landscapes.__file__, optimizers.__file__],
    "assets": [str(app.config.STATIC_DIR), str(app.config.TEMPLATES_DIR)],
    "version": app.__version__,
    "direct_url": importlib.metadata.distribution("gradscape").read_text("direct_url.json"),
    "sys_path": sys.path,
    "cwd": os.getcwd(),
}))
"""


def test_the_installed_copy_is_what_runs(installed: Install) -> None:
    probe = json.loads(installed.run(installed.bin("python"), "-c", PROBE).stdout)
    site = Path(probe["site"])
    assert site.is_relative_to(installed.venv)
    for path in probe["modules"]:
        assert Path(path).is_relative_to(site), path
    static, templates = map(Path, probe["assets"])
    assert static == site / "app" / "static" and (static / "js" / "main.js").is_file()
    assert templates == site / "app" / "templates" and (templates / "index.html").is_file()
    assert probe["version"] == VERSION  # read back from the installed metadata
    assert json.loads(probe["direct_url"]).get("dir_info", {}).get("editable") is not True
    assert Path(probe["cwd"]) == installed.workdir
    leaked = [p for p in probe["sys_path"] if p and Path(p).resolve().is_relative_to(ROOT)]
    assert leaked == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(installed: Install) -> Iterator[str]:
    """`gradscape serve` from the virtualenv, started in the empty work directory."""
    port = _free_port()
    log = (installed.workdir / "serve.log").open("w")
    process = subprocess.Popen(
        [str(installed.bin("gradscape")), "serve", "--port", str(port)],
        cwd=installed.workdir,
        env=installed.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base, (installed.workdir / "serve.log").read_text)
        yield base
    finally:
        stop(process)
        log.close()


class _References(HTMLParser):
    """The URLs a page loads by itself: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("href") if tag == "link" else found.get("src")
        if url and tag in ("script", "link", "img", "source"):
            self.urls.append(url)


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


# Static `import … from "x"`, `export … from "x"`, `import "x"` and dynamic `import("x")`.
_JS_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+\.js)["']""")
JS_TYPES = ("text/javascript", "application/javascript")


def _fetch_page(base: str, path: str) -> dict[str, httpx.Response]:
    """GET `path`, everything its HTML references, and every ES module those import."""
    page = httpx.get(base + path)
    assert page.status_code == 200, path
    fetched = {path: page}
    queue = [urljoin(base + path, url) for url in _references(page.text)]
    assert queue, f"{path} references nothing"
    while queue:
        url = queue.pop()
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("http", urlsplit(base).netloc), url
        if parts.path in fetched:
            continue
        reply = httpx.get(url)
        assert reply.status_code == 200, url
        assert reply.content, url
        fetched[parts.path] = reply
        if parts.path.endswith(".js"):
            # Browsers refuse ES modules served with another MIME type.
            assert reply.headers["content-type"].startswith(JS_TYPES), url
            queue += [urljoin(url, spec) for spec in _JS_IMPORT.findall(reply.text)]
    return fetched


def test_serves_the_page_and_everything_it_loads(served: str) -> None:
    fetched = _fetch_page(served, "/")
    modules = {p for p in fetched if p.startswith("/static/js/")}
    checkout_modules = {f"/static/js/{p.name}" for p in (ROOT / "static" / "js").glob("*.js")}
    assert modules == checkout_modules  # the import graph from main.js reaches every module
    assert {"/static/css/app.css", "/static/favicon.svg"} <= fetched.keys()
    (plotly_url,) = [p for p in fetched if p.startswith("/vendor/plotly-")]
    plotly_js = fetched[plotly_url].content
    assert len(plotly_js) > 1_000_000 and b"plotly.js v" in plotly_js[:300]
    # Every file of the checkout's static/ (i18n tables included) comes back byte for byte.
    for path in (ROOT / "static").rglob("*"):
        if path.is_file():
            url = "/" + path.relative_to(ROOT).as_posix()
            reply = fetched.get(url) or httpx.get(served + url)
            assert reply.status_code == 200 and reply.content == path.read_bytes(), url
    assert httpx.get(served + "/static/i18n/ja.json").json()  # parses as JSON


def test_serves_the_api(served: str) -> None:
    assert httpx.get(served + "/healthz").json() == {"status": "ok"}
    names = {item["name"] for item in httpx.get(served + "/api/landscapes").json()}
    assert {"rosenbrock", "saddle", "booth"} <= names
    schema = httpx.get(served + "/openapi.json").json()
    assert schema["info"]["version"] == VERSION
    assert "/api/trajectories" in schema["paths"]


def test_serves_the_api_docs_with_local_assets(served: str) -> None:
    fetched = _fetch_page(served, "/docs")  # asserts every reference is on this server
    expected = {"/vendor/docs/swagger-ui-bundle.js", "/vendor/docs/swagger-ui.css"}
    assert expected | {"/static/favicon.svg"} <= fetched.keys()
    assert b"SwaggerUIBundle" in fetched["/vendor/docs/swagger-ui-bundle.js"].content
    assert "https://" not in fetched["/docs"].text


def test_exports_an_mp4_through_the_api(served: str) -> None:
    # The installed imageio-ffmpeg's own ffmpeg binary encodes it; no system ffmpeg needed.
    body = {"landscape": "booth", "steps": 20, "runs": [{"optimizer": "adam"}], "format": "mp4"}
    job = httpx.post(served + "/api/exports", json={**body, "width": 320, "height": 240})
    assert job.status_code == 202, job.text
    status_url = f"{served}/api/exports/{job.json()['id']}"
    deadline = time.monotonic() + 120
    while (status := httpx.get(status_url).json())["status"] not in ("done", "error"):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status["status"] == "done", status
    video = httpx.get(status_url + "/file")
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp" and len(video.content) > 1000


def test_exports_from_the_command_line(installed: Install) -> None:
    scene = ("--landscape", "booth", "--optimizers", "sgd", "--steps", "10")
    gradscape = installed.bin("gradscape")
    installed.run(gradscape, "export", *scene, "--format", "csv", "-o", "out.csv")
    rows = (installed.workdir / "out.csv").read_text().splitlines()
    assert rows[0] == "step,optimizer,x,y,loss"
    assert [row.split(",")[:2] for row in rows[1:]] == [[str(s), "sgd"] for s in range(11)]

    installed.run(
        gradscape, "export", *scene, "--format", "png", "--width", "320", "--height", "240",
        "-o", "still.png",
    )  # fmt: skip
    with Image.open(installed.workdir / "still.png") as image:
        assert (image.format, image.size) == ("PNG", (320, 240))
        colours = image.convert("RGB").getcolors(maxcolors=320 * 240)
        assert colours is not None and len(colours) > 16  # a drawn scene, not a blank
