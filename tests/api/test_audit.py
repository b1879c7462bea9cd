"""The audit log: every audited action chains; ``credit audit verify`` finds edits, insertions,
deletions (the last entry too) and a forged anchor."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from api_service import P1, Service
from typer.testing import CliRunner

from api.cli import app
from scoring.audit import AuditLog, entry_hash
from scoring.db.engine import make_sessionmaker
from scoring.db.tables import AuditEntry
from scoring.settings import get_settings

LOG = AuditEntry.__table__


@pytest.fixture
def cli(seeded: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CREDIT_DATABASE_URL", seeded.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CREDIT_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def audited(service: Service) -> None:
    """Reads and changes: file reads, a consent granted and revoked."""
    me = service.auth(service.citizen(P1))
    service.client.get("/v1/me/file", headers=me)
    c = service.client.post(
        "/v1/me/consents",
        json={
            "bank": "citybank",
            "purpose": "credit_loan",
            "valid_from": "2026-01-01",
            "valid_to": "2028-12-31",
        },
        headers=me,
    )
    assert c.status_code == 201, c.text
    service.client.delete(f"/v1/me/consents/{c.json()['id']}", headers=me)


def verify(cli: CliRunner) -> tuple[int, str]:
    r = cli.invoke(app, ["audit", "verify"])
    return r.exit_code, r.output


def rows(engine: sa.Engine) -> list[dict[str, object]]:
    with engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(LOG).order_by(LOG.c.seq)).mappings()]


def test_actions_are_chained_and_verify(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    entries = rows(seeded.engine)
    actions = [e["action"] for e in entries]
    assert actions.count("api_key.issue") == 4 and actions.count("batch.ingest") == 2
    assert actions[-3:] == ["credit.read", "consent.grant", "consent.revoke"]
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    pseudonym = seeded.pseudonym(P1)
    assert entries[-1]["subject_ref"] == pseudonym and P1 not in str(entries)
    code, out = verify(cli)
    assert code == 0 and f"{len(entries)} entries" in out
    r = seeded.client.get("/v1/admin/audit/verify", headers=seeded.auth(seeded.admin)).json()
    assert r["ok"] and r["entries"] == len(entries)


def _execute(engine: sa.Engine, sql: str, **params: object) -> None:
    with engine.begin() as c:
        c.execute(sa.text(sql), params)


def test_an_edited_entry_is_found(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    _execute(seeded.engine, "UPDATE audit_log SET actor = 'admin:someone-else' WHERE seq = 3")
    code, out = verify(cli)
    assert code == 1 and "seq 3: hash does not match" in out


def test_an_edited_and_rehashed_entry_breaks_the_next_link(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    e = rows(seeded.engine)[2]
    new = entry_hash(3, e["recorded_at"], "admin:x", e["action"], e["subject_ref"],  # type: ignore[arg-type]
                     e["details_digest"], e["request_id"], e["prev_hash"])  # type: ignore[arg-type]  # fmt: skip
    _execute(seeded.engine, "UPDATE audit_log SET actor = 'admin:x', hash = :h WHERE seq = 3", h=new)
    code, out = verify(cli)
    assert code == 1 and "seq 4: prev_hash does not match" in out


def test_the_last_entry_rehashed_disagrees_with_the_anchor(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    e = rows(seeded.engine)[-1]
    new = entry_hash(e["seq"], e["recorded_at"], "admin:x", e["action"], e["subject_ref"],  # type: ignore[arg-type]
                     e["details_digest"], e["request_id"], e["prev_hash"])  # type: ignore[arg-type]  # fmt: skip
    _execute(
        seeded.engine, "UPDATE audit_log SET actor = 'admin:x', hash = :h WHERE seq = :s", h=new, s=e["seq"]
    )
    code, out = verify(cli)
    assert code == 1 and "anchor names seq" in out


def test_a_deleted_entry_is_found(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    _execute(seeded.engine, "DELETE FROM audit_log WHERE seq = 2")
    code, out = verify(cli)
    assert code == 1 and "seq 3: expected seq 2" in out and "seq 3: prev_hash" in out


def test_deleting_the_last_entry_is_found(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    last = rows(seeded.engine)[-1]["seq"]
    _execute(seeded.engine, "DELETE FROM audit_log WHERE seq = :s", s=last)
    code, out = verify(cli)
    assert code == 1 and f"anchor names seq {last} but the log ends at seq {int(last) - 1}" in out  # type: ignore[call-overload]


def test_an_inserted_entry_is_found(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    entries = rows(seeded.engine)
    # Shift the tail up by one and put a forged entry, correctly hashed and linked, in the gap.
    with seeded.engine.begin() as c:
        for e in reversed(entries[3:]):
            c.execute(sa.text("UPDATE audit_log SET seq = seq + 1 WHERE seq = :s"), {"s": e["seq"]})
        prev = entries[2]
        forged = {**prev, "seq": 4, "actor": "admin:ghost", "prev_hash": prev["hash"]}
        forged["hash"] = entry_hash(4, prev["recorded_at"], "admin:ghost", prev["action"],  # type: ignore[arg-type]
                                    prev["subject_ref"], prev["details_digest"],  # type: ignore[arg-type]
                                    prev["request_id"], prev["hash"])  # type: ignore[arg-type]  # fmt: skip
        cols = ", ".join(forged)
        c.execute(
            sa.text(f"INSERT INTO audit_log ({cols}) VALUES ({', '.join(':' + k for k in forged)})"), forged
        )
    code, out = verify(cli)
    assert code == 1 and "seq 5: prev_hash does not match" in out
    assert "seq 5: hash does not match" in out  # its seq changed, so its hash no longer matches


def test_a_forged_anchor_is_found(seeded: Service, cli: CliRunner) -> None:
    audited(seeded)
    last = rows(seeded.engine)[-2]
    _execute(seeded.engine, "DELETE FROM audit_log WHERE seq > :s", s=last["seq"])
    _execute(seeded.engine, "UPDATE audit_anchor SET seq = :s, hash = :h", s=last["seq"], h=last["hash"])
    code, out = verify(cli)
    assert code == 1 and "anchor signature invalid" in out
    # An intact log verifies only under the key that signed its anchor.
    audited(seeded)
    with make_sessionmaker(seeded.engine)() as s:
        assert not AuditLog(b"another key").verify(s).ok


def test_concurrent_appends_keep_one_chain(engine: sa.Engine, service: Service) -> None:
    """Writers in parallel transactions: every entry lands once, in one unbroken chain."""
    import threading

    audit = AuditLog.from_settings(service.settings)
    sessions = make_sessionmaker(engine)

    def writer(k: int) -> None:
        for i in range(15):
            with sessions() as session:
                audit.append(session, actor=f"w{k}", action="test.append", details={"i": i})
                session.commit()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sessions() as session:
        check = audit.verify(session)
    assert check.ok, check.problems
    assert check.entries == 90
