"""The batch report: what was read, loaded and rejected, and why. Printed as a table or JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_LISTED = 200


@dataclass
class BatchReport:
    batch_id: str
    kind: str
    source_file: str
    sha256: str
    status: str  # loaded | unchanged | refused
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    records_loaded: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    rejection_summary: list[dict[str, Any]] = field(default_factory=list)
    unmatched_places: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapping: str | None = None
    attribution: str | None = None
    licence: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchReport:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
