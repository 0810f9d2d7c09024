"""Simulated against observed people per camp, as one self-contained SVG (small multiples, no dependency)."""

from __future__ import annotations

import datetime as dt
from html import escape

import numpy as np

WIDTH = 300
HEIGHT = 170
PAD = 34


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(zip(xs, ys, strict=True)))


def camps_svg(
    camp_names: list[str],
    simulated: np.ndarray,
    observed: np.ndarray | None,
    start: dt.date,
    title: str,
    columns: int = 3,
) -> str:
    """One panel per camp: the simulated line (red) and the observed one (blue), days on x, people on y."""
    n = len(camp_names)
    rows = max(1, -(-n // columns))
    w, h = columns * WIDTH, rows * HEIGHT + 40
    days = simulated.shape[0]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<text x="8" y="33" fill="#555">red: simulated, blue: observed; {days} days from {start.isoformat()}</text>',
    ]
    for i, name in enumerate(camp_names):
        ox = (i % columns) * WIDTH
        oy = 40 + (i // columns) * HEIGHT
        sim = simulated[:, i]
        obs = observed[:, i] if observed is not None else None
        top = float(max(sim.max(), obs.max() if obs is not None else 0.0, 1.0))
        x0, x1 = ox + PAD + 10, ox + WIDTH - 10
        y0, y1 = oy + HEIGHT - 22, oy + 20
        xs = x0 + (x1 - x0) * np.arange(days) / max(days - 1, 1)

        def y(v: np.ndarray, y0: float = y0, y1: float = y1, top: float = top) -> np.ndarray:
            return y0 - (y0 - y1) * v / top

        parts.append(f'<text x="{ox + 8}" y="{oy + 12}" font-weight="bold">{escape(name)}</text>')
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#999"/>')
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#999"/>')
        parts.append(f'<text x="{x0 - 4}" y="{y1 + 4}" text-anchor="end" fill="#555">{top:,.0f}</text>')
        parts.append(f'<text x="{x0 - 4}" y="{y0 + 4}" text-anchor="end" fill="#555">0</text>')
        parts.append(f'<text x="{x1}" y="{y0 + 14}" text-anchor="end" fill="#555">day {days - 1}</text>')
        if obs is not None:
            parts.append(f'<path d="{_path(xs, y(obs))}" fill="none" stroke="#1f5fbf" stroke-width="1.5"/>')
        parts.append(f'<path d="{_path(xs, y(sim))}" fill="none" stroke="#c8332b" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "\n".join(parts)
