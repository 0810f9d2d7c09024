"""Reading one household: pseudonymised (``read_registry``) or with its identifying fields decrypted
(``read_personal``, for a purpose its consent covers, within its retention period). Every read is audited,
and so is every refused attempt to read identifying fields: the data-protection officer sees both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from onthemove.access import audit
from onthemove.access.policy import Forbidden, Principal, allowed, require
from onthemove.respond.registry.crypto import Cipher
from onthemove.respond.registry.guard import check_keys, today
from onthemove.respond.registry.keys import RegistryKeys
from onthemove.respond.registry.model import ACTIVE, PURPOSES, RegistryError
from onthemove.store.base import Store

_HOUSEHOLD = (
    "SELECT h.household_id, h.site_id, h.place, h.size, h.head_sex, h.head_age_band, h.vulnerabilities, "
    "h.registered_at, h.registered_by, h.retention_until, h.status, h.batch_id, c.consent_id, c.purposes, "
    "c.given_at, c.taken_by, c.method, c.withdrawn_at, h.head_name_enc, h.phone_enc, h.address_enc "
    "FROM households h LEFT JOIN consents c ON c.consent_id = h.consent_id WHERE h.household_id = $id"
)
_MEMBERS = (
    "SELECT member_id, relationship, sex, birth_year, age_band, disability, name_enc, birth_date_enc, document_enc "
    "FROM members WHERE household_id = $id ORDER BY relationship = 'head' DESC, birth_year, member_id"
)
PUBLIC_HOUSEHOLD = (
    "household_id",
    "site_id",
    "place",
    "size",
    "head_sex",
    "head_age_band",
    "vulnerabilities",
    "registered_at",
    "retention_until",
    "status",
)


def in_scope(store: Store, principal: Principal, place: str | None) -> bool:
    """Whether a place lies in the principal's scope (P-codes nest by prefix; the gazetteer decides first)."""
    if principal.scope is None:
        return True
    if place is None:
        return False
    row = store.fetch_one(
        "SELECT count(*) FROM places p WHERE p.pcode = $place AND (list_contains($scope, p.adm0) OR "
        "list_contains($scope, p.adm1) OR list_contains($scope, p.adm2) OR list_contains($scope, p.adm3) OR "
        "list_contains($scope, p.pcode))",
        {"place": place, "scope": list(principal.scope)},
    )
    return bool(row and row[0]) or any(place.startswith(code) for code in principal.scope)


def scope_checker(store: Store, principal: Principal) -> Callable[[str | None], bool]:
    """``in_scope`` for many places: each place is asked once."""
    memo: dict[str | None, bool] = {}

    def check(place: str | None) -> bool:
        if principal.scope is None:
            return True
        if place not in memo:
            memo[place] = in_scope(store, principal, place)
        return memo[place]

    return check


def _fetch(store: Store, principal: Principal, household_id: str) -> dict[str, Any]:
    household_id = household_id.strip().upper()
    rows = store.fetch_dicts(_HOUSEHOLD, {"id": household_id})
    if not rows or not in_scope(store, principal, rows[0]["place"]):
        raise RegistryError(f"no household {household_id!r} (or not in your scope)")
    return rows[0]


def household(store: Store, principal: Principal, household_id: str) -> dict[str, Any]:
    """The pseudonymised record: no identifying field, members by pseudonym with sex and age band."""
    require(principal, "read_registry")
    row = _fetch(store, principal, household_id)
    out = {k: row[k] for k in PUBLIC_HOUSEHOLD}
    out["consent"] = {k: row[k] for k in ("consent_id", "purposes", "given_at", "method", "withdrawn_at")}
    out["members"] = [
        {k: m[k] for k in ("member_id", "relationship", "sex", "age_band", "disability")}
        for m in store.fetch_dicts(_MEMBERS, {"id": row["household_id"]})
    ]
    audit.record(store, principal.label(), "registry.view", row["household_id"])
    return out


def identify(
    store: Store,
    keys: RegistryKeys,
    principal: Principal,
    household_id: str,
    purpose: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The record with its identifying fields decrypted, for ``purpose``; refused (and the refusal audited)
    when the role, the consent, its withdrawal or the retention date does not allow it."""
    actor = principal.label()
    target = household_id.strip().upper()

    def refuse(why: str, exc: type[Exception] = RegistryError) -> NoReturn:
        audit.record(store, actor, "registry.read_refused", target, {"purpose": purpose, "why": why})
        raise exc(why)

    if not allowed(principal, "read_personal"):
        try:
            require(principal, "read_personal")
        except Forbidden as exc:
            refuse(str(exc), Forbidden)
    if purpose not in PURPOSES:
        raise RegistryError(f"unknown purpose {purpose!r}; purposes: {', '.join(PURPOSES)}")
    row = _fetch(store, principal, target)
    if row["status"] != ACTIVE or row["withdrawn_at"] is not None:
        refuse(
            f"{target} withdrew its consent on {row['withdrawn_at']}: its identifying fields were erased; the "
            "pseudonymous record is kept for counts"
        )
    if row["retention_until"] < today():
        refuse(f"{target} is past its retention date ({row['retention_until']}): `onthemove registry purge` deletes it")
    covered = str(row["purposes"] or "").split()
    if purpose not in covered:
        refuse(f"the consent of {target} covers {', '.join(covered) or 'nothing'}, not {purpose}", Forbidden)
    check_keys(store, keys, pseudonym=False, record=False)
    cipher = Cipher(keys.encryption)
    hid = row["household_id"]
    out = {k: row[k] for k in PUBLIC_HOUSEHOLD}
    out["consent"] = {k: row[k] for k in ("consent_id", "purposes", "given_at", "taken_by", "method")}
    for field in ("head_name", "phone", "address"):
        out[field] = cipher.decrypt(row[f"{field}_enc"], f"households.{field}_enc.{hid}")
    members = []
    for m in store.fetch_dicts(_MEMBERS, {"id": hid}):
        mid = m["member_id"]
        item = {k: m[k] for k in ("member_id", "relationship", "sex", "birth_year", "age_band", "disability")}
        item["name"] = cipher.decrypt(m["name_enc"], f"members.name_enc.{mid}")
        item["birth_date"] = cipher.decrypt(m["birth_date_enc"], f"members.birth_date_enc.{mid}")
        doc = cipher.decrypt(m["document_enc"], f"members.document_enc.{mid}")
        item["id_document_type"], item["id_document"] = doc.split(":", 1) if doc else (None, None)
        item["id_document_type"] = item["id_document_type"] or None
        members.append(item)
    out["members"] = members
    audit.record(
        store,
        actor,
        "registry.read",
        hid,
        {"purpose": purpose, "reason": reason, "fields": ["head_name", "phone", "address", "members"]},
    )
    return out
