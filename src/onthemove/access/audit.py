"""The audit log: append-only, each entry chained to the previous one's hash.

Editing, deleting or reordering an entry breaks the chain from that entry on, which
``verify`` finds. (Someone who can rewrite the whole table can rewrite the chain too: ship the
latest hash elsewhere, e.g. in each export's metadata, to anchor it.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onthemove.store.base import Store

GENESIS = "0" * 64


def _digest(prev_hash: str, seq: int, at: str, actor: str, action: str, target: str | None, detail: str | None) -> str:
    body = json.dumps([prev_hash, seq, at, actor, action, target, detail], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def record(store: Store, actor: str, action: str, target: str | None = None, detail: Any = None) -> int:
    """Append one entry; returns its sequence number. Joins the caller's transaction if any."""
    text = None if detail is None else json.dumps(detail, sort_keys=True, default=str)
    at = datetime.now(UTC).replace(tzinfo=None)
    for _attempt in range(5):  # two writers may race for the same sequence number: retry
        try:
            with store.transaction():
                last = store.fetch_one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
                digest = _digest(prev, seq, at.isoformat(), actor, action, target, text)
                store.execute(
                    "INSERT INTO audit_log VALUES ($seq, $at, $actor, $action, $target, $detail, $prev, $hash)",
                    {
                        "seq": seq,
                        "at": at,
                        "actor": actor,
                        "action": action,
                        "target": target,
                        "detail": text,
                        "prev": prev,
                        "hash": digest,
                    },
                )
            return seq
        except Exception as exc:  # a unique-key clash on seq: someone else appended first
            if "duplicate" not in str(exc).lower() and "constraint" not in str(exc).lower():
                raise
    raise RuntimeError("could not append to the audit log after 5 attempts")


@dataclass
class Verdict:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


def verify(store: Store) -> Verdict:
    rows = store.fetch(
        "SELECT seq, logged_at, actor, action, target, detail, prev_hash, hash FROM audit_log ORDER BY seq"
    )
    prev = GENESIS
    for i, (seq, at, actor, action, target, detail, prev_hash, digest) in enumerate(rows, start=1):
        if int(seq) != i:
            return Verdict(False, len(rows), int(seq), f"entry {i} is missing (found {seq} in its place)")
        if prev_hash != prev:
            return Verdict(False, len(rows), i, f"entry {i} does not follow entry {i - 1}")
        at_text = at.isoformat() if hasattr(at, "isoformat") else str(at)
        if _digest(prev_hash, i, at_text, actor, action, target, detail) != digest:
            return Verdict(False, len(rows), i, f"entry {i} was changed after it was written")
        prev = digest
    return Verdict(True, len(rows))


def entries(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    return store.fetch_dicts(
        "SELECT seq, logged_at, actor, action, target, detail FROM audit_log ORDER BY seq DESC LIMIT $n", {"n": limit}
    )
