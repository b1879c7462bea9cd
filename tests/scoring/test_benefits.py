"""Benefits on both databases: eligibility at its boundaries, tokens, grants, quotas (a race on
PostgreSQL), pay-later obligations, suspension and reinstatement."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from incentive_fixtures import (
    ADULT,
    ADULT2,
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
from sqlalchemy.pool import NullPool

from scoring.benefits import (
    BenefitCatalogueError,
    BenefitError,
    IdempotencyConflict,
    NotEligible,
    QuotaExhausted,
    UnknownToken,
    card_token,
    citizen_benefits,
    eligibility,
    grant_benefit,
    issue_card_token,
    load_benefits,
    parse_benefits,
    partner_eligibility,
    reconcile_grants,
    resolve_card_token,
    settle_obligation,
)
from scoring.db.engine import make_engine
from scoring.db.incentive_tables import BenefitGrant, BenefitQuota
from scoring.db.tables import QueryRegisterEntry, RecordEvent, Subject
from scoring.identity import IdentityVault
from scoring.settings import Settings


def _decisions(engine: sa.Engine, sid: int, **kw: object) -> dict[str, tuple[bool, tuple[str, ...]]]:
    with Session(engine) as s:
        return {d.benefit: (d.eligible, d.reasons) for d in eligibility(s, sid, today=TODAY, **kw)}  # type: ignore[arg-type]


def _token(engine: sa.Engine, settings: Settings, sid: int, partner: str) -> str:
    with Session(engine) as s, s.begin():
        subject = s.get(Subject, sid)
        assert subject is not None
        return issue_card_token(s, settings, subject, partner)


def test_catalogue_defaults_and_validation() -> None:
    cat = load_benefits()
    assert cat.get("library_deposit_waiver").min_score == 600
    assert cat.get("transit_discount").min_score == 700
    assert cat.get("approval_green_channel").min_class == "A"
    pay = cat.get("hospital_pay_later")
    assert (pay.credit_line(599), pay.credit_line(600), pay.credit_line(749), pay.credit_line(750)) == (
        None,
        500.0,
        2000.0,
        3000.0,
    )
    base = (
        "version: t\nbenefits:\n  - {code: x, zh: x, en: x, category: c, provider: {partner: p},"
        " validity: {months: 1}, rule: "
    )
    with pytest.raises(BenefitCatalogueError, match="min_score"):
        parse_benefits(base + "{subject_types: [person], min_score: 1000}}\n")
    with pytest.raises(BenefitCatalogueError, match="min_class"):
        parse_benefits(base + "{subject_types: [org]}}\n")
    with pytest.raises(BenefitCatalogueError, match="persons need"):
        parse_benefits(base + "{subject_types: [person]}}\n")


def test_eligibility_at_the_boundaries(engine: sa.Engine, vault: IdentityVault) -> None:
    scores = {1: 599, 2: 600, 3: 649, 4: 650, 5: 699, 6: 700}
    from features.ids import person_check_char

    for sid, score in scores.items():
        body = f"1101051980010{sid:03d}1"[:17]
        add_person(engine, vault, sid, body + person_check_char(body))
        set_score(engine, sid, score=score)
    add_person(engine, vault, 7, ADULT2)
    set_score(engine, 7, state="insufficient_record")
    add_person(engine, vault, 8, CHILD)
    set_score(engine, 8, state="minor")
    add_person(engine, vault, 9, ADULT)  # no published score
    add_org(engine, 20, ORG_A)
    set_score(engine, 20, grade="A", group="enterprise")
    add_org(engine, 21, ORG_B)
    set_score(engine, 21, grade="C", group="enterprise")

    def ok(sid: int, code: str) -> bool:
        return _decisions(engine, sid)[code][0]

    assert not ok(1, "library_deposit_waiver") and ok(2, "library_deposit_waiver")
    assert _decisions(engine, 1)["library_deposit_waiver"][1] == ("score_below",)
    assert not ok(3, "free_short_rental") and ok(4, "free_short_rental")
    assert not ok(5, "transit_discount") and ok(6, "transit_discount")
    assert not ok(3, "approval_green_channel") and ok(4, "approval_green_channel")
    assert _decisions(engine, 1)["credit_loan_enterprise"] == (False, ("subject_type",))
    assert _decisions(engine, 7)["library_deposit_waiver"] == (False, ("insufficient_record",))
    assert _decisions(engine, 8)["library_deposit_waiver"] == (False, ("minor",))
    assert _decisions(engine, 9)["library_deposit_waiver"] == (False, ("not_scored",))
    assert ok(20, "approval_green_channel") and ok(20, "credit_loan_enterprise")
    assert _decisions(engine, 21)["credit_loan_enterprise"] == (False, ("class_below",))
    assert _decisions(engine, 20)["library_deposit_waiver"] == (False, ("subject_type",))
    with Session(engine) as s:
        lines = {d.benefit: d.credit_line for d in eligibility(s, 4, today=TODAY)}
    assert lines["hospital_pay_later"] == 1000.0


def test_serious_listing_suspends_every_benefit_but_a_disputed_one_does_not(
    engine: sa.Engine, vault: IdentityVault
) -> None:
    key = add_person(engine, vault, 1, ADULT)
    set_score(engine, 1, score=820)
    uid = add_listing_record(
        engine, 1, key, "serious_dishonesty_list", "(2026)发改信用001号", department="credit_office"
    )
    decisions = _decisions(engine, 1)
    assert all(not ok and "listed" in why for ok, why in decisions.values() if "subject_type" not in why)
    with engine.begin() as c:
        c.execute(
            sa.insert(RecordEvent).values(
                record_uid=uid,
                subject_id=1,
                event_type="disputed",
                effective_date=dt.date(2026, 6, 1),
                recorded_at=dt.datetime(2026, 6, 1),
                actor="citizen",
                reason="objection filed",
            )
        )
    assert _decisions(engine, 1)["transit_discount"] == (True, ())


def test_tokens_are_per_partner_and_never_carry_the_number(
    engine: sa.Engine, vault: IdentityVault, settings: Settings
) -> None:
    key = add_person(engine, vault, 1, ADULT)
    set_score(engine, 1, score=640)
    lib = _token(engine, settings, 1, "city-library")
    bike = _token(engine, settings, 1, "public-bike")
    assert lib != bike and ADULT not in lib and key not in lib
    assert lib == card_token(settings, "city-library", key)
    with Session(engine) as s:
        assert resolve_card_token(s, "city-library", lib) == 1
        with pytest.raises(UnknownToken):
            resolve_card_token(s, "public-bike", lib)
    with Session(engine) as s, s.begin():
        answer = partner_eligibility(
            s, AUDIT, partner="city-library", token=lib, benefit_code="library_deposit_waiver", today=TODAY
        )
        assert answer == {"benefit": "library_deposit_waiver", "eligible": True}
        with pytest.raises(BenefitError, match="not provided"):
            partner_eligibility(s, AUDIT, partner="city-library", token=lib, benefit_code="transit_discount")
    with Session(engine) as s:
        reads = s.execute(sa.select(QueryRegisterEntry)).scalars().all()
    assert [(r.accessor_role, r.accessor_id, r.purpose) for r in reads] == [
        ("partner", "city-library", "benefit_eligibility")
    ]


def test_grants_are_idempotent_and_refused_when_not_eligible(
    engine: sa.Engine, vault: IdentityVault, settings: Settings
) -> None:
    add_person(engine, vault, 1, ADULT)
    set_score(engine, 1, score=610)
    add_person(engine, vault, 2, ADULT2)
    set_score(engine, 2, score=590)
    t1, t2 = _token(engine, settings, 1, "city-library"), _token(engine, settings, 2, "city-library")
    kw = {"partner": "city-library", "benefit_code": "library_deposit_waiver", "today": TODAY, "now": NOW}
    first = grant_benefit(engine, AUDIT, token=t1, idempotency_key="k1", **kw)  # type: ignore[arg-type]
    again = grant_benefit(engine, AUDIT, token=t1, idempotency_key="k1", **kw)  # type: ignore[arg-type]
    assert not first.replayed and again.replayed and again.grant["id"] == first.grant["id"]
    assert first.grant["status"] == "active" and first.grant["valid_to"] == "2027-07-01"
    with pytest.raises(NotEligible):
        grant_benefit(engine, AUDIT, token=t2, idempotency_key="k2", **kw)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyConflict):  # the same key for another benefit of this partner
        grant_benefit(
            engine,
            AUDIT,
            partner="city-library",
            token=t1,
            benefit_code="library_ebooks",
            idempotency_key="k1",
            catalogue=parse_benefits(TWO_LIBRARY_BENEFITS),
        )
    with pytest.raises(UnknownToken):
        grant_benefit(engine, AUDIT, token="ct1_forged", idempotency_key="k3", **kw)  # type: ignore[arg-type]
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(BenefitGrant)).scalar_one() == 1


TWO_LIBRARY_BENEFITS = """
version: t2
benefits:
  - {code: library_deposit_waiver, zh: 免押金, en: deposit-free, category: deposit_waiver,
     provider: {partner: city-library}, rule: {subject_types: [person], min_score: 600},
     validity: {months: 12}}
  - {code: library_ebooks, zh: 电子书, en: e-books, category: other,
     provider: {partner: city-library}, rule: {subject_types: [person], min_score: 600},
     validity: {months: 12}}
"""


QUOTA_YAML = """
version: q1
suspension: {list_types: [serious_dishonesty], record_kinds: [serious_dishonesty_list]}
benefits:
  - code: limited_flat
    zh: 限量房源免押金
    en: Limited flats, deposit-free
    category: deposit_waiver
    provider: {partner: housing-rental}
    rule: {subject_types: [person], min_score: 600}
    validity: {months: 12}
    quota: QUOTA
"""


def test_quota_is_never_exceeded(engine: sa.Engine, vault: IdentityVault, settings: Settings) -> None:
    cat = parse_benefits(QUOTA_YAML.replace("QUOTA", "2"))
    from features.ids import person_check_char

    tokens = []
    for sid in range(1, 4):
        body = f"1101051980010{sid:03d}1"[:17]
        add_person(engine, vault, sid, body + person_check_char(body))
        set_score(engine, sid, score=700)
        tokens.append(_token(engine, settings, sid, "housing-rental"))
    kw = {"partner": "housing-rental", "benefit_code": "limited_flat", "catalogue": cat, "today": TODAY}
    grant_benefit(engine, AUDIT, token=tokens[0], idempotency_key="a", **kw)  # type: ignore[arg-type]
    grant_benefit(engine, AUDIT, token=tokens[1], idempotency_key="b", **kw)  # type: ignore[arg-type]
    assert grant_benefit(engine, AUDIT, token=tokens[1], idempotency_key="b", **kw).replayed  # type: ignore[arg-type]
    with pytest.raises(QuotaExhausted):
        grant_benefit(engine, AUDIT, token=tokens[2], idempotency_key="c", **kw)  # type: ignore[arg-type]
    with Session(engine) as s:
        assert s.get(BenefitQuota, "limited_flat").used == 2  # type: ignore[union-attr]


def test_quota_race_on_postgres(
    engine: sa.Engine, vault: IdentityVault, settings: Settings, db_url: str
) -> None:
    """200 grant requests for a quota of 50, released together: exactly 50 grants.

    The shared server allows 100 connections, so 50 threads each hold their own connection and
    send 4 requests (200 in all, every one its own transaction) once the barrier opens."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test runs on PostgreSQL")
    cat = parse_benefits(QUOTA_YAML.replace("QUOTA", "50"))
    n_threads, per_thread = 50, 4
    total = n_threads * per_thread
    with engine.begin() as c:
        c.execute(
            sa.insert(Subject),
            [
                {
                    "id": i,
                    "subject_type": "person",
                    "subject_key": f"{i:064x}",
                    "birth_year": 1980,
                    "created_at": NOW,
                }
                for i in range(1, total + 1)
            ],
        )
        for i in range(1, total + 1):
            set_score(c, i, score=700)
    tokens = {}
    with Session(engine) as s, s.begin():
        for i in range(1, total + 1):
            subject = s.get(Subject, i)
            assert subject is not None
            tokens[i] = issue_card_token(s, settings, subject, "housing-rental")
    barrier = threading.Barrier(n_threads)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(t: int) -> None:
        eng = make_engine(db_url, poolclass=NullPool)
        try:
            with eng.connect() as conn:
                barrier.wait()
                for j in range(per_thread):
                    sid = t * per_thread + j + 1
                    try:
                        grant_benefit(
                            conn,  # type: ignore[arg-type]
                            AUDIT,
                            partner="housing-rental",
                            token=tokens[sid],
                            benefit_code="limited_flat",
                            idempotency_key=f"race-{sid}",
                            catalogue=cat,
                            today=TODAY,
                        )
                        result = "granted"
                    except QuotaExhausted:
                        result = "quota"
                    except Exception as exc:
                        result = f"error:{type(exc).__name__}:{exc}"
                    with lock:
                        outcomes[result] += 1
        finally:
            eng.dispose()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert outcomes == Counter({"granted": 50, "quota": 150})
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(BenefitGrant)).scalar_one() == 50
        assert s.get(BenefitQuota, "limited_flat").used == 50  # type: ignore[union-attr]


def test_overdue_obligation_suspends_everything_until_settled(
    engine: sa.Engine, vault: IdentityVault, settings: Settings
) -> None:
    add_person(engine, vault, 1, ADULT)
    set_score(engine, 1, score=720)  # pay-later line 2000
    lib, hosp = _token(engine, settings, 1, "city-library"), _token(engine, settings, 1, "city-hospital")
    grant_benefit(
        engine,
        AUDIT,
        partner="city-library",
        token=lib,
        benefit_code="library_deposit_waiver",
        idempotency_key="lib-1",
        today=TODAY,
    )
    with pytest.raises(NotEligible):  # above the line
        grant_benefit(
            engine,
            AUDIT,
            partner="city-hospital",
            token=hosp,
            benefit_code="hospital_pay_later",
            idempotency_key="visit-0",
            amount=2500.0,
            today=TODAY,
        )
    visit = grant_benefit(
        engine,
        AUDIT,
        partner="city-hospital",
        token=hosp,
        benefit_code="hospital_pay_later",
        idempotency_key="visit-1",
        amount=800.0,
        today=TODAY,
    )
    ob = visit.obligation
    assert ob is not None and ob["due_on"] == "2026-07-31" and ob["grace_days"] == 15
    with pytest.raises(NotEligible):  # 800 open + 1300 > 2000
        grant_benefit(
            engine,
            AUDIT,
            partner="city-hospital",
            token=hosp,
            benefit_code="hospital_pay_later",
            idempotency_key="visit-2",
            amount=1300.0,
            today=TODAY,
        )
    last_grace_day, overdue_day = dt.date(2026, 8, 15), dt.date(2026, 8, 16)
    assert reconcile_grants(engine, 1, today=last_grace_day) == []
    changes = reconcile_grants(engine, 1, today=overdue_day)
    assert {(c.benefit, c.after, c.reason) for c in changes} == {
        ("library_deposit_waiver", "suspended", "obligation_overdue"),
        ("hospital_pay_later", "suspended", "obligation_overdue"),
    }
    with Session(engine) as s:
        view = citizen_benefits(s, 1, today=overdue_day, lang="en")
    assert not any(b["eligible"] for b in view["benefits"])
    assert view["obligations"][0]["overdue"] is True
    assert {g["status"] for g in view["grants"]} == {"suspended"}
    with pytest.raises(BenefitError):
        settle_obligation(engine, AUDIT, partner="city-library", obligation_id=ob["id"], reference="x")
    settle_obligation(
        engine, AUDIT, partner="city-hospital", obligation_id=ob["id"], reference="pay-778", today=overdue_day
    )
    with Session(engine) as s:
        view = citizen_benefits(s, 1, today=overdue_day)
    assert {g["status"] for g in view["grants"]} == {"active"}
    lib_grant = next(g for g in view["grants"] if g["benefit"] == "library_deposit_waiver")
    assert [h["status"] for h in lib_grant["history"]] == ["active", "suspended", "active"]
    assert [h["reason"] for h in lib_grant["history"]] == ["granted", "obligation_overdue", "reinstated"]


def test_score_drop_and_listing_suspend_a_grant_and_recovery_reinstates_it(
    engine: sa.Engine, vault: IdentityVault, settings: Settings
) -> None:
    key = add_person(engine, vault, 1, ADULT)
    set_score(engine, 1, score=705)
    tok = _token(engine, settings, 1, "city-transit")
    grant_benefit(
        engine,
        AUDIT,
        partner="city-transit",
        token=tok,
        benefit_code="transit_discount",
        idempotency_key="t-1",
        today=TODAY,
    )
    set_score(engine, 1, score=690)
    assert [(c.after, c.reason) for c in reconcile_grants(engine, 1, today=TODAY)] == [
        ("suspended", "score_below")
    ]
    assert reconcile_grants(engine, 1, today=TODAY) == []  # nothing new
    set_score(engine, 1, score=700)
    assert [(c.after, c.reason) for c in reconcile_grants(engine, 1, today=TODAY)] == [
        ("active", "reinstated")
    ]
    add_listing_record(engine, 1, key, "judgment_defaulter", "(2026)执001号")
    assert [(c.after, c.reason) for c in reconcile_grants(engine, 1, today=TODAY)] == [
        ("suspended", "listed")
    ]
    assert [(c.after, c.reason) for c in reconcile_grants(engine, 1, today=dt.date(2028, 2, 1))] == [
        ("ended", "validity ended")
    ]
