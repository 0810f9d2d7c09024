"""``onthemove forecast``, ``onthemove backtest`` and ``onthemove triggers``: the foresight commands."""

from __future__ import annotations

from onthemove.cli.main import app  # noqa: F401  (commands are added to the main app)
