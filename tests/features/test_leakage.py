"""Property tests: no leakage from after D, and the single-subject path equals the batch row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from feature_frames import CATALOGUE, event, events, link, links, rec, records, subjects
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.pipelines import enterprise_features, person_features
from features.pointintime import end_of_day

PERSONS = [1, 2, 3]
ORGS = [11, 12]
REPS = {11: 1, 12: 2}
PERSON_KINDS = sorted(k for k, s in CATALOGUE.kinds.items() if "person" in s.subject_types)
ORG_KINDS = sorted(k for k, s in CATALOGUE.kinds.items() if "enterprise" in s.subject_types)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(draw: st.DrawFn, kind: str) -> str | None:
    spec = CATALOGUE.kind(kind)
    field = next((f for f in spec.fields.values() if f.column == "outcome"), None)
    if field is None:
        return None
    return draw(st.sampled_from(field.values)) if field.values else draw(st.sampled_from(["x", "y"]))


@st.composite
def a_record(draw: st.DrawFn, as_of: dt.date, subject: int, kinds: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    event_date = as_of - dt.timedelta(days=draw(st.integers(0, 4 * 365)))
    payload: dict[str, Any] = {}
    if kind == "social_insurance_contribution":
        payload["insurance"] = draw(st.sampled_from(["pension", "unemployment", "work_injury"]))
    if kind == "administrative_licence" and draw(st.booleans()):
        payload["valid_to"] = (event_date + dt.timedelta(days=draw(st.integers(0, 1500)))).isoformat()
    if kind == "org_registration":
        payload["registered_on"] = (event_date - dt.timedelta(days=draw(st.integers(0, 3000)))).isoformat()
    lag = dt.timedelta(hours=draw(st.integers(0, 24 * 30)))
    recorded_at = min(dt.datetime.combine(event_date, dt.time(6)) + lag, end_of_day(as_of))
    return rec(
        subject,
        kind,
        event_date,
        outcome=_outcome(draw, kind),
        amount=float(draw(st.integers(0, 5000))),
        quantity=float(draw(st.sampled_from([0, 1, 5, 30, 89, 90, 120]))),
        severity=draw(st.sampled_from(["minor", "general", "serious"])),
        recorded_at=recorded_at,
        payload=payload,
    )


@st.composite
def a_city(draw: st.DrawFn, as_of: dt.date) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    for s in PERSONS:
        rows += draw(st.lists(a_record(as_of, s, PERSON_KINDS), max_size=12))
    for s in ORGS:
        rows += draw(st.lists(a_record(as_of, s, ORG_KINDS), max_size=12))
    evs = []
    for r in rows:
        if draw(st.integers(0, 5)) == 0:
            kind = draw(st.sampled_from(["withdrawn", "repaired", "disputed", "dispute_rejected", "expired"]))
            effective = r["event_date"] + dt.timedelta(days=draw(st.integers(0, 200)))
            if effective <= as_of:
                evs.append(
                    event(
                        r["record_uid"],
                        kind,
                        effective,
                        min(end_of_day(as_of), r["recorded_at"] + dt.timedelta(1)),
                    )
                )
    return rows, evs


SUBJECTS = subjects([(s, "person") for s in PERSONS] + [(s, "enterprise") for s in ORGS])
LINKS = links([link(o, p, dt.date(2015, 1, 1)) for o, p in REPS.items()])


def both(rows: list[dict], evs: list[dict], as_of: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    r, e = records(rows), events(evs)
    return (
        person_features(r, e, SUBJECTS, as_of=as_of),
        enterprise_features(r, e, SUBJECTS, LINKS, as_of=as_of),
    )


@st.composite
def leaks(draw: st.DrawFn, as_of: dt.date, base: list[dict]) -> tuple[list[dict], list[dict]]:
    """Records and events that must not change anything on D."""
    known = end_of_day(as_of)
    rows: list[dict] = []
    for s, kinds in [(s, PERSON_KINDS) for s in PERSONS] + [(s, ORG_KINDS) for s in ORGS]:
        for r in draw(st.lists(a_record(as_of, s, kinds), max_size=4)):
            how = draw(st.sampled_from(["dated_after", "recorded_after", "expired"]))
            if how == "dated_after":
                day = as_of + dt.timedelta(days=draw(st.integers(1, 400)))
                at = draw(st.sampled_from([known, known + dt.timedelta(days=3)]))
                rows.append(
                    {**r, "event_date": day, "publicity_end": day + dt.timedelta(days=900), "recorded_at": at}
                )
            elif how == "recorded_after":
                rows.append(
                    {**r, "recorded_at": known + dt.timedelta(microseconds=draw(st.integers(1, 10**11)))}
                )
            else:
                rows.append(
                    {**r, "publicity_end": as_of - dt.timedelta(days=draw(st.sampled_from([0, 0, 1, 30])))}
                )
    evs = []
    for r in base:
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(["withdrawn", "repaired", "disputed", "expired"]))
            if draw(st.booleans()):  # takes effect after D
                evs.append(event(r["record_uid"], kind, as_of + dt.timedelta(days=draw(st.integers(1, 90)))))
            else:  # recorded after D
                evs.append(event(r["record_uid"], kind, r["event_date"], known + dt.timedelta(minutes=1)))
        if draw(st.integers(0, 5)) == 0:  # a correction recorded after D
            rows.append(
                {**r, "version": 2, "outcome": None, "amount": 10**9, "recorded_at": known + dt.timedelta(1)}
            )
    return rows, evs


@SETTINGS
@given(data=st.data(), as_of=st.dates(dt.date(2022, 1, 1), dt.date(2027, 12, 31)))
def test_nothing_after_d_or_expired_by_d_changes_any_feature(data: st.DataObject, as_of: dt.date) -> None:
    rows, evs = data.draw(a_city(as_of))
    extra_rows, extra_evs = data.draw(leaks(as_of, rows))
    person, org = both(rows, evs, as_of)
    person2, org2 = both(rows + extra_rows, evs + extra_evs, as_of)
    assert_frame_equal(person, person2)
    assert_frame_equal(org, org2)


@SETTINGS
@given(data=st.data(), as_of=st.dates(dt.date(2022, 1, 1), dt.date(2027, 12, 31)))
def test_single_subject_equals_the_batch_row(data: st.DataObject, as_of: dt.date) -> None:
    rows, evs = data.draw(a_city(as_of))
    person, org = both(rows, evs, as_of)
    r, e = records(rows), events(evs)
    for s in PERSONS:
        one = person_features(
            r.filter(pl.col("subject_id") == s),
            e.filter(pl.col("record_uid").is_in(r.filter(pl.col("subject_id") == s)["record_uid"].to_list())),
            SUBJECTS.filter(pl.col("subject_id") == s),
            as_of=as_of,
        )
        assert_frame_equal(one, person.filter(pl.col("subject_id") == s))
    for s in ORGS:
        mine = [s, REPS[s]]
        one = enterprise_features(
            r.filter(pl.col("subject_id").is_in(mine)),
            e,
            SUBJECTS.filter(pl.col("subject_id") == s),
            LINKS.filter(pl.col("org_subject_id") == s),
            as_of=as_of,
        )
        assert_frame_equal(one, org.filter(pl.col("subject_id") == s))


@SETTINGS
@given(data=st.data(), as_of=st.dates(dt.date(2022, 1, 1), dt.date(2027, 12, 31)))
def test_small_and_large_input_routes_agree(data: st.DataObject, as_of: dt.date) -> None:
    """usable_lazy takes a shorter route for small in-memory frames; both give the same rows."""
    import features.pointintime as pit

    rows, evs = data.draw(a_city(as_of))
    # Corrections too: some records get a second version, some recorded after D.
    for r in rows[: len(rows) // 3]:
        later = data.draw(st.sampled_from([dt.timedelta(hours=1), dt.timedelta(days=400)]))
        rows = [*rows, {**r, "version": 2, "outcome": None, "recorded_at": r["recorded_at"] + later}]
    small_person, small_org = both(rows, evs, as_of)
    saved = pit._SMALL_ROWS
    pit._SMALL_ROWS = 0
    try:
        large_person, large_org = both(rows, evs, as_of)
    finally:
        pit._SMALL_ROWS = saved
    assert_frame_equal(small_person, large_person)
    assert_frame_equal(small_org, large_org)
