"""The registry's vocabularies, declared once: purposes, consent methods, vulnerabilities, age bands, and the
errors it raises. ``docs/registry.md`` lists the same words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# what a household may consent to; reading identifying data names one of these, and the consent must cover it
PURPOSES = ("assistance", "protection", "referral", "follow_up", "durable_solutions", "research")
ASSISTANCE = "assistance"  # the purpose a distribution needs
CONSENT_METHODS = ("verbal", "signed", "thumbprint", "digital")
SEXES = ("f", "m", "other")
RELATIONSHIPS = ("head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other_relative", "other")
VULNERABILITIES = (
    "disability",
    "chronic_illness",
    "pregnant_lactating",
    "female_headed",
    "child_headed",
    "older_person_headed",
    "unaccompanied_minor",
    "separated_child",
    "single_parent",
    "survivor",
)
AGE_BANDS = ("0-4", "5-17", "18-59", "60+")
ACTIVE, WITHDRAWN = "active", "withdrawn"

# the tables of the protected personal-data schema (docs/registry.md): never exported as they are
PERSONAL_TABLES = ("households", "members", "consents")
# identifying columns: ciphertext, erased on withdrawal
HOUSEHOLD_ENCRYPTED = ("head_name_enc", "phone_enc", "address_enc")
MEMBER_ENCRYPTED = ("name_enc", "birth_date_enc", "document_enc")


def age_band(age: int) -> str:
    if age < 5:
        return "0-4"
    if age < 18:
        return "5-17"
    if age < 60:
        return "18-59"
    return "60+"


def age_in(birth_year: int, on: dt.date) -> int:
    """Age in completed years at ``on`` when only the birth year is known (counted from mid-year)."""
    return max(0, on.year - birth_year - (1 if on.month < 7 else 0))


class RegistryError(ValueError):
    """Something the registry refuses; the message says why and what to do."""


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused. ``value`` is only ever set for non-identifying columns."""

    file: str
    row: int | None
    column: str | None
    expected: str
    value: str | None = None
    sheet: str | None = None

    def __str__(self) -> str:
        where = self.file + (f" [{self.sheet}]" if self.sheet else "")
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        got = f" (found {self.value!r})" if self.value is not None else ""
        return f"{where}: expected {self.expected}{got}"


@dataclass(eq=False)
class Refused(RegistryError):
    """A file was refused as a whole: nothing of it was stored."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{self.file} refused, nothing stored: {len(self.problems)} problem(s)"
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        return f"{head}\n{shown}{more}"
