"""``onthemove index``: composite indices (INFORM Risk and others) computed from declarative definitions."""

from __future__ import annotations

from onthemove.cli.main import app  # noqa: F401  (commands are added to the main app)
