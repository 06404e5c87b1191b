"""The library's version, ``mdn_src.__version__``, read once from the installed package.

A module of its own so that :mod:`mdn_src.model` (which writes the version into saved
files) and the package's ``__init__`` can both import it without importing each other.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    #: The installed distribution's version (``pyproject.toml``'s ``version``).
    VERSION: str = version("mdn_src")
except PackageNotFoundError:  # run from a source tree that was never pip-installed
    VERSION = "0+unknown"

__version__ = VERSION

__all__ = ["VERSION", "__version__"]
