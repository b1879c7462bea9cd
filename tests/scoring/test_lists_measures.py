"""Lists and checks on every application (逢办必查) on both databases: the workflow and its
refusals, exit with a credit commitment, minors, national imports, measures for listed and
clean subjects, feedback and its export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa
from incentive_fixtures import (
    ADULT,
    ADULT2,
    ADULT3,
    AUDIT,
    CHILD,
    NOW,
    ORG_A,
    ORG_B,
    TODAY,
    add_listing_record,
    add_org,
    add_person,
    set_score,
)
from sqlalchemy.orm import Session

from scoring.auth import Principal
from scoring.db.incentive_tables import Listing, MeasureCheck
from scoring.db.tables import QueryRegisterEntry, Record, RecordEvent, Subject
from scoring.dedup import blake
from scoring.identity import IdentityVault
from scoring.lists import (
    ListingError,
    active_listings,
    exit_listing,
    find_subject,
    import_national,
    propose_listing,
    publish_listing,
    quarantined_import_rows,
    record_commitment,
    verify_listing,
)
from scoring.measures import (
    MeasureError,
    applicable_measures,
    check_application,
    export_feedback,
    record_feedback,
)

DECISION = {
    "department": "credit_office",
    "doc_no": "发改信用〔2026〕12号",
    "area": "拒不履行法定义务",
    "legal_basis": "《信用修复管理办法》（国家发展改革委令第36号）",
    "decided_on": dt.date(2026, 5, 1),
    "valid_to": dt.date(2028, 5, 1),
}


def _subject(s: Session, sid: int) -> Subject:
    subject = s.get(Subject, sid)
    assert subject is not None
    return subject


def test_workflow_record_refusals_and_exit_with_a_commitment(engine: sa.Engine, vault: IdentityVault) -> None:
    key = add_person(engine, vault, 1, ADULT)
    with Session(engine) as s, s.begin():
        row = propose_listing(
            s,
            AUDIT,
            vault,
            list_type="serious_dishonesty",
            subject=_subject(s, 1),
            actor="ndrc-a",
            now=NOW,
            **DECISION,
        )
        lid = row.id
        with pytest.raises(ListingError, match="already lists"):
            propose_listing(
                s,
                AUDIT,
                vault,
                list_type="serious_dishonesty",
                subject=_subject(s, 1),
                actor="x",
                now=NOW,
                **DECISION,
            )
    with Session(engine) as s, s.begin():
        with pytest.raises(ListingError, match="is proposed: publish needs it verified"):
            publish_listing(s, AUDIT, vault, lid, actor="ndrc-b", now=NOW)
        with pytest.raises(ListingError, match="is proposed: exit needs it published"):
            exit_listing(s, AUDIT, lid, actor="ndrc-b", reason="x", now=NOW)
        with pytest.raises(ListingError, match="four eyes"):
            verify_listing(s, AUDIT, lid, actor="ndrc-a", now=NOW)
        verify_listing(s, AUDIT, lid, actor="ndrc-b", now=NOW)
        with pytest.raises(ListingError, match="is verified: verify needs it proposed"):
            verify_listing(s, AUDIT, lid, actor="ndrc-c", now=NOW)
        publish_listing(s, AUDIT, vault, lid, actor="ndrc-b", now=NOW)
    uid = blake([f"serious_dishonesty_list|{key}|{DECISION['doc_no']}"])[0]
    with Session(engine) as s:
        rec = s.execute(sa.select(Record).where(Record.record_uid == uid)).scalar_one()
        assert (rec.kind, rec.department, rec.event_date, rec.publicity_end, rec.severity, rec.outcome) == (
            "serious_dishonesty_list",
            "credit_office",
            dt.date(2026, 5, 1),
            dt.date(2028, 5, 1),
            "serious",
            "拒不履行法定义务",
        )
        found = active_listings(s, 1, TODAY)
        assert [(a.source, a.list_type, a.kind, a.record_uid) for a in found] == [
            ("list", "serious_dishonesty", "serious_dishonesty_list", uid)
        ]
    with Session(engine) as s, s.begin():
        with pytest.raises(ListingError, match="needs a credit commitment"):
            exit_listing(s, AUDIT, lid, actor="ndrc-b", reason="performed", now=NOW)
        with pytest.raises(ListingError, match="no credit commitment C-1"):
            exit_listing(s, AUDIT, lid, actor="ndrc-b", reason="performed", commitment_no="C-1", now=NOW)
    with Session(engine) as s, s.begin():
        record_commitment(
            s,
            subject=_subject(s, 1),
            commitment_no="C-1",
            item="依法履行义务并公开承诺",
            department="credit_office",
            signed_on=TODAY,
            now=NOW,
        )
        exit_listing(
            s, AUDIT, lid, actor="ndrc-b", reason="performed", commitment_no="C-1", effective=TODAY, now=NOW
        )
        with pytest.raises(ListingError, match="is exited"):
            exit_listing(s, AUDIT, lid, actor="ndrc-b", reason="again", commitment_no="C-1", now=NOW)
    with Session(engine) as s:
        event = s.execute(sa.select(RecordEvent).where(RecordEvent.record_uid == uid)).scalar_one()
        assert (event.event_type, event.reference) == ("repaired", "C-1")
        assert active_listings(s, 1, TODAY) == []
        assert s.get(Listing, lid).status == "exited"  # type: ignore[union-attr]


def test_minors_are_never_listed_and_wrong_departments_are_refused(
    engine: sa.Engine, vault: IdentityVault
) -> None:
    add_person(engine, vault, 1, CHILD)
    add_person(engine, vault, 2, ADULT)
    with Session(engine) as s:
        with pytest.raises(ListingError, match="minors are never listed"):
            propose_listing(
                s, AUDIT, vault, list_type="black", subject=_subject(s, 1), actor="a", now=NOW, **DECISION
            )
        with pytest.raises(ListingError, match="does not determine serious_dishonesty_list"):
            propose_listing(
                s,
                AUDIT,
                vault,
                list_type="serious_dishonesty",
                subject=_subject(s, 2),
                actor="a",
                now=NOW,
                **{**DECISION, "department": "water"},
            )
        with pytest.raises(ListingError, match="legal basis"):
            propose_listing(
                s,
                AUDIT,
                vault,
                list_type="watch",
                subject=_subject(s, 2),
                actor="a",
                now=NOW,
                **{**DECISION, "legal_basis": " "},
            )
        with pytest.raises(ListingError, match="at most 36 months"):
            propose_listing(
                s,
                AUDIT,
                vault,
                list_type="serious_dishonesty",
                subject=_subject(s, 2),
                actor="a",
                now=NOW,
                **{**DECISION, "valid_to": dt.date(2030, 1, 1)},
            )


def _national_csv(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "list_type",
            "subject_type",
            "subject_id",
            "department",
            "doc_no",
            "area",
            "legal_basis",
            "decided_on",
            "valid_to",
        ]
    )
    w.writerows(rows)
    return buf.getvalue().encode()


def test_national_import_is_idempotent_and_accounts_for_every_row(
    engine: sa.Engine, vault: IdentityVault
) -> None:
    add_person(engine, vault, 1, ADULT)
    add_person(engine, vault, 2, CHILD)
    add_org(engine, 10, ORG_A)
    basis = "各领域严重失信主体名单管理办法"
    rows = [
        [
            "serious_dishonesty",
            "person",
            ADULT,
            "court",
            "(2026)最高法执001号",
            "失信被执行人",
            basis,
            "2026-03-01",
            "2028-03-01",
        ],
        [
            "serious_dishonesty",
            "org",
            ORG_A,
            "tax",
            "税务〔2026〕7号",
            "重大税收违法",
            basis,
            "2026-02-01",
            "2029-02-01",
        ],
        [
            "serious_dishonesty",
            "org",
            ORG_A,
            "tax",
            "税务〔2026〕7号",
            "重大税收违法",
            basis,
            "2026-02-01",
            "2029-02-01",
        ],
        ["grey", "org", ORG_A, "tax", "x1", "a", basis, "2026-02-01", "2027-02-01"],
        ["black", "person", "110105198001010017", "court", "x2", "a", basis, "2026-02-01", "2027-02-01"],
        ["black", "person", ADULT2, "court", "x3", "a", basis, "2026-02-01", "2027-02-01"],
        ["black", "person", CHILD, "court", "x4", "a", basis, "2026-02-01", "2027-02-01"],
        ["black", "org", ORG_B, "court", "x5", "a", "", "2026-02-01", "2027-02-01"],
    ]
    data = _national_csv(rows)
    with Session(engine) as s, s.begin():
        res = import_national(
            s, AUDIT, vault, data, source_name="national-2026-06.csv", actor="credit-office", now=NOW
        )
        assert (res.rows_read, res.accepted, res.duplicate, res.quarantined) == (8, 2, 1, 5)
        assert res.rows_read == res.accepted + res.duplicate + res.quarantined
        assert res.reasons == {
            "unknown_list_type": 1,
            "invalid_identifier": 1,
            "unknown_subject": 1,
            "minor": 1,
            "missing_field": 1,
        }
        quarantined = quarantined_import_rows(s, res.import_id)
        assert [q.line_no for q in quarantined] == [5, 6, 7, 8, 9]
        assert all(ADULT2 not in q.message and CHILD not in q.message for q in quarantined)
    with Session(engine) as s, s.begin():
        again = import_national(
            s, AUDIT, vault, data, source_name="national-2026-06.csv", actor="credit-office"
        )
        assert again.replayed and again.import_id == res.import_id
        overlap = import_national(
            s,
            AUDIT,
            vault,
            _national_csv([rows[1]]),
            source_name="national-2026-07.csv",
            actor="credit-office",
            publish=True,
        )
        assert (overlap.accepted, overlap.duplicate) == (0, 1)
        listings = s.execute(sa.select(Listing).order_by(Listing.id)).scalars().all()
        assert [(x.source, x.status) for x in listings] == [("national", "verified")] * 2
    red_row = {
        "list_type": "red",
        "subject_type": "person",
        "subject_id": ADULT,
        "department": "civilization_office",
        "doc_no": "文明〔2026〕3号",
        "area": "优秀志愿者",
        "legal_basis": "国发〔2016〕33号",
        "decided_on": "2026-04-01",
        "valid_to": "2027-04-01",
    }
    jsonl = json.dumps(red_row, ensure_ascii=False) + "\nnot json\n"
    with Session(engine) as s, s.begin():
        red = import_national(
            s,
            AUDIT,
            vault,
            jsonl.encode(),
            source_name="red.jsonl",
            actor="credit-office",
            publish=True,
            now=NOW,
        )
        assert (red.accepted, red.quarantined, red.reasons) == (1, 1, {"malformed_row": 1})
        assert s.get(Listing, red.listing_ids[0]).status == "published"  # type: ignore[union-attr]
        kinds = {a.kind for a in active_listings(s, 1, TODAY)}
        assert kinds == {"red_list"}  # the national serious listing is verified, not yet published


def test_check_on_every_application_listed_and_clean(engine: sa.Engine, vault: IdentityVault) -> None:
    listed_key = add_person(engine, vault, 1, ADULT)
    add_person(engine, vault, 2, ADULT2)
    add_person(engine, vault, 3, ADULT3)
    add_org(engine, 10, ORG_A)
    set_score(engine, 1, score=720)
    set_score(engine, 2, score=720)
    set_score(engine, 3, score=640)
    set_score(engine, 10, grade="A", group="enterprise")
    add_listing_record(engine, 1, listed_key, "judgment_defaulter", "(2026)苏01执100号")
    dept = Principal(role="department", id="gov-procurement", department="credit_office")
    with Session(engine) as s, s.begin():
        listed = check_application(
            s,
            AUDIT,
            who=dept,
            subject=_subject(s, 1),
            scenario="government_procurement",
            department="finance",
            now=NOW,
        )
        assert [m["code"] for m in listed.measures] == ["P-GP-01"]
        m = listed.measures[0]
        assert m["type"] == "punishment" and m["mandatory"] and "发改财金〔2016〕141号" in m["basis"]
        assert m["listings"][0]["doc_no"] == "(2026)苏01执100号"
        codes = lambda sid, sc: [x["code"] for x in applicable_measures(s, _subject(s, sid), sc, today=TODAY)]  # noqa: E731
        assert codes(1, "high_consumption") == ["P-HC-01"]
        assert codes(1, "public_sector_hiring") == ["P-HR-01"]
        assert codes(1, "administrative_approval") == ["P-AP-01"]  # no reward while listed, despite 720
        assert codes(2, "administrative_approval") == ["R-AP-01"]
        assert codes(2, "government_procurement") == []
        assert codes(3, "administrative_approval") == []  # 640 < 650
        assert codes(10, "inspection_planning") == ["R-IN-01"]
        assert codes(10, "government_procurement") == ["R-GP-01"]
        with pytest.raises(MeasureError, match="unknown scenario"):
            codes(1, "karaoke")
        clean = check_application(
            s,
            AUDIT,
            who=dept,
            subject=_subject(s, 2),
            scenario="government_procurement",
            department="finance",
            now=NOW,
        )
        assert clean.measures == []
        reads = s.execute(sa.select(QueryRegisterEntry).order_by(QueryRegisterEntry.id)).scalars().all()
        assert [(r.subject_id, r.purpose) for r in reads] == [
            (1, "joint_measures:government_procurement"),
            (2, "joint_measures:government_procurement"),
        ]
        assert s.execute(sa.select(sa.func.count()).select_from(MeasureCheck)).scalar_one() == 2
        record_feedback(
            s,
            AUDIT,
            check_id=listed.check_id,
            measure_code="P-GP-01",
            outcome="applied",
            department="finance",
            actor="department:finance",
            note="投标资格不予通过",
            now=NOW,
        )
        with pytest.raises(MeasureError, match="already recorded"):
            record_feedback(
                s,
                AUDIT,
                check_id=listed.check_id,
                measure_code="P-GP-01",
                outcome="applied",
                department="finance",
                actor="x",
            )
        with pytest.raises(MeasureError, match="was not found"):
            record_feedback(
                s,
                AUDIT,
                check_id=listed.check_id,
                measure_code="R-AP-01",
                outcome="applied",
                department="finance",
                actor="x",
            )
        with pytest.raises(MeasureError, match="no check"):
            record_feedback(
                s,
                AUDIT,
                check_id=listed.check_id,
                measure_code="P-GP-01",
                outcome="applied",
                department="tax",
                actor="x",
            )
    with Session(engine) as s, s.begin():
        text, n = export_feedback(s, vault, now=NOW)
        assert n == 1
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1 and rows[0]["measure_code"] == "P-GP-01" and rows[0]["outcome"] == "applied"
        assert rows[0]["list_doc_no"] == "(2026)苏01执100号" and ADULT not in text
        assert rows[0]["subject_code"].startswith("1101") and "*" in rows[0]["subject_code"]
        assert export_feedback(s, vault)[1] == 0  # already exported


def test_find_subject_by_number_code_or_pseudonym(engine: sa.Engine, vault: IdentityVault) -> None:
    key = add_person(engine, vault, 1, ADULT)
    add_org(engine, 10, ORG_A)
    with Session(engine) as s:
        assert find_subject(s, vault, ADULT).id == 1  # type: ignore[union-attr]
        assert find_subject(s, vault, key).id == 1  # type: ignore[union-attr]
        assert find_subject(s, vault, ORG_A.lower()).id == 10  # type: ignore[union-attr]
        assert find_subject(s, vault, ADULT2) is None
