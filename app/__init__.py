"""Gradscape web application: FastAPI server, export renderers and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One home for the version: pyproject.toml, read back from the installed metadata.
    __version__ = version("gradscape")
except PackageNotFoundError:  # a checkout on sys.path without `pip install`
    __version__ = "0+unknown"
