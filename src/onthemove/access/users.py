"""Users, passwords (scrypt) and API tokens (random, stored as SHA-256 hashes only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from onthemove.access.audit import record
from onthemove.access.policy import ROLES, Principal, parse_scope
from onthemove.store.base import Store

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class UserError(ValueError):
    pass


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, key = stored.split("$")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)).split("$")[2], key)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    store: Store, username: str, role: str, scope: str | None = None, password: str | None = None, actor: str = "cli"
) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise UserError("a user name is letters, digits, '.', '-' or '_'")
    if store.fetch_one("SELECT 1 FROM users WHERE username = $u", {"u": username}):
        raise UserError(f"user {username!r} exists already")
    codes = parse_scope(scope)
    with store.transaction():
        store.execute(
            "INSERT INTO users VALUES ($u, $r, $s, $p, $t, false)",
            {
                "u": username,
                "r": role,
                "s": ",".join(codes) if codes else None,
                "p": hash_password(password) if password else None,
                "t": _now(),
            },
        )
        record(store, actor, "user.add", username, {"role": role, "scope": codes})


def set_password(store: Store, username: str, password: str, actor: str = "cli") -> None:
    _get(store, username)
    with store.transaction():
        store.execute(
            "UPDATE users SET password_hash = $p WHERE username = $u", {"p": hash_password(password), "u": username}
        )
        record(store, actor, "user.password", username)


def disable_user(store: Store, username: str, actor: str = "cli") -> None:
    _get(store, username)
    with store.transaction():
        store.execute("UPDATE users SET disabled = true WHERE username = $u", {"u": username})
        store.execute("UPDATE api_tokens SET revoked = true WHERE username = $u", {"u": username})
        record(store, actor, "user.disable", username)


def new_token(store: Store, username: str, label: str | None = None, actor: str = "cli") -> str:
    """A fresh API token; it is shown once and only its hash is kept."""
    _get(store, username)
    token = "otm_" + secrets.token_urlsafe(32)
    with store.transaction():
        store.execute(
            "INSERT INTO api_tokens VALUES ($h, $u, $l, $t, false)",
            {"h": token_hash(token), "u": username, "l": label, "t": _now()},
        )
        record(store, actor, "token.new", username, {"label": label})
    return token


def list_users(store: Store) -> list[dict[str, Any]]:
    return store.fetch_dicts(
        "SELECT u.username, u.role, u.scope, u.disabled, u.created_at, "
        "(SELECT count(*) FROM api_tokens t WHERE t.username = u.username AND NOT t.revoked) AS tokens "
        "FROM users u ORDER BY u.username"
    )


def _get(store: Store, username: str) -> tuple[Any, ...]:
    row = store.fetch_one("SELECT username, role, scope, disabled FROM users WHERE username = $u", {"u": username})
    if not row:
        raise UserError(f"no user {username!r}; `onthemove users list` shows them")
    return row


def principal_for_token(store: Store, token: str) -> Principal | None:
    row = store.fetch_one(
        "SELECT u.username, u.role, u.scope FROM api_tokens t JOIN users u ON u.username = t.username "
        "WHERE t.token_hash = $h AND NOT t.revoked AND NOT u.disabled",
        {"h": token_hash(token)},
    )
    return Principal(row[0], row[1], parse_scope(row[2])) if row else None


def principal_for_login(store: Store, username: str, password: str) -> Principal | None:
    row = store.fetch_one(
        "SELECT username, role, scope, password_hash FROM users WHERE username = $u AND NOT disabled",
        {"u": username},
    )
    if not row or not check_password(password, row[3]):
        return None
    return Principal(row[0], row[1], parse_scope(row[2]))
