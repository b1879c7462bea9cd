"""Credit reports on both databases: content from the store, registration, integrity codes,
PDF and HTML files that verify and tampered ones that do not."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.commitments import sign
from scoring.db.report_tables import CreditReport
from scoring.db.tables import QueryRegisterEntry, Record, Subject, SubjectLink
from scoring.events import append_event
from scoring.identity import IdentityVault
from scoring.publish import current_score, publish_scores
from scoring.reports import (
    ReportError,
    canonical,
    issue_report,
    render_html,
    render_pdf,
    verify_document,
    verify_report,
)
from scoring.settings import Settings

D = dt.date(2026, 6, 15)
KNOWN = dt.datetime(2026, 7, 1, 12)
NOW = dt.datetime(2026, 7, 5, 10, 30)
PERSON_ID = "370102198001100016"
ORG = "91370102MA3C4KXX1Y"


def _month(k: int) -> dt.date:
    y, m = divmod(D.year * 12 + D.month - 1 - k, 12)
    return dt.date(y, m + 1, 10)


def _rec(uid: str, sid: int, kind: str, day: dt.date, **kw: object) -> dict:
    return {
        "record_uid": uid,
        "version": 1,
        "subject_id": sid,
        "kind": kind,
        "department": kw.get("department", "hrss"),
        "event_date": day,
        "publicity_end": kw.get("publicity_end", dt.date(day.year + 5, 1, 1)),
        "severity": kw.get("severity", "minor"),
        "recorded_at": dt.datetime.combine(day, dt.time(20)),
        "content_hash": uid,
        "amount": kw.get("amount"),
        "quantity": kw.get("quantity"),
        "outcome": kw.get("outcome"),
        "payload": kw.get("payload", "{}"),
    }


@pytest.fixture
def settings(tmp_path: Path, bundle_dir: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, bundle_dir=bundle_dir, var_dir=tmp_path / "var", environment="test")


@pytest.fixture
def store(engine: sa.Engine, settings: Settings) -> sa.Engine:
    vault = IdentityVault.from_settings(settings)
    created = dt.datetime(2020, 1, 1)
    subjects = [
        {
            "id": 1,
            "subject_type": "person",
            "subject_key": "k1",
            "birth_year": 1980,
            "id_cipher": vault.encrypt(PERSON_ID),
        },
        {"id": 20, "subject_type": "person", "subject_key": "k20", "birth_year": 1975, "id_cipher": None},
        {
            "id": 10,
            "subject_type": "enterprise",
            "subject_key": ORG,
            "name": "济南示例食品有限公司",
            "registered_on": dt.date(2015, 3, 1),
        },
    ]
    for s in subjects:
        s.setdefault("created_at", created)
        for key in ("birth_year", "id_cipher", "registered_on", "name"):
            s.setdefault(key, None)
    pension = '{{"amount":800.0,"insurance":"pension","period":"{p}","status":"paid"}}'
    records = [
        _rec(
            f"p1-{k}",
            1,
            "social_insurance_contribution",
            _month(k),
            outcome="paid",
            payload=pension.format(p=f"{_month(k):%Y-%m}"),
        )
        for k in range(12)
    ]
    records += [
        _rec(f"u1-{k}", 1, "utility_bill", _month(k), outcome="late", quantity=20.0, department="water")
        for k in (1, 2, 4, 7)
    ]
    records += [
        _rec(
            "t1",
            1,
            "traffic_violation",
            _month(10),
            severity="general",
            publicity_end=dt.date(2026, 12, 1),
            department="traffic_police",
            payload='{"doc_no":"JN-TV-0001","fine":200.0,"offence_class":"general","points":3}',
        ),
        _rec(
            "ta1",
            1,
            "tax_arrears",
            _month(5),
            severity="general",
            publicity_end=dt.date(2026, 12, 1),
            department="tax",
            payload='{"amount":900.0,"notice_no":"QS-17","tax_type":"individual_income"}',
        ),
        _rec(
            "o10-reg",
            10,
            "org_registration",
            dt.date(2015, 3, 1),
            publicity_end=dt.date(2115, 1, 1),
            department="market_regulation",
            payload='{"name":"济南示例食品有限公司","registered_on":"2015-03-01","sector":"food","size":"small"}',
        ),
        _rec(
            "o10-sd",
            10,
            "serious_dishonesty_list",
            _month(3),
            severity="serious",
            department="credit_office",
            payload='{"area":"食品安全","doc_no":"SD-2026-3"}',
        ),
        _rec("o10-tax", 10, "tax_credit_level", _month(2), outcome="A", department="tax"),
        _rec(
            "o10-pen",
            10,
            "administrative_penalty",
            _month(1),
            severity="general",
            publicity_end=dt.date(2027, 1, 1),
            department="market_regulation",
            outcome="fine_mid",
            amount=20000.0,
            payload='{"amount":20000.0,"doc_no":"JSCF-2026-88","matter":"超范围经营","penalty_type":"fine_mid"}',
        ),
        # The legal representative's own record: never in the organisation's report.
        _rec(
            "r20-pen",
            20,
            "administrative_penalty",
            _month(2),
            severity="minor",
            department="public_security",
            payload='{"doc_no":"GA-2026-1","penalty_type":"warning"}',
        ),
    ]
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(sa.insert(Record), records)
        c.execute(
            sa.insert(SubjectLink),
            [
                {
                    "org_subject_id": 10,
                    "person_subject_id": 20,
                    "role": "legal_representative",
                    "valid_from": dt.date(2015, 3, 1),
                    "valid_to": None,
                    "recorded_at": created,
                }
            ],
        )
    append_event(
        engine,
        "ta1",
        "repaired",
        dt.date(2026, 6, 20),
        actor="credit_office",
        reason="arrears paid",
        now=dt.datetime(2026, 6, 20, 9),
    )
    publish_scores(engine, settings, D, known_at=KNOWN, actor="tester")
    return engine


def _issue(store: sa.Engine, settings: Settings, subject_id: int, audience: str, who: Principal):
    vault = IdentityVault.from_settings(settings)
    audit = AuditLog.from_settings(settings)
    with Session(store) as s:
        subject = s.get(Subject, subject_id)
        assert subject is not None
        report = issue_report(
            store,
            s,
            subject,
            audience,
            who=who,
            purpose="procurement",
            settings=settings,
            vault=vault,
            audit=audit,
            now=NOW,
        )
        s.commit()
    return report


CITIZEN = Principal(role="citizen", id="k1")
ANYONE = Principal(role="partner", id="procurement-office")


def test_person_report_matches_the_store_and_is_registered(store: sa.Engine, settings: Settings) -> None:
    vault = IdentityVault.from_settings(settings)
    r = _issue(store, settings, 1, "self", CITIZEN)
    c = r.content
    assert c["subject"]["identity"] == vault.masked(vault.encrypt(PERSON_ID)) and PERSON_ID not in json.dumps(
        c
    )
    row = current_score(store, 1)
    assert row is not None and c["assessment"]["score"] == row["score"]
    assert c["assessment"]["tier"]["code"] == row["grade"]
    assert c["assessment"]["reasons"] and c["assessment"]["reasons"][0]["direction"] == "lowering"
    kinds = [i["kind"] for i in c["records"]]
    assert kinds == ["traffic_violation"]  # the repaired arrears is not in use any more
    assert c["records"][0]["reference"] == "JN-TV-0001"
    assert [x["kind"] for x in c["repairs"]] == ["tax_arrears"]
    routine = {x["kind"]: x for x in c["routine"]}
    assert routine["social_insurance_contribution"]["count"] == 12
    assert routine["utility_bill"]["outcomes"] == {"late": 4}
    assert c["listings"] == [] and c["number"] == r.number and c["issued_at"] == "2026-07-05T10:30:00"
    with Session(store) as s:
        stored = s.execute(sa.select(CreditReport)).scalar_one()
        reads = s.execute(sa.select(QueryRegisterEntry)).scalars().all()
        assert AuditLog.from_settings(settings).verify(s).ok
    assert (stored.number, stored.code, stored.audience, stored.issued_to) == (
        r.number,
        r.code,
        "self",
        "citizen:k1",
    )
    assert stored.content_digest == r.digest and len(r.code) == 20
    assert [(x.subject_id, x.purpose) for x in reads] == [(1, "credit_report:procurement")]
    assert canonical(c) == canonical(json.loads(canonical(c)))


def test_organisation_public_and_full_parts(store: sa.Engine, settings: Settings) -> None:
    vault = IdentityVault.from_settings(settings)
    with Session(store) as s:
        org = s.get(Subject, 10)
        assert org is not None
        sign(s, org, "market_entry", signed_by="rep", vault=vault, now=dt.datetime(2026, 7, 1, 9))
        s.commit()
    public = _issue(store, settings, 10, "public", ANYONE).content
    assert public["subject"]["credit_code"] == ORG and public["subject"]["name"] == "济南示例食品有限公司"
    assert public["assessment"]["class"] == "D" and "reasons" not in public["assessment"]
    assert [x["kind"] for x in public["listings"]] == ["serious_dishonesty_list"]
    assert [x["kind"] for x in public["records"]] == ["administrative_penalty", "org_registration"]
    assert public["records"][0]["reference"] == "JSCF-2026-88"
    assert "repairs" not in public and [x["item"] for x in public["commitments"]] == ["market_entry"]
    full = _issue(
        store, settings, 10, "full", Principal(role="enterprise_rep", id="rep", orgs=(ORG,))
    ).content
    assert "tax_credit_level" in [x["kind"] for x in full["records"]] and "reasons" in full["assessment"]
    for content in (public, full):  # the legal representative's own penalty stays out
        assert "GA-2026-1" not in json.dumps(content, ensure_ascii=False)
    with Session(store) as s:
        reads = s.execute(sa.select(QueryRegisterEntry.purpose)).scalars().all()
        audiences = s.execute(sa.select(CreditReport.audience).order_by(CreditReport.id)).scalars().all()
    assert reads == ["credit_report:procurement"]  # the full part only: the public part is public
    assert audiences == ["public", "full"]


def test_audiences_are_per_subject_type(store: sa.Engine, settings: Settings) -> None:
    with pytest.raises(ReportError, match="person report is for self or authorised"):
        _issue(store, settings, 1, "public", ANYONE)
    with pytest.raises(ReportError, match="enterprise report is for public or full"):
        _issue(store, settings, 10, "self", CITIZEN)


def test_verification_of_number_and_code(store: sa.Engine, settings: Settings) -> None:
    r = _issue(store, settings, 10, "public", ANYONE)
    with Session(store) as s:
        ok = verify_report(s, r.number, r.printed_code.lower(), settings=settings)
        assert ok.valid and ok.details["subject_code"] == ORG and ok.details["audience"] == "public"
        assert (
            verify_report(
                s, r.number, r.code[:-1] + ("0" if r.code[-1] != "0" else "1"), settings=settings
            ).reason
            == "code_mismatch"
        )
        other = r.number[:-1] + ("2" if r.number[-1] != "2" else "3")
        assert verify_report(s, other, r.code, settings=settings).reason == "unknown_number"
        # A digest rewritten in the database without the key no longer matches the code.
        s.execute(sa.update(CreditReport).values(content_digest="0" * 64))
        assert verify_report(s, r.number, r.code, settings=settings).reason == "record_altered"
    other_key = Settings(
        database_url=settings.database_url, environment="test", report_key="another-key-" + "x" * 30
    )
    with Session(store) as s:
        assert verify_report(s, r.number, r.code, settings=other_key).reason == "record_altered"


def _swap_bundle(data: bytes, edit) -> bytes:  # type: ignore[no-untyped-def]
    m = re.search(rb"/Keywords \(([A-Za-z0-9+/=]+)\)", data)
    assert m is not None
    body = json.loads(base64.b64decode(m.group(1)))
    edit(body)
    new = base64.b64encode(canonical(body))
    return data.replace(m.group(1), new)


def test_pdf_and_html_verify_and_tampered_files_do_not(
    store: sa.Engine, settings: Settings, tmp_path: Path
) -> None:
    r = _issue(store, settings, 1, "self", CITIZEN)
    pdf = render_pdf(r)
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf and render_pdf(r) == pdf  # invariant
    page = render_html(r)
    assert r.number in page and r.printed_code in page and "信用报告" in page
    with Session(store) as s:
        assert verify_document(s, pdf, settings=settings).valid
        assert verify_document(s, page.encode(), settings=settings).valid

        def better(body: dict) -> None:
            body["content"]["assessment"]["score"] = 950

        assert verify_document(s, _swap_bundle(pdf, better), settings=settings).reason == "content_altered"
        # The visible page changed, the embedded content not: the file is not what was issued.
        at = pdf.index(b"stream", pdf.index(b"/Contents")) + 200
        flipped = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
        assert verify_document(s, flipped, settings=settings).reason == "document_altered"
        assert (
            verify_document(
                s, page.replace("Credit Report", "Credit Rep0rt").encode(), settings=settings
            ).reason
            == "document_altered"
        )

        def renumber(body: dict) -> None:  # another last character (numbers are random)
            number = body["content"]["number"]
            body["content"]["number"] = number[:-1] + ("Y" if number.endswith("Z") else "Z")

        assert verify_document(s, _swap_bundle(pdf, renumber), settings=settings).reason in {
            "unknown_number",
            "code_mismatch",
        }
        assert verify_document(s, b"%PDF-1.4 nothing", settings=settings).reason == "not_a_report"
