"""Credit commitments on both databases: signing, publication, fulfilment, breach into the records store."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from features.pointintime import usable_records
from scoring.commitments import (
    COMMITMENT_KIND,
    CommitmentError,
    decide,
    due,
    load_templates,
    published,
    sign,
)
from scoring.db.tables import Record, Subject
from scoring.dedup import blake
from scoring.identity import IdentityVault
from scoring.store import read_records

ORG = "91370102MA3C4KXX1Y"
SIGNED = dt.datetime(2026, 1, 10, 9)


@pytest.fixture
def subjects(engine: sa.Engine, vault: IdentityVault) -> sa.Engine:
    created = dt.datetime(2020, 1, 1)
    with engine.begin() as c:
        for row in [
            {
                "id": 1,
                "subject_type": "person",
                "subject_key": "k1",
                "id_cipher": vault.encrypt("370102198001100016"),
            },
            {"id": 10, "subject_type": "enterprise", "subject_key": ORG, "name": "示例食品有限公司"},
            {
                "id": 11,
                "subject_type": "social_organization",
                "subject_key": "51370100MJD123456X",
                "name": "示例协会",
            },
        ]:
            c.execute(sa.insert(Subject).values(created_at=created, **row))
    return engine


def test_templates_cover_the_catalogue_departments() -> None:
    t = load_templates()
    assert {"market_entry", "licence_notification", "list_exit", "credit_repair"} <= set(t)
    assert t["market_entry"].subject_types == {"enterprise", "individual_business"}
    assert all("{" not in x.text or "{name}" in x.text for x in t.values())


def test_lifecycle_sign_publish_fulfil_and_break(subjects: sa.Engine, vault: IdentityVault) -> None:
    with Session(subjects) as s:
        org = s.get(Subject, 10)
        person = s.get(Subject, 1)
        assoc = s.get(Subject, 11)
        assert org is not None and person is not None and assoc is not None
        kept = sign(s, org, "market_entry", signed_by="rep:zhang", vault=vault, now=SIGNED)
        broken = sign(s, org, "licence_notification", signed_by="rep:zhang", vault=vault, now=SIGNED)
        own = sign(s, person, "credit_repair", signed_by="citizen:k1", vault=vault, now=SIGNED)
        with pytest.raises(CommitmentError, match="not for subjects of type social_organization"):
            sign(s, assoc, "market_entry", signed_by="x", now=SIGNED)
        with pytest.raises(CommitmentError, match="unknown commitment item"):
            sign(s, org, "nothing", signed_by="x", now=SIGNED)
        s.commit()
        assert kept.status == "signed" and kept.due_date == dt.date(2027, 1, 10)
        assert broken.due_date == dt.date(2026, 7, 10)
        assert "示例食品有限公司" in kept.text and ORG in kept.text and "2027-01-10" in kept.text
        assert "370102198001100016" not in own.text and "0016" in own.text  # masked

        # Publication: organisations only, the standard fields for every item.
        pub = published(s, on=dt.date(2026, 1, 31))
        assert {p["commitment_no"] for p in pub} == {kept.commitment_no, broken.commitment_no}
        assert set(pub[0]) >= {
            "subject_name",
            "subject_code",
            "item_zh",
            "text",
            "signed_on",
            "due_date",
            "status",
        }
        assert published(s, on=dt.date(2026, 1, 9)) == []

        # Tracking: what the department has to decide, when.
        assert [c.commitment_no for c in due(s, "market_regulation", dt.date(2026, 7, 10))] == [
            broken.commitment_no
        ]
        assert due(s, "market_regulation", dt.date(2026, 7, 9)) == []

        decide(
            s,
            kept.commitment_no,
            "fulfilled",
            by="amr:li",
            on=dt.date(2027, 1, 12),
            note="annual report filed",
        )
        with pytest.raises(CommitmentError, match="supervised by market_regulation"):
            decide(
                s,
                broken.commitment_no,
                "broken",
                by="tax:x",
                on=dt.date(2026, 7, 15),
                note="x",
                department="tax",
            )
        decide(
            s,
            broken.commitment_no,
            "broken",
            by="amr:li",
            on=dt.date(2026, 7, 15),
            note="documents not filed",
            department="market_regulation",
            now=dt.datetime(2026, 7, 15, 16),
        )
        with pytest.raises(CommitmentError, match="already decided: broken"):
            decide(s, broken.commitment_no, "fulfilled", by="amr:li", on=dt.date(2026, 7, 16), note="late")
        s.commit()
        assert (
            kept.record_uid is None
            and broken.record_uid == blake([f"credit_commitment|{ORG}|{broken.commitment_no}"])[0]
        )

    # The breach is a credit_commitment record in the store, in use from its date.
    records = read_records(subjects, kinds=[COMMITMENT_KIND])
    assert records.height == 1
    row = records.row(0, named=True)
    assert (row["subject_id"], row["department"], row["outcome"], row["event_date"]) == (
        10,
        "market_regulation",
        "broken",
        dt.date(2026, 7, 15),
    )
    assert json.loads(row["payload"]) == {
        "commitment_no": broken.commitment_no,
        "item": "行政许可证明事项告知承诺",
        "status": "broken",
    }
    assert row["publicity_end"] == dt.date(2029, 7, 15)  # the kind's 36 months
    assert usable_records(records, None, as_of=dt.date(2026, 7, 20)).height == 1
    assert usable_records(records, None, as_of=dt.date(2026, 7, 14)).height == 0
    with Session(subjects) as s:
        statuses = {p["commitment_no"]: p["status"] for p in published(s, on=dt.date(2027, 2, 1))}
        assert statuses == {kept.commitment_no: "fulfilled", broken.commitment_no: "broken"}
        assert s.execute(sa.select(sa.func.count()).select_from(Record)).scalar() == 1
