"""Public disclosure of licences and penalties (双公示) on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from scoring.db.tables import IngestBatch, QuarantinedRow, Record, Subject
from scoring.disclosure import department_metrics, disclosure_feed, disclosure_kinds
from scoring.events import append_event

A, B = "91370102MA3C4KXX1Y", "91370103MA3D5LYY2Z"


def _rec(
    uid: str, sid: int, kind: str, day: dt.date, recorded: dt.date, department: str, **kw: object
) -> dict:
    return {
        "record_uid": uid,
        "version": 1,
        "subject_id": sid,
        "kind": kind,
        "department": department,
        "event_date": day,
        "publicity_end": kw.get("publicity_end", dt.date(2027, 3, 1)),
        "severity": "general",
        "recorded_at": dt.datetime.combine(recorded, dt.time(15)),
        "content_hash": uid,
        "amount": kw.get("amount"),
        "quantity": None,
        "outcome": kw.get("outcome"),
        "payload": kw.get("payload", "{}"),
    }


@pytest.fixture
def store(engine: sa.Engine) -> sa.Engine:
    created = dt.datetime(2020, 1, 1)
    d = dt.date
    records = [
        _rec(
            "p1",
            10,
            "administrative_penalty",
            d(2026, 3, 2),
            d(2026, 3, 5),
            "market_regulation",
            publicity_end=d(2026, 9, 2),
            outcome="fine_mid",
            amount=20000.0,
            payload='{"amount":20000.0,"doc_no":"JSCF-88","matter":"超范围经营","penalty_type":"fine_mid"}',
        ),
        _rec(
            "l1",
            10,
            "administrative_licence",
            d(2026, 3, 1),
            d(2026, 3, 20),
            "market_regulation",
            payload='{"licence_no":"JY-2026-1","licence_type":"食品经营许可","valid_to":"2031-02-28"}',
        ),
        _rec("p2", 11, "administrative_penalty", d(2026, 3, 3), d(2026, 3, 6), "environment"),
        _rec("p3", 11, "administrative_penalty", d(2026, 3, 4), d(2026, 3, 7), "environment"),
        # A natural person's penalty and an organisation's other record: never on the feed.
        _rec("p4", 1, "administrative_penalty", d(2026, 3, 2), d(2026, 3, 3), "public_security"),
        _rec("t1", 10, "tax_arrears", d(2026, 3, 2), d(2026, 3, 3), "tax"),
    ]
    with engine.begin() as c:
        for row in (
            {"id": 1, "subject_type": "person", "subject_key": "k1"},
            {"id": 10, "subject_type": "enterprise", "subject_key": A, "name": "甲食品有限公司"},
            {"id": 11, "subject_type": "enterprise", "subject_key": B, "name": "乙化工有限公司"},
        ):
            c.execute(sa.insert(Subject).values(created_at=created, **row))
        c.execute(sa.insert(Record), records)
        batch = c.execute(
            sa.insert(IngestBatch)
            .values(
                source_name="amr-2026-03.csv",
                file_sha256="f" * 64,
                file_format="csv",
                encoding="utf-8",
                channel="file",
                department="market_regulation",
                rows_read=4,
                accepted=2,
                duplicate=0,
                correction=0,
                quarantined=2,
                started_at=dt.datetime(2026, 3, 10, 8),
                finished_at=dt.datetime(2026, 3, 10, 8, 5),
            )
            .returning(IngestBatch.id)
        ).scalar_one()
        c.execute(
            sa.insert(QuarantinedRow),
            [
                {
                    "batch_id": batch,
                    "line_no": n,
                    "reason_code": "missing_field",
                    "message": "doc_no missing",
                    "kind": "administrative_penalty",
                    "department": "market_regulation",
                    "raw_cipher": "x",
                }
                for n in (3, 4)
            ],
        )
    for uid, event, day, actor in (
        ("p2", "repaired", d(2026, 4, 10), "credit_office"),
        ("p3", "withdrawn", d(2026, 4, 15), "environment"),
    ):
        when = dt.datetime.combine(day, dt.time(11))
        append_event(engine, uid, event, day, actor=actor, reason="decided", now=when)
    return engine


def _uids(entries: list[dict]) -> list[str]:
    return sorted(e["record_uid"] for e in entries)


def test_disclosure_kinds_are_licences_and_penalties() -> None:
    assert disclosure_kinds() == ["administrative_licence", "administrative_penalty"]


def test_feed_publishes_organisations_within_their_publicity_period(store: sa.Engine) -> None:
    d = dt.date
    assert disclosure_feed(store, d(2026, 3, 4)).entries == []  # nothing submitted yet
    first = disclosure_feed(store, d(2026, 3, 5))
    assert _uids(first.entries) == ["p1"]
    p1 = first.entries[0]
    assert (p1["subject_code"], p1["subject_name"], p1["decision_no"], p1["matter"]) == (
        A,
        "甲食品有限公司",
        "JSCF-88",
        "超范围经营",
    )
    assert (p1["decision_date"], p1["published_on"], p1["on_time"]) == ("2026-03-02", "2026-03-05", True)
    assert p1["department_zh"] == "市场监督管理局" and p1["amount"] == 20000.0

    full = disclosure_feed(store, d(2026, 3, 25))
    assert _uids(full.entries) == ["l1", "p1", "p2", "p3"]  # no natural person, no other kinds
    l1 = next(e for e in full.entries if e["record_uid"] == "l1")
    assert (l1["on_time"], l1["matter"], l1["valid_to"]) == (
        False,
        "食品经营许可",
        "2031-02-28",
    )  # 19 days late


def test_feed_withdraws_repaired_withdrawn_and_expired_entries(store: sa.Engine) -> None:
    d = dt.date
    repaired = disclosure_feed(store, d(2026, 4, 10))
    assert _uids(repaired.entries) == ["l1", "p1", "p3"]
    assert [(w["record_uid"], w["reason"]) for w in repaired.withdrawn] == [("p2", "repaired")]
    withdrawn = disclosure_feed(store, d(2026, 4, 15))
    assert [(w["record_uid"], w["reason"]) for w in withdrawn.withdrawn] == [("p3", "withdrawn")]
    assert disclosure_feed(store, d(2026, 4, 16)).withdrawn == []
    ended = disclosure_feed(store, d(2026, 9, 2))
    assert _uids(ended.entries) == ["l1"]
    assert [(w["record_uid"], w["reason"]) for w in ended.withdrawn] == [("p1", "publicity_ended")]


def test_department_metrics(store: sa.Engine) -> None:
    m = {
        x.department: x
        for x in department_metrics(
            store, dt.date(2026, 3, 1), dt.date(2026, 3, 31), expected={"market_regulation": 4}
        )
    }
    amr, env = m["market_regulation"], m["environment"]
    assert (amr.submitted, amr.on_time, amr.timeliness) == (2, 1, 0.5)
    assert (amr.accepted, amr.quarantined, amr.compliance) == (2, 2, 0.5)
    assert (amr.expected, amr.submission_rate) == (4, 0.5)
    assert (env.submitted, env.timeliness, env.compliance, env.submission_rate) == (2, 1.0, 1.0, None)
    # The natural person's penalty counts for compliance (a refused row cannot be told apart)
    # but it is not a decision to publish.
    police = m["public_security"]
    assert (police.submitted, police.accepted, police.timeliness) == (0, 1, None)
    assert "tax" not in m
