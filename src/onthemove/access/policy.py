"""Authorisation, decided here and nowhere else.

A ``Principal`` is who is asking: a user with a role and an optional place scope, or nobody
(anonymous). ``allowed`` answers whether they may perform an action; handlers call ``require``
and never look at roles themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("viewer", "analyst", "data_manager", "dpo", "admin")

# action -> roles that may perform it; "anonymous" is the principal without a user
PERMISSIONS: dict[str, frozenset[str]] = {
    "read_aggregates": frozenset({"anonymous", *ROLES}),  # redacted unless read_unredacted
    "read_unredacted": frozenset({"analyst", "data_manager", "dpo", "admin"}),
    "read_records": frozenset({"analyst", "data_manager", "dpo", "admin"}),  # row level: audited
    "read_batches": frozenset({"analyst", "data_manager", "dpo", "admin"}),
    "upload": frozenset({"data_manager", "admin"}),
    "rollback": frozenset({"data_manager", "admin"}),
    "export": frozenset({"analyst", "data_manager", "dpo", "admin"}),
    "read_audit": frozenset({"dpo", "admin"}),
    "manage_users": frozenset({"admin"}),
    # the registry of households (personal data, docs/registry.md); admin is left out on purpose: managing
    # users does not entitle anyone to read who was registered
    "register": frozenset({"data_manager"}),  # import registrations and distribution lists, roll them back
    "read_registry": frozenset({"analyst", "data_manager", "dpo"}),  # pseudonymised rows and exports: audited
    "read_personal": frozenset({"data_manager", "dpo"}),  # decrypted identifying fields, for a consented purpose
    "erase_personal": frozenset({"data_manager", "dpo"}),  # record a withdrawal of consent, purge past retention
    "rotate_keys": frozenset({"dpo"}),  # re-encrypt every identifying field under a new key
}


class Forbidden(PermissionError):
    """The principal may not do this; the message says which role would."""


@dataclass(frozen=True)
class Principal:
    username: str | None
    role: str | None
    scope: tuple[str, ...] | None = None  # P-codes: the areas (and everything inside them) they may see

    @property
    def anonymous(self) -> bool:
        return self.username is None

    @property
    def kind(self) -> str:
        return "anonymous" if self.role is None else self.role

    @property
    def redacted(self) -> bool:
        """Anonymous users and partners (anyone with a place scope) only get redacted aggregates."""
        return not allowed(self, "read_unredacted") or self.scope is not None

    def label(self) -> str:
        return self.username or "anonymous"


ANONYMOUS = Principal(None, None)


def allowed(principal: Principal, action: str) -> bool:
    try:
        return principal.kind in PERMISSIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}") from None


def require(principal: Principal, action: str) -> None:
    if not allowed(principal, action):
        who = ", ".join(sorted(PERMISSIONS[action] - {"anonymous"}))
        raise Forbidden(f"{principal.label()} ({principal.kind}) may not {action.replace('_', ' ')}; needs: {who}")


def parse_scope(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    codes = tuple(sorted({c.strip().upper() for c in text.replace(";", ",").split(",") if c.strip()}))
    return codes or None
