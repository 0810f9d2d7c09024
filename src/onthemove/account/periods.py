"""Reporting periods as M&E officers write them: a year (2021), a quarter (2021-Q3), a month (2021-06), or a
range of any of these (2021-01..2021-06)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass


class PeriodError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def months(self) -> list[dt.date]:
        out, m = [], self.start.replace(day=1)
        while m <= self.end:
            out.append(m)
            m = _add_months(m, 1)
        return out

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        n = len(self.months())
        start = _add_months(self.start.replace(day=1), -n)
        end = self.start - dt.timedelta(days=1)
        return Period(start, end, f"{start:%Y-%m}..{end:%Y-%m}")


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day.replace(day=1), 1) - dt.timedelta(days=1)


_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _one(text: str) -> Period:
    t = text.strip()
    if m := _YEAR.match(t):
        y = int(m[1])
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), t)
    if m := _QUARTER.match(t):
        y, q = int(m[1]), int(m[2])
        start = dt.date(y, 3 * q - 2, 1)
        return Period(start, _month_end(_add_months(start, 2)), f"{y}-Q{q}")
    if m := _MONTH.match(t):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise PeriodError(f"month {mo} of {t!r} is not 1 to 12")
        start = dt.date(y, mo, 1)
        return Period(start, _month_end(start), t)
    if m := _DAY.match(t):
        try:
            day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as exc:
            raise PeriodError(f"{t!r} is not a date: {exc}") from None
        return Period(day, day, t)
    raise PeriodError(f"a period as YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD or FROM..TO, got {text!r}")


def parse_period(text: str) -> Period:
    """``2021``, ``2021-Q3``, ``2021-06``, ``2021-06-30`` or ``FROM..TO`` of any of these."""
    if ".." in text:
        a, b = text.split("..", 1)
        first, last = _one(a), _one(b)
        if last.end < first.start:
            raise PeriodError(f"the period {text!r} ends before it starts")
        return Period(first.start, last.end, f"{first.label}..{last.label}")
    return _one(text)


def from_dates(start: dt.date, end: dt.date | None) -> Period:
    """A period from a start and an optional end date (a missing end: the start's month)."""
    end = end or _month_end(start)
    if end < start:
        raise PeriodError(f"the period {start} to {end} ends before it starts")
    if start.day == 1 and end == _month_end(start):
        return Period(start, end, f"{start:%Y-%m}")
    if start == dt.date(start.year, 1, 1) and end == dt.date(start.year, 12, 31):
        return Period(start, end, f"{start.year}")
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")
