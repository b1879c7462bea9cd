"""Publication on both databases: snapshot contents, atomic switch, rescoring, history, replay."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from score_fixtures import D, late_bill, month, pension, record

from features.registry import load_registry
from scoring.bundles import load_bundle
from scoring.db.tables import Record, Subject
from scoring.events import EventError, append_event
from scoring.explanations import explain, recourse
from scoring.identity import IdentityVault
from scoring.publish import (
    PublishError,
    ReplayError,
    changed_subjects,
    current_score,
    feature_values,
    publish_scores,
    replay,
    rescore_after_change,
    rescore_changed,
    rescore_subject,
    score_history,
)
from scoring.scores import parse_reasons
from scoring.settings import Settings

KNOWN = dt.datetime(2026, 7, 1, 12)
LATER = dt.datetime(2026, 7, 10, 9)


@pytest.fixture
def settings(tmp_path: Path, bundle_dir: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, bundle_dir=bundle_dir, var_dir=tmp_path / "var", environment="test")


@pytest.fixture
def city(engine: sa.Engine, settings: Settings) -> sa.Engine:
    vault = IdentityVault.from_settings(settings)
    subjects = [
        {"id": 1, "subject_type": "person", "birth_year": 1980},  # scored, late utility bills
        {"id": 2, "subject_type": "person", "birth_year": 1990},  # thin file
        {"id": 3, "subject_type": "person", "birth_year": 2010},  # minor
        # Turns 18 in January 2026: the identity number settles the birth year.
        {
            "id": 4,
            "subject_type": "person",
            "birth_year": 2008,
            "id_cipher": vault.encrypt("370102200801100013"),
        },
        {
            "id": 5,
            "subject_type": "person",
            "birth_year": 2008,
            "id_cipher": vault.encrypt("370102200812100017"),
        },
        {"id": 10, "subject_type": "enterprise", "registered_on": dt.date(2015, 3, 1)},
    ]
    for s in subjects:
        s.setdefault("subject_key", f"key{s['id']}")
        s.setdefault("created_at", dt.datetime(2020, 1, 1))
        for key in ("birth_year", "id_cipher", "registered_on"):
            s.setdefault(key, None)
    records = [pension(f"p1-{k}", 1, k) for k in range(12)]
    records += [late_bill(f"u1-{k}", 1, k) for k in (1, 2, 4, 7)]
    records += [
        record(
            "t1",
            1,
            "traffic_violation",
            month(10),
            severity="general",
            publicity_end=dt.date(2026, 12, 1),
            department="police",
        ),
    ]
    records += [pension("p2-0", 2, 0)]
    records += [pension(f"p3-{k}", 3, k) for k in range(8)]
    records += [pension(f"p4-{k}", 4, k) for k in range(8)] + [pension(f"p5-{k}", 5, k) for k in range(8)]
    records += [
        record(
            "o10-reg",
            10,
            "org_registration",
            dt.date(2015, 3, 1),
            payload='{"registered_on":"2015-03-01"}',
            publicity_end=dt.date(2115, 1, 1),
            department="amr",
        ),
        record("o10-sd", 10, "serious_dishonesty_list", month(3), severity="serious", department="ndrc"),
        record("o10-tax", 10, "tax_credit_level", month(2), outcome="A", department="tax"),
    ]
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(sa.insert(Record), records)
    return engine


def _publish(city: sa.Engine, settings: Settings, **kw: object) -> dict[str, int]:
    pubs = publish_scores(city, settings, D, known_at=KNOWN, actor="tester", **kw)  # type: ignore[arg-type]
    return {p.subject_type: p.snapshot_id for p in pubs}


def test_publication_holds_every_subject_with_states_scores_and_reasons(
    city: sa.Engine, settings: Settings
) -> None:
    ids = _publish(city, settings)
    with city.connect() as c:
        snaps = c.execute(sa.text("SELECT subject_type, status, rows FROM score_snapshots ORDER BY id")).all()
        counts = dict(
            c.execute(sa.text("SELECT subject_type, COUNT(*) FROM scores GROUP BY subject_type")).all()
        )
    assert [tuple(r) for r in snaps] == [("person", "published", 5), ("enterprise", "published", 1)]
    assert counts == {"person": 5, "enterprise": 1}
    one = current_score(city, 1)
    assert one is not None and one["snapshot_id"] == ids["person"]
    assert (one["state"], one["origin"], one["model_version"]) == ("scored", "batch", "1")
    assert 350 <= one["score"] <= 950 and one["grade"] in {"poor", "fair", "good", "very_good", "excellent"}
    assert parse_reasons(one["reasons_lowering"])[0][0] == "utility_late_12m"
    assert feature_values(city, one)["utility_late_12m"] == 4.0
    assert feature_values(city, one)["pension_paid_months_12m"] == 12.0
    states = {sid: current_score(city, sid)["state"] for sid in (2, 3, 4, 5)}  # type: ignore[index]
    assert states == {2: "insufficient_record", 3: "minor", 4: "scored", 5: "minor"}
    for sid in (2, 3, 5):
        row = current_score(city, sid)
        assert (
            row is not None and row["score"] is None and row["pd"] is None and row["reasons_lowering"] is None
        )
    org = current_score(city, 10)
    assert org is not None and (org["grade"], org["downgrades"]) == ("D", "serious_dishonesty_list")
    assert org["flags"] == "serious_dishonesty_list"


def test_a_failed_publication_leaves_the_old_snapshot_in_force(city: sa.Engine, settings: Settings) -> None:
    first = _publish(city, settings)
    before = current_score(city, 1)

    def die(group: str, rows: int) -> None:
        if rows >= 2:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        _publish(city, settings, chunk_rows=1, after_chunk=die)
    with city.connect() as c:
        status = c.execute(
            sa.text("SELECT status, COUNT(*) FROM score_snapshots GROUP BY status ORDER BY 1")
        ).all()
        partial = c.execute(
            sa.text("SELECT COUNT(*) FROM scores WHERE snapshot_id > :s"), {"s": max(first.values())}
        )
    assert [tuple(r) for r in status] == [("building", 1), ("published", 2)]
    assert partial.scalar() == 2  # written, but nobody reads them
    assert current_score(city, 1) == before
    assert [r["id"] for r in score_history(city, 1)] == [before["id"]]  # type: ignore[index]
    second = _publish(city, settings)
    with city.connect() as c:
        status = dict(
            c.execute(sa.text("SELECT status, COUNT(*) FROM score_snapshots GROUP BY status")).all()
        )
    assert status == {"failed": 1, "published": 2, "superseded": 2}
    assert current_score(city, 1)["snapshot_id"] == second["person"]  # type: ignore[index]
    assert len(score_history(city, 1)) == 2


_CHILD = """
import datetime as dt, sys, time
from pathlib import Path
from scoring.db.engine import make_engine
from scoring.publish import publish_scores
from scoring.settings import Settings

url, bundles, var = sys.argv[1:4]
def pause(group, rows):
    print(f"written {group} {rows}", flush=True)
    time.sleep(0.5)
settings = Settings(database_url=url, bundle_dir=Path(bundles), var_dir=Path(var), environment="test")
publish_scores(make_engine(url), settings, dt.date(2026, 6, 15), known_at=dt.datetime(2026, 7, 1, 12),
               chunk_rows=1, after_chunk=pause)
"""


def test_a_killed_publication_leaves_the_old_snapshot_intact(
    city: sa.Engine, settings: Settings, tmp_path: Path
) -> None:
    first = _publish(city, settings)
    before = {sid: current_score(city, sid) for sid in (1, 2, 3, 4, 5, 10)}
    url = city.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, str(settings.bundle_dir), str(tmp_path / "child")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("written person 3"):
                break
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    with city.connect() as c:
        building = (
            c.execute(sa.text("SELECT id FROM score_snapshots WHERE status = 'building'")).scalars().all()
        )
        written = c.execute(sa.text("SELECT COUNT(*) FROM scores WHERE snapshot_id = :s"), {"s": building[0]})
        pointer = dict(c.execute(sa.text("SELECT subject_type, snapshot_id FROM score_publications")).all())
    assert len(building) == 1 and written.scalar() == 3  # rows written, but nobody reads them
    assert pointer == first
    assert {sid: current_score(city, sid) for sid in before} == before
    again = _publish(city, settings)
    assert current_score(city, 1)["snapshot_id"] == again["person"]  # type: ignore[index]


def test_a_withdrawal_rescores_the_subject_alone_and_replay_reproduces_the_stored_score(
    city: sa.Engine, settings: Settings
) -> None:
    _publish(city, settings)
    stored = current_score(city, 1)
    assert stored is not None
    # Two late bills are withdrawn (recorded after the publication), effective from their dates.
    for uid, k in (("u1-1", 1), ("u1-2", 2)):
        assert (
            append_event(city, uid, "withdrawn", month(k), actor="utility", reason="billing error", now=LATER)
            == 1
        )
    assert changed_subjects(city, KNOWN) == {1: LATER}
    result = rescore_subject(
        city, settings, 1, cause="record withdrawn", known_at=LATER + dt.timedelta(hours=1)
    )
    assert result.changed and result.current is not None
    now = result.current
    assert (now["origin"], now["cause"], now["snapshot_id"]) == (
        "rescore",
        "record withdrawn",
        stored["snapshot_id"],
    )
    assert feature_values(city, now)["utility_late_12m"] == 2.0
    assert now["score"] > stored["score"] and now["feature_hash"] != stored["feature_hash"]
    assert current_score(city, 1) == now
    assert [r["id"] for r in score_history(city, 1)] == [stored["id"], now["id"]]
    # A late bill for subject 4 arrives; the sweep rescores it and leaves subject 1 (already current).
    with city.begin() as c:
        bill = {**late_bill("u4-new", 4, 1), "recorded_at": LATER + dt.timedelta(minutes=30)}
        c.execute(sa.insert(Record), [bill])
    swept = rescore_changed(city, settings, cause="sweep")
    assert [(r.subject_id, r.changed) for r in swept] == [(4, True)]
    assert current_score(city, 4)["cause"] == "sweep"  # type: ignore[index]
    # After an ingestion: the subjects it touched, or advice when too many changed.
    with city.begin() as c:
        c.execute(
            sa.insert(Record), [{**late_bill("u5-new", 5, 1), "recorded_at": LATER + dt.timedelta(hours=3)}]
        )
    over = rescore_after_change(city, settings, LATER + dt.timedelta(hours=2), cause="ingested", limit=0)
    assert (over.published, over.changed_subjects, over.skipped_over_limit, over.rescored) == (
        True,
        1,
        True,
        [],
    )
    after = rescore_after_change(city, settings, LATER + dt.timedelta(hours=2), cause="ingested")
    assert [(r.subject_id, r.changed) for r in after.rescored] == [(5, True)]  # new features recorded
    assert current_score(city, 5)["state"] == "minor"  # type: ignore[index]  # and still no number
    # Nothing else changed: a second rescore records nothing.
    again = rescore_subject(city, settings, 1, cause="again", known_at=LATER + dt.timedelta(hours=2))
    assert not again.changed and len(score_history(city, 1)) == 2
    # The stored batch score replays to the same number despite the later withdrawal.
    old = replay(city, settings, stored["id"])
    assert (
        old.ok
        and old.replayed["score"] == stored["score"]
        and old.replayed["feature_hash"] == stored["feature_hash"]
    )
    new = replay(city, settings, now["id"])
    assert new.ok and new.replayed["score"] == now["score"]


def test_replay_and_publication_errors(city: sa.Engine, settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="no published person snapshot"):
        rescore_subject(city, settings, 1, cause="x")
    with pytest.raises(ReplayError, match="no score 999"):
        replay(city, settings, 999)
    with pytest.raises(EventError, match="no record nope"):
        append_event(city, "nope", "withdrawn", D, actor="a", reason="b")
    with pytest.raises(EventError, match="unknown event type"):
        append_event(city, "u1-1", "deleted", D, actor="a", reason="b")
    from dataclasses import replace

    other = replace(load_registry(), declared_version="0.0.0")
    with pytest.raises(
        PublishError, match=r"was trained on feature registry \S+, but this service has 0\.0\.0-"
    ):
        publish_scores(city, settings, D, known_at=KNOWN, registry=other)
    empty = Settings(database_url=settings.database_url, bundle_dir=tmp_path / "none", environment="test")
    with pytest.raises(PublishError, match="no champion model"):
        publish_scores(city, empty, D, known_at=KNOWN)


def test_reasons_cite_their_records_and_removing_them_changes_the_feature(
    city: sa.Engine, settings: Settings
) -> None:
    _publish(city, settings)
    row = current_score(city, 1)
    assert row is not None
    reasons = explain(city, row)
    first = reasons[0]
    assert (first.feature, first.direction, first.value) == ("utility_late_12m", "lowering", 4.0)
    assert first.records == ("u1-7", "u1-4", "u1-2", "u1-1")
    assert first.en.endswith(": 4 (4 records, latest 2026-05)")
    assert first.zh.endswith("：4次（4条记录，最近一条2026-05）")
    assert [r.points for r in reasons if r.direction == "lowering"] == [
        p for _, p in parse_reasons(row["reasons_lowering"])
    ]
    for uid in first.records:
        append_event(city, uid, "withdrawn", D, actor="utility", reason="billing error", now=LATER)
    after = rescore_subject(
        city, settings, 1, cause="withdrawn", known_at=LATER + dt.timedelta(hours=1)
    ).current
    assert after is not None and feature_values(city, after)["utility_late_12m"] == 0.0


def test_recourse_uses_actionable_features_and_projects_real_rescores(
    city: sa.Engine, settings: Settings
) -> None:
    _publish(city, settings)
    row = current_score(city, 1)
    assert row is not None
    registry = load_registry()
    bundle = load_bundle(settings.bundle_dir, "person", "1")
    actions = recourse(city, settings, row, top=10)
    assert actions and all(a.gain >= 1 and a.projected_score == row["score"] + a.gain for a in actions)
    assert [a.gain for a in actions] == sorted((a.gain for a in actions), reverse=True)
    values = feature_values(city, row)
    kinds = {a.kind for a in actions}
    assert kinds == {"action", "time"}
    for a in actions:
        if a.kind != "action":
            continue
        assert all(registry.feature("person", name).actionable for name in a.changes)
        assert len({registry.feature("person", name).kinds for name in a.changes}) == 1
        changed = {**values, **{name: after for name, (_, after) in a.changes.items()}}
        X = bundle.encode_records([changed])
        assert a.projected_score == round(float(bundle.score(bundle.predict_pd(X))[0]))
    late = next(a for a in actions if "utility_late_12m" in a.changes)
    assert late.changes["utility_late_12m"] == (4.0, 0.0)
    assert late.changes["utility_max_days_late_12m"] == (20.0, 0.0)
    assert all(after == 0.0 for _, after in late.changes.values())  # every utility feature cleared
    # The violation leaving publicity: the projection equals a real rescore once it has expired.
    time = next(a for a in actions if a.kind == "time")
    assert (time.on, time.records) == (dt.date(2026, 12, 1), ("t1",))
    append_event(city, "t1", "expired", D, actor="police", reason="publicity period ended", now=LATER)
    real = rescore_subject(city, settings, 1, cause="expired", known_at=LATER + dt.timedelta(hours=1)).current
    assert real is not None and real["score"] == time.projected_score
    # No recourse for a state that is not a score.
    assert recourse(city, settings, current_score(city, 2)) == []  # type: ignore[arg-type]
