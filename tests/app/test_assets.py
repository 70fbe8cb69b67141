"""Asset locations: the package's own directories first, the source tree's in a checkout.

tests/app/test_wheel.py checks the installed side (app/static inside site-packages); these
check the lookup itself and the checkout side the rest of the suite runs on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import app
from app import assets

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(app.__file__).resolve().parent


def test_a_directory_inside_the_package_wins() -> None:
    # app/routes exists inside the package, so the lookup must not fall back to ROOT/routes.
    assert assets._package_dir("app", "routes") == PACKAGE / "routes"
    assert assets._app_dir("routes") == PACKAGE / "routes"
    assert assets._package_dir("app", "no-such-directory") is None


def test_a_checkout_reads_the_top_level_directories() -> None:
    assert not (PACKAGE / "static").exists()  # editable install: the tree's layout
    assert assets.STATIC_DIR == ROOT / "static"
    assert assets.TEMPLATES_DIR == ROOT / "templates"
    assert (assets.STATIC_DIR / "js" / "main.js").is_file()
    assert (assets.TEMPLATES_DIR / "index.html").is_file()


def test_docs_assets_are_fastapi_offline_files() -> None:
    import fastapi_offline

    bundled = Path(fastapi_offline.__file__).resolve().parent / "static"
    assert bundled == assets.DOCS_ASSETS_DIR
    assert (assets.DOCS_ASSETS_DIR / "swagger-ui-bundle.js").stat().st_size > 100_000


def test_routes_do_not_import_the_app_module() -> None:
    # Imports point down: a router that imports app.main would build the app on import.
    code = "import sys, app.routes.pages, app.routes.docs; print('app.main' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
