"""Random inspection plans on both databases: ratios, an independent re-implementation of the
published draw, conflicts of interest, verification, export and results."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import math
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from features.ids import org_check_char, uscc_check_char
from scoring.audit import AuditLog
from scoring.db import rights_tables  # noqa: F401  (the engine fixture empties these tables)
from scoring.db.rights_tables import InspectionPlan
from scoring.db.tables import Record, Subject
from scoring.inspections import (
    PlanError,
    add_exclusion,
    add_inspector,
    draw,
    export_plan,
    generate_plan,
    load_supervision,
    plan_selection,
    record_result,
    verify_export,
    verify_plan,
)
from scoring.settings import Settings

NOW = dt.datetime(2026, 7, 1, 9)
AUDIT = AuditLog(b"test-anchor-key")


def code(n: int) -> str:
    body8 = f"MA{n:06d}"
    body = "91" + "350102" + body8 + org_check_char(body8)
    return body + uscc_check_char(body)


def reference_draw(seed, population, ratios, roster, conflicts, per_check):  # type: ignore[no-untyped-def]
    """docs/rights-and-supervision.md, step by step, with plain Python (no numpy, no shortcuts)."""
    key = {c: hashlib.sha256(f"{seed}|{c}".encode()).hexdigest() for c, _ in population}
    drawn = []
    for cls in "ABCD":
        members = sorted((c for c, k in population if k == cls), key=lambda c: (key[c], c))
        ratio = ratios[cls]
        take = math.ceil(len(members) * round(float(ratio) * 10000) / 10000)
        drawn += members[:take]
    drawn.sort(key=lambda c: (key[c], c))
    classes = dict(population)
    out = []
    for pos, c in enumerate(drawn, start=1):
        chosen: list[str] = []
        j = 0
        while len(chosen) < per_check:
            h = hashlib.sha256(f"{seed}|{c}|{j}".encode()).hexdigest()
            candidate = roster[int(h[:16], 16) % len(roster)]
            if (c, candidate) not in conflicts and candidate not in chosen:
                chosen.append(candidate)
            j += 1
        out.append(f"{pos},{c},{classes[c]},{';'.join(chosen)}\n")
    return "".join(out).encode()


@pytest.fixture
def market(engine: sa.Engine) -> sa.Engine:
    """300 food organisations (classes by id), 40 retail ones, a published enterprise snapshot,
    11 market-regulation inspectors and 3 others; declared and linked conflicts."""
    grades = ["A"] * 4 + ["B"] * 3 + ["C"] * 2 + ["D"] * 1
    subjects, scores = [], []
    for i in range(1, 341):
        sector = "food" if i <= 300 else "retail"
        subjects.append(
            {
                "id": i,
                "subject_type": "enterprise",
                "subject_key": code(i),
                "sector": sector,
                "name": '=HYPERLINK("x")' if i == 7 else f"Org {i}",
                "created_at": NOW,
            }
        )
        grade = None if i % 29 == 0 else grades[i % 10]
        scores.append(
            {
                "snapshot_id": 1,
                "subject_id": i,
                "subject_type": "enterprise",
                "origin": "batch",
                "state": "insufficient_record" if grade is None else "scored",
                "grade": grade,
                "as_of": dt.date(2026, 6, 30),
                "known_at": NOW,
                "registry_version": "r",
                "feature_hash": "h",
                "features": "",
                "scored_at": NOW,
            }
        )
    # Subject 5 was rescored to class D after the batch: its latest row counts.
    scores.append({**scores[4], "origin": "rescore", "grade": "D"})
    subjects.append(
        {
            "id": 1000,
            "subject_type": "person",
            "subject_key": "p" * 64,
            "name": None,
            "sector": None,
            "created_at": NOW,
        }
    )
    with engine.begin() as c:
        c.execute(sa.insert(Subject), subjects)
        c.execute(
            sa.text(
                "INSERT INTO score_snapshots (id, subject_type, as_of, known_at, registry_version,"
                " feature_names, status, rows, actor, created_at)"
                " VALUES (1, 'enterprise', '2026-06-30', :k, 'r', '[]',"
                " 'published', 340, 't', :k)"
            ),
            {"k": NOW},
        )
        c.execute(sa.text("INSERT INTO score_publications VALUES ('enterprise', 1, :k)"), {"k": NOW})
        c.execute(
            sa.text(
                "INSERT INTO scores ("
                + ", ".join(scores[0])
                + ") VALUES ("
                + ", ".join(f":{k}" for k in scores[0])
                + ")"
            ),
            scores,
        )
        # Inspector I01 (person 1000) is the legal representative of organisation 3.
        c.execute(
            sa.text(
                "INSERT INTO subject_links (org_subject_id, person_subject_id, role, valid_from, recorded_at)"
                " VALUES (3, 1000, 'legal_representative', '2020-01-01', :k)"
            ),
            {"k": NOW},
        )
    with Session(engine) as s, s.begin():
        for n in range(1, 12):
            add_inspector(
                s,
                code=f"I{n:02d}",
                name=f"Inspector {n}",
                department="market_regulation",
                sectors="*" if n % 2 else "food,retail",
                person_key="p" * 64 if n == 1 else None,
                now=NOW,
            )
        add_inspector(s, code="X01", name="Other dept", department="environment", now=NOW)
        add_inspector(
            s, code="R01", name="Retail only", department="market_regulation", sectors="retail", now=NOW
        )
        # Declared conflicts: I02..I10 may never inspect organisation 11; I05 never 12 (ended: 13).
        for n in range(2, 11):
            add_exclusion(
                s, inspector_code=f"I{n:02d}", org_code=code(11), relation="family", recorded_by="t"
            )
        add_exclusion(s, inspector_code="I05", org_code=code(12), relation="employment", recorded_by="t")
        add_exclusion(
            s,
            inspector_code="I05",
            org_code=code(13),
            relation="prior_case",
            recorded_by="t",
            valid_to=dt.date(2026, 1, 1),
        )
    return engine


def test_a_plan_draws_each_class_at_its_ratio_and_verifies_independently(market: sa.Engine) -> None:
    policy = load_supervision()
    plan = generate_plan(
        market,
        AUDIT,
        sector="food",
        period="2026Q3",
        actor="supervisor:s1",
        seed="beacon-2026-07-01-8f2a",
        now=NOW,
    )
    assert plan.plan_no == f"food-2026Q3-{hashlib.sha256(b'beacon-2026-07-01-8f2a').hexdigest()[:8]}"
    ratios = json.loads(plan.ratios)
    assert ratios == {"A": "0.0500", "B": "0.2000", "C": "0.6000", "D": "1.0000"}
    counts = json.loads(plan.counts)
    population = [tuple(r.split(",")) for r in gzip.decompress(plan.population).decode().splitlines()]
    assert len(population) == 300 and population == sorted(population)
    assert dict(population)[code(5)] == "D"  # the rescored row, not the batch one
    assert dict(population)[code(29)] == policy.unclassified_as
    for cls, (n, k) in counts.items():
        assert n == sum(1 for _, c in population if c == cls)
        assert k == math.ceil(n * float(ratios[cls]) - 1e-9)
        assert k / n <= float(ratios[cls]) + 1 / n  # within rounding (one enterprise)
    roster = gzip.decompress(plan.roster).decode().split()
    assert roster == [f"I{n:02d}" for n in range(1, 12)]  # not X01 (department), not R01 (sector)
    conflicts = {tuple(r.split(",")) for r in gzip.decompress(plan.conflicts).decode().splitlines()}
    assert (code(3), "I01") in conflicts and (code(12), "I05") in conflicts
    assert (code(13), "I05") not in conflicts  # the link ended before the plan
    assert {i for c, i in conflicts if c == code(11)} == {f"I{n:02d}" for n in range(2, 11)}
    selection = gzip.decompress(plan.selection)
    expected = reference_draw(plan.seed, population, ratios, roster, conflicts, 2)
    assert selection == expected
    items = plan_selection(plan)
    assert all(len(set(x["inspectors"])) == 2 for x in items)
    assert not [x for x in items for i in x["inspectors"] if (x["credit_code"], i) in conflicts]
    d11 = next((x for x in items if x["credit_code"] == code(11)), None)
    if d11 is not None:
        assert set(d11["inspectors"]) == {"I01", "I11"}
    assert verify_plan(market, plan.plan_no).ok
    # A different seed draws differently; the same seed again is refused as a duplicate.
    other = generate_plan(
        market, AUDIT, sector="food", period="2026Q3", actor="s", seed="another-seed", now=NOW
    )
    assert gzip.decompress(other.selection) != selection
    with pytest.raises(PlanError, match="exists"):
        generate_plan(market, AUDIT, sector="food", period="2026Q3", actor="s", seed="beacon-2026-07-01-8f2a")


def test_tampering_is_found_and_exports_verify_alone(market: sa.Engine, tmp_path: Path) -> None:
    plan = generate_plan(market, AUDIT, sector="food", period="2026-07", actor="s", seed="seed-for-export")
    paths = export_plan(market, plan.plan_no, tmp_path / "out")
    assert {p.name for p in paths} == {
        "plan.json",
        "population.csv",
        "roster.csv",
        "conflicts.csv",
        "selection.csv",
        "plan.csv",
    }
    assert verify_export(tmp_path / "out").ok
    with (tmp_path / "out" / "plan.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    named = [r for r in rows if r["credit_code"] == code(7)]
    assert all(r["name"].startswith("'=") for r in named)  # formula injection neutralised
    assert all(not r["name"].startswith(("=", "+", "-", "@")) for r in rows)
    # Swap the first two drawn enterprises' inspectors in the export: the digest and the draw disagree.
    sel = (tmp_path / "out" / "selection.csv").read_text().splitlines()
    a, b = sel[0].split(","), sel[1].split(",")
    a[3], b[3] = b[3], a[3]
    (tmp_path / "out" / "selection.csv").write_text("\n".join([",".join(a), ",".join(b), *sel[2:]]) + "\n")
    bad = verify_export(tmp_path / "out")
    assert not bad.ok and any("selection" in p for p in bad.problems)
    # Change a stored class in the database: verification against the store finds it.
    with market.begin() as c:
        c.execute(sa.update(InspectionPlan).values(population=gzip.compress(b"x,A\n")))
    result = verify_plan(market, plan.plan_no)
    assert not result.ok and any("population" in p for p in result.problems)


def test_results_come_back_as_records(market: sa.Engine, tmp_path: Path) -> None:
    settings = Settings(environment="test", var_dir=tmp_path)
    plan = generate_plan(market, AUDIT, sector="food", period="2026", actor="s", seed="results-seed")
    first = plan_selection(plan)[0]["credit_code"]
    row = record_result(
        market,
        settings,
        AUDIT,
        plan_no=plan.plan_no,
        org_code=first,
        result="non_compliant",
        inspected_on=dt.date(2026, 7, 20),
        department="market_regulation",
        actor="dept:mr",
    )
    with market.connect() as c:
        rec = c.execute(
            sa.select(Record.kind, Record.outcome).where(Record.record_uid == row.record_uid)
        ).one()
    assert tuple(rec) == ("inspection_result", "non_compliant")
    drawn = {x["credit_code"] for x in plan_selection(plan)}
    outsider = next(code(i) for i in range(1, 301) if code(i) not in drawn)
    with pytest.raises(PlanError, match="was not drawn"):
        record_result(
            market,
            settings,
            AUDIT,
            plan_no=plan.plan_no,
            org_code=outsider,
            result="compliant",
            inspected_on=dt.date(2026, 7, 20),
            department="market_regulation",
            actor="d",
        )
    with pytest.raises(PlanError, match="belongs to"):
        record_result(
            market,
            settings,
            AUDIT,
            plan_no=plan.plan_no,
            org_code=first,
            result="compliant",
            inspected_on=dt.date(2026, 7, 20),
            department="environment",
            actor="d",
        )


def test_ratios_are_checked_and_conflicts_can_make_a_plan_impossible(tmp_path: Path) -> None:
    pop = [(f"C{i:03d}", "D") for i in range(10)]
    with pytest.raises(PlanError, match="fewer than 2 inspectors"):
        draw("s" * 8, pop, {"A": 0, "B": 0, "C": 0, "D": 10000}, ["I1", "I2"], [("C003", "I2")], 2)
    ok = draw("s" * 8, pop, {"A": 0, "B": 0, "C": 0, "D": 5000}, ["I1", "I2", "I3"], [("C003", "I2")], 2)
    assert ok.counts["D"] == (10, 5) and len(ok.codes) == 5
    bad = tmp_path / "supervision.yaml"
    bad.write_text(
        'ranges: {A: ["0", "0.05"], B: ["0.05", "0.2"], C: ["0.21", "0.6"], D: ["0.61", "1"]}\n'
        'default: {ratios: {A: "0.07", B: "0.1", C: "0.3", D: "0.8"}}\n'
    )
    with pytest.raises(PlanError, match="outside"):
        load_supervision(bad)
    bad.write_text(bad.read_text().replace('"0.07"', '"0.00001"'))
    with pytest.raises(PlanError, match="at most 4 decimals"):
        load_supervision(bad)
