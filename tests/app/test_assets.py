"""Asset locations (app.config) and the direction of imports inside `app`.

Assets: the package's own directories first, the source tree's in a checkout.
tests/app/test_wheel.py checks the installed side (app/static inside site-packages); these
check the lookup itself and the checkout side the rest of the suite runs on.

Imports point down — config → core → scene → routes → main: every module imports alone in
a fresh interpreter (a cycle fails there), and no router imports app.main.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import app
from app import config as assets

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


def _modules(under: Path) -> list[str]:
    """Dotted names of every module in `under` (a directory of the app package)."""
    names = []
    for path in sorted(under.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


APP_MODULES = _modules(PACKAGE)
ROUTE_MODULES = _modules(PACKAGE / "routes")


def test_the_module_lists_are_complete() -> None:
    assert {"app.config", "app.main", "app.cli", "app.routes.pages"} <= set(APP_MODULES)
    assert "app.routes.ws" in ROUTE_MODULES and "app.main" not in ROUTE_MODULES


@pytest.mark.parametrize("module", APP_MODULES)
def test_every_module_imports_alone(module: str) -> None:
    # A fresh interpreter per module: an import cycle only shows when its first module is
    # the one imported first, which an already-warm test process would hide.
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_routes_do_not_import_the_app_module() -> None:
    # Imports point down: a router that imports app.main would build the app on import.
    for path in sorted((PACKAGE / "routes").glob("*.py")):
        assert "app.main" not in _imported(path), path.name
    code = "import sys, app.routes; " + "; ".join(f"import {m}" for m in ROUTE_MODULES)
    done = subprocess.run(
        [sys.executable, "-c", code + "; print('app.main' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_lower_layers_do_not_import_higher_ones() -> None:
    # config imports nothing of app; the scene, models and data nothing of routes, main, CLI.
    assert not {n for n in _imported(PACKAGE / "config.py") if n.startswith("app")}
    for name in ("scene.py", "schemas.py", "catalogue.py", "palette.py", "presets.py"):
        higher = {
            n
            for n in _imported(PACKAGE / name)
            if n.startswith(("app.routes", "app.main", "app.cli"))
        }
        assert not higher, (name, higher)


def test_scene_takes_constants_from_config_not_from_the_models() -> None:
    tree = ast.parse((PACKAGE / "scene.py").read_text(encoding="utf-8"))
    from_schemas = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "app.schemas"
        for alias in node.names
    }
    assert from_schemas and not {n for n in from_schemas if n.isupper()}, from_schemas


def test_websocket_messages_are_built_in_one_module() -> None:
    # Each protocol has one home: app/routes/ws.py the race's (meta/chunk/done/error),
    # app/routes/tune.py the tuner's (meta/trial/done/error); no other module builds them.
    kinds = {"meta", "chunk", "done", "error"}
    builders = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and isinstance(value, ast.Constant)
                        and value.value in kinds
                    ):
                        builders.add((path.relative_to(PACKAGE).as_posix(), value.value))
            # or written as JSON text (the chunk is: its numbers go straight to text)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for kind in kinds:
                    if f'"type":"{kind}"' in node.value.replace(" ", ""):
                        builders.add((path.relative_to(PACKAGE).as_posix(), kind))
    tune = {("routes/tune.py", kind) for kind in ("meta", "done", "error")}
    assert builders == {("routes/ws.py", kind) for kind in kinds} | tune
