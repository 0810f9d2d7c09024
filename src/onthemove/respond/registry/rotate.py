"""Key rotation: every identifying field decrypted with the current key and encrypted again with a new one, in
one transaction, audited. Afterwards point ``registry_key_file`` at the new key and destroy the old one: old
backups of the store and any ciphertext left in free pages of the database file become unreadable with it.

The pseudonymisation key is not rotated: a new one would give every household a new ID (docs/registry.md).
"""

from __future__ import annotations

from onthemove.access import audit
from onthemove.access.policy import Principal, require
from onthemove.respond.registry.crypto import Cipher
from onthemove.respond.registry.guard import check_keys, now
from onthemove.respond.registry.keys import RegistryKeyError, RegistryKeys, key_id
from onthemove.respond.registry.model import HOUSEHOLD_ENCRYPTED, MEMBER_ENCRYPTED
from onthemove.store.base import Store

TABLES = (("households", "household_id", HOUSEHOLD_ENCRYPTED), ("members", "member_id", MEMBER_ENCRYPTED))


def rotate_key(store: Store, keys: RegistryKeys, new_key: bytes, principal: Principal) -> dict[str, int]:
    """Re-encrypt every identifying field under ``new_key``; returns the fields re-encrypted per table."""
    require(principal, "rotate_keys")
    check_keys(store, keys, record=False)
    RegistryKeys(new_key, keys.pseudonym)  # checks length, and that it differs from the pseudonymisation key
    if new_key == keys.encryption:
        raise RegistryKeyError("the new key is the current key")
    old, new = Cipher(keys.encryption), Cipher(new_key)
    counts: dict[str, int] = {}
    with store.transaction():
        for table, id_col, columns in TABLES:
            done = 0
            rows = store.fetch(f"SELECT {id_col}, {', '.join(columns)} FROM {table}")
            for rid, *values in rows:
                params: dict[str, object] = {"id": rid}
                for col, value in zip(columns, values, strict=True):
                    context = f"{table}.{col}.{rid}"
                    params[col] = new.encrypt(old.decrypt(value, context), context)
                    done += value is not None
                sets = ", ".join(f"{c} = ${c}" for c in columns)
                store.execute(f"UPDATE {table} SET {sets} WHERE {id_col} = $id", params)
            counts[table] = done
        store.execute(
            "UPDATE registry_keys SET key_id = $k, since = $t WHERE purpose = 'encryption'",
            {"k": key_id(new_key), "t": now()},
        )
        store.execute(
            "INSERT INTO registry_keys SELECT 'encryption', $k, $t WHERE NOT EXISTS "
            "(SELECT 1 FROM registry_keys WHERE purpose = 'encryption')",
            {"k": key_id(new_key), "t": now()},
        )
        audit.record(
            store,
            principal.label(),
            "registry.rotate_key",
            None,
            {"from": key_id(keys.encryption), "to": key_id(new_key), **counts},
        )
    return counts
