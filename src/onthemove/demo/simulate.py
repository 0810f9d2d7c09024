"""Demoland's story, month by month: rain, conflict, and the people they move.

* Rainfall: two rainy seasons (April-May, October-November); Belmoor loses three seasons in a
  row to drought, Corvana floods once.
* Conflict: a low background of events everywhere, then a flare-up in Dunmere over the last
  three months.
* Displacement: each district's departures (by reason) follow those drivers; people mostly stay
  in their own district or region; the IDP stock is last month's, minus returns, plus arrivals.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from onthemove.demo.geography import Area

END = dt.date(2026, 10, 31)  # fixed, so the same seed always gives the same files
MONTHS = 36
REASONS = ("conflict", "drought", "flood", "other")
DROUGHT_REGION, FLOOD_REGION, FLARE_REGION = 1, 2, 3  # Belmoor, Corvana, Dunmere
DROUGHT_MONTHS = range(8, 27)  # July 2024 - January 2026: three failed rainy seasons
FLOOD_MONTHS = (17, 18)  # April-May 2025
FLARE = (3.0, 6.0, 10.0)  # conflict rate multipliers over the last three months
# mean rainfall (mm) by calendar month, January first
CLIMATE = np.array([5, 5, 20, 95, 120, 35, 10, 10, 20, 85, 95, 30], dtype=float)


def month_ends(end: dt.date = END, months: int = MONTHS) -> list[dt.date]:
    out = []
    y, m = end.year, end.month
    for _ in range(months):
        out.append(dt.date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


@dataclass
class Event:
    month: int
    district: int
    day: dt.date
    fatalities: int


@dataclass
class World:
    regions: list[Area]
    districts: list[Area]
    months: list[dt.date]
    rain: np.ndarray  # (month, region) mm
    pressure: np.ndarray  # (month, region) drought pressure 0..1
    events: list[Event]
    flows: np.ndarray  # (month, origin district, destination district, reason) people
    stock: np.ndarray  # (month, district) IDPs present
    female: np.ndarray  # (month, district) of which women and girls
    region_of: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # district -> region index


def _rainfall(rng: np.random.Generator, months: list[dt.date], n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    normal = CLIMATE[[m.month - 1 for m in months]][:, None] * rng.uniform(0.7, 1.3, n_regions)[None, :]
    rain = normal * rng.lognormal(0.0, 0.25, normal.shape)
    rain[list(DROUGHT_MONTHS), DROUGHT_REGION] *= 0.3
    rain[list(FLOOD_MONTHS), FLOOD_REGION] *= 2.6
    return np.round(rain, 1), normal


def _pressure(rain: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Six-month rainfall deficit against normal, 0 (normal or wetter) to 1 (no rain at all)."""
    out = np.zeros_like(rain)
    for t in range(len(rain)):
        lo = max(0, t - 5)
        out[t] = np.clip(1 - rain[lo : t + 1].sum(0) / normal[lo : t + 1].sum(0), 0, 1)
    return out


def _destinations(centres: np.ndarray, region_of: np.ndarray) -> np.ndarray:
    """(origin, destination) probabilities: mostly home district, then the same region, then neighbours."""
    dist = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
    w = np.exp(-dist / 0.8) * np.where(region_of[:, None] == region_of[None, :], 3.0, 1.0)
    np.fill_diagonal(w, 0.0)
    keep = np.argsort(-w, axis=1)[:, :6]  # six destinations besides home
    p = np.zeros_like(w)
    rows = np.arange(len(w))[:, None]
    p[rows, keep] = w[rows, keep]
    p = 0.6 * p / p.sum(1, keepdims=True)
    np.fill_diagonal(p, 0.4)
    return p


def simulate(rng: np.random.Generator, areas: list[Area]) -> World:
    regions = [a for a in areas if a.level == 1]
    districts = [a for a in areas if a.level == 2]
    region_of = np.array([[r.pcode for r in regions].index(str(d.parent)) for d in districts])
    months = month_ends()
    n_t, n_d = len(months), len(districts)
    rain, normal = _rainfall(rng, months, len(regions))
    pressure = _pressure(rain, normal)
    population = rng.integers(80_000, 450_000, n_d)

    rate = np.tile(rng.uniform(0.3, 1.5, n_d), (n_t, 1))
    for k, factor in enumerate(FLARE):
        rate[n_t - len(FLARE) + k, region_of == FLARE_REGION] *= factor
    n_events = rng.poisson(rate)
    events = [
        Event(t, d, months[t].replace(day=int(rng.integers(1, months[t].day + 1))), int(rng.geometric(0.35) - 1))
        for t in range(n_t)
        for d in range(n_d)
        for _ in range(n_events[t, d])
    ]

    lagged = np.vstack((pressure[:1], pressure[:-1]))[:, region_of]  # people leave a month after the rains fail
    excess = np.clip(rain - 1.3 * normal - 20, 0, None)[:, region_of] / 100  # floods: rain well above normal
    departures = np.stack(
        (
            rng.poisson(40 + 250 * n_events),
            rng.poisson(5 + population * 0.003 * lagged**1.5),
            rng.poisson(population * 0.015 * excess),
            rng.poisson(np.full((n_t, n_d), 20)),
        ),
        axis=-1,
    )
    centres = np.array([[d.geometry.centroid.x, d.geometry.centroid.y] for d in districts])
    p = _destinations(centres, region_of)
    flows = np.zeros((n_t, n_d, n_d, len(REASONS)), dtype=np.int64)
    for t in range(n_t):
        for o in range(n_d):
            for k in range(len(REASONS)):
                flows[t, o, :, k] = rng.multinomial(departures[t, o, k], p[o])

    arrivals = flows.sum(axis=(1, 3))
    stock = np.zeros((n_t, n_d), dtype=np.int64)
    previous = (population * rng.uniform(0.03, 0.1, n_d)).astype(np.int64)
    for t in range(n_t):
        previous = rng.binomial(previous, 0.975) + arrivals[t]
        stock[t] = previous
    female = rng.binomial(stock, rng.uniform(0.51, 0.55, n_d)[None, :])
    return World(regions, districts, months, rain, pressure, events, flows, stock, female, region_of)
