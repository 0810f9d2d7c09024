"""The installed package's version (``onthemove`` declares it once, in pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("onthemove")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0.0.0"
