"""Where the files the server sends live: one home that app.main and the routers read.

The source tree keeps `static/` and `templates/` at the top level, beside `app/` (the
spec's layout). The wheel carries them inside the `app` package as `app/static` and
`app/templates` (pyproject.toml maps them there with `package-dir`), so an installed copy
finds them next to its own code with importlib.resources, from any working directory, and
never depends on a checkout or on the current directory.

The API docs' Swagger UI bundle comes from the installed `fastapi-offline` package, so
/docs works without internet.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


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


def _docs_assets_dir() -> Path:
    found = _package_dir("fastapi_offline", "static")
    if found is None:  # a fastapi-offline that moved its bundles: fail loudly, not a blank /docs
        raise RuntimeError("fastapi-offline's static/ directory (Swagger UI) is missing")
    return found


DOCS_ASSETS_DIR: Path = _docs_assets_dir()
"""Swagger UI's JavaScript and CSS, served under /vendor/docs."""
