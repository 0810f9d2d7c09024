"""Roles, scopes, users, tokens and the tamper-evident audit log, on every engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import MOVEMENTS, PCODES, write
from typer.testing import CliRunner

from onthemove.access import audit
from onthemove.access.policy import ANONYMOUS, PERMISSIONS, ROLES, Forbidden, Principal, allowed, require
from onthemove.access.users import (
    UserError,
    add_user,
    disable_user,
    new_token,
    principal_for_login,
    principal_for_token,
)
from onthemove.analyse.query import Query
from onthemove.analyse.redact import redacted_totals
from onthemove.cli import main as cli_main
from onthemove.ingest.gazetteer import load_pcodes
from onthemove.ingest.pipeline import ingest
from onthemove.share import export_records
from onthemove.store import Store
from onthemove.store.batches import rollback


def test_policy_is_one_table() -> None:
    assert allowed(ANONYMOUS, "read_aggregates")
    assert not allowed(ANONYMOUS, "read_unredacted")
    assert ANONYMOUS.redacted
    assert not Principal("a", "analyst").redacted
    assert Principal("p", "analyst", ("XT01",)).redacted  # partners get redacted aggregates
    for role in ROLES:
        assert allowed(Principal("u", role), "upload") == (role in ("data_manager", "admin"))
    with pytest.raises(Forbidden, match="needs: admin, data_manager"):
        require(Principal("v", "viewer"), "upload")
    assert set(PERMISSIONS["manage_users"]) == {"admin"}


def test_users_tokens_and_logins(store: Store) -> None:
    add_user(store, "amina", "data_manager", password="correct horse")
    add_user(store, "partner", "viewer", scope="xt01, XT02")
    with pytest.raises(UserError, match="exists"):
        add_user(store, "amina", "viewer")
    with pytest.raises(UserError, match="unknown role"):
        add_user(store, "bob", "boss")
    token = new_token(store, "amina", label="laptop")
    assert token not in str(store.fetch("SELECT * FROM api_tokens"))  # only the hash is kept
    assert principal_for_token(store, token) == Principal("amina", "data_manager", None)
    assert principal_for_token(store, token + "x") is None
    assert principal_for_login(store, "amina", "correct horse") is not None
    assert principal_for_login(store, "amina", "wrong") is None
    assert principal_for_login(store, "partner", "") is None  # no password set: no dashboard login
    partner = principal_for_token(store, new_token(store, "partner"))
    assert partner is not None and partner.scope == ("XT01", "XT02")
    disable_user(store, "amina")
    assert principal_for_token(store, token) is None


def test_core_operations_are_audited_and_the_chain_verifies(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    report = ingest(store, write(tmp_path, "a.csv", MOVEMENTS), kind="movements", user="amina")
    export_records(store, "movements", tmp_path / "out.csv", fmt="csv", actor="analyst1")
    rollback(store, report.batch_id, actor="amina")
    actions = [(r[0], r[1]) for r in store.fetch("SELECT actor, action FROM audit_log ORDER BY seq")]
    assert ("amina", "upload") in actions
    assert ("analyst1", "export") in actions
    assert actions[-1] == ("amina", "rollback")
    verdict = audit.verify(store)
    assert verdict.ok and verdict.entries == len(actions)


@pytest.mark.parametrize(
    "tamper, reason",
    [
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2", "entry 2 was changed"),
        ("DELETE FROM audit_log WHERE seq = 2", "entry 2 is missing"),
        ("UPDATE audit_log SET detail = NULL WHERE seq = 3", "entry 3 was changed"),
    ],
)
def test_tampering_is_detected(store: Store, tamper: str, reason: str) -> None:
    for i in range(4):
        audit.record(store, "amina", "export", f"file{i}", {"rows": i})
    assert audit.verify(store).ok
    store.execute(tamper)
    verdict = audit.verify(store)
    assert not verdict.ok and reason in verdict.reason


def test_cli_audit_verify_exit_codes(store_location: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> object:
        try:
            return runner.invoke(cli_main.app, ["--store", store_location, *args])
        finally:
            cli_main.state.close()

    result = run("users", "add", "dm", "--role", "data_manager")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    token = run("users", "token", "dm").stdout.strip()  # type: ignore[attr-defined]
    assert token.startswith("otm_")
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "2 entries" in ok.stdout  # type: ignore[attr-defined]
    from onthemove.store import open_store

    with open_store(store_location) as s:
        s.execute("UPDATE audit_log SET target = 'x' WHERE seq = 1")
    bad = run("audit", "verify")
    assert bad.exit_code == 1 and "entry 1 was changed" in bad.stderr  # type: ignore[attr-defined]


def test_redacted_totals_suppress_small_cells_and_respect_scope(store: Store, tmp_path: Path) -> None:
    load_pcodes(store, write(tmp_path, "pcodes.csv", PCODES))
    ingest(store, write(tmp_path, "a.csv", MOVEMENTS), kind="movements")
    red = redacted_totals(store, Query(kind="movements", by=["adm2"]), threshold=25)
    cells = {r["adm2"]: (r["count"], r["suppressed"]) for r in red.rows()}
    assert cells["XT0202"] == (None, True)  # 7 + 11 = 18 < 25
    assert cells["XT0101"] == (220, False)
    assert cells["XT0201"] == (None, True)  # the complement: XT02's total (48) would give the 18 away
    assert red.suppressed == 2 and red.secondary == 1 and red.unprotectable == 0
    scoped = redacted_totals(store, Query(kind="movements", by=["adm2"], scope=("XT02",)), threshold=1)
    assert {r["adm2"] for r in scoped.rows()} == {"XT0201", "XT0202"}
