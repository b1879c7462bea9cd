"""The department files of a small city: every row valid except the manifest's, each of those for
its one stated reason; identifiers, kinds, formats, and labels rebuilt from the records."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from synth_files import read_files
from synth_labels import outcome_events, rebuild_labels, subject_types
from synth_rules import judge

from features.catalogue import COMMON_COLUMNS, load_catalogue
from features.ids import IdentifierError, parse_org_code, parse_person_id
from synth import CitySummary

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def rows(small_city: tuple[Path, CitySummary]) -> pl.DataFrame:
    return read_files(small_city[0] / "files")


@pytest.fixture(scope="module")
def judged(rows: pl.DataFrame) -> pl.DataFrame:
    return judge(rows, load_catalogue(), TODAY)


@pytest.fixture(scope="module")
def manifest(small_city: tuple[Path, CitySummary]) -> pl.DataFrame:
    return pl.read_csv(small_city[0] / "manifest.csv", schema_overrides={"detail": pl.String})


def test_every_row_is_valid_except_the_manifest_rows(judged: pl.DataFrame, manifest: pl.DataFrame) -> None:
    outcome = judged.join(manifest, on=["file", "line"], how="left")
    accepted = outcome.filter(pl.col("expected").is_null())
    assert accepted["outcome"].unique().to_list() == ["accepted"]
    defective = outcome.filter(pl.col("expected").is_not_null())
    # Each defective row fails for exactly its one reason (a reason list would contain ';').
    assert defective.height == manifest.height
    assert (defective["outcome"] == defective["expected"]).all(), defective.filter(
        pl.col("outcome") != pl.col("expected")
    )


def test_manifest_describes_every_defect_type(
    manifest: pl.DataFrame, small_city: tuple[Path, CitySummary]
) -> None:
    assert set(manifest["defect"]) == {
        "bad_check_character",
        "duplicate_row",
        "conflicting_version",
        "unknown_kind",
        "missing_field",
        "future_date",
        "out_of_range",
        "minor_listing",
    }
    copies = manifest.filter(pl.col("defect").is_in(["duplicate_row", "conflicting_version"]))
    assert copies["detail"].str.starts_with("copy of ").all()
    # A copy always sorts after its original: same file later, or a later file.
    for row in copies.iter_rows(named=True):
        src_file, src_line = row["detail"].removeprefix("copy of ").rsplit(":", 1)
        assert (src_file, int(src_line)) < (row["file"], row["line"])
        if row["defect"] == "conflicting_version":
            assert src_file.split("/")[0] < row["file"].split("/")[0]
    summary = small_city[1]
    assert sum(summary.defects.values()) == manifest.height
    with (small_city[0] / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == ["file", "line", "defect", "expected", "detail"]


def test_identifiers_are_valid_except_the_bad_ones(rows: pl.DataFrame, manifest: pl.DataFrame) -> None:
    bad = {
        (f, n)
        for f, n, d in manifest.select("file", "line", "defect").iter_rows()
        if d == "bad_check_character"
    }
    ids = rows.select("file", "line", "subject_id", "legal_rep_id")
    failures = set()
    for file, line, subject, rep in ids.iter_rows():
        try:
            parse_person_id(subject, today=TODAY)
        except IdentifierError:
            try:
                parse_org_code(subject)
            except IdentifierError:
                failures.add((file, line))
        if rep is not None:
            parse_person_id(rep, today=TODAY)
    assert failures == bad


def test_every_catalogue_kind_and_format_appears(
    rows: pl.DataFrame, small_city: tuple[Path, CitySummary]
) -> None:
    catalogue = load_catalogue()
    assert set(catalogue.kinds) <= set(rows["kind"])
    root = small_city[0] / "files"
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} == {".csv", ".jsonl", ".parquet"}
    for p in files:
        dept, name = p.relative_to(root).parts
        assert name.startswith(f"{dept}_") and dept in catalogue.departments
    gb = (root / "court").glob("*.csv")
    assert any(_is_gb18030_only(p) for p in gb)
    # Every row carries the common columns; organisation types all present.
    assert rows.select(pl.col(list(COMMON_COLUMNS)).is_null().sum()).row(0) == (0, 0, 0, 0)
    types = set(subject_types(rows["subject_id"].filter(rows["kind"] == "org_registration"))["subject_type"])
    assert types == {
        "enterprise",
        "individual_business",
        "social_organization",
        "public_institution",
        "government_body",
    }


def _is_gb18030_only(path: Path) -> bool:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "(" in data.decode("gb18030")
    return False


def test_json_lines_carry_only_their_kinds_fields(small_city: tuple[Path, CitySummary]) -> None:
    catalogue = load_catalogue()
    path = next((small_city[0] / "files" / "traffic_police").glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        kind = catalogue.kinds.get(row["kind"])
        if kind is not None:
            assert set(row) == {*COMMON_COLUMNS, *kind.fields}


def test_labels_rebuilt_from_the_records_equal_the_truth(
    rows: pl.DataFrame, judged: pl.DataFrame, small_city: tuple[Path, CitySummary]
) -> None:
    accepted = rows.join(
        judged.filter(pl.col("outcome") == "accepted").select("file", "line"), on=["file", "line"]
    )
    events = outcome_events(accepted)
    truth = pl.read_parquet(small_city[0] / "truth" / "truth.parquet")
    labels = rebuild_labels(events, truth)
    assert labels.height == truth.height
    assert (labels["rebuilt"] == labels["outcome"]).all()
    assert truth["outcome"].sum() > 10
    # No outcome event of a subject that is not scored on that as-of date (minors, newcomers,
    # organisations not yet registered).
    for as_of in truth["as_of"].unique().to_list():
        end = dt.date(as_of.year + 1, as_of.month, as_of.day)
        inside = events.filter((pl.col("day") > as_of) & (pl.col("day") <= end))["subject_id"]
        scored = truth.filter(pl.col("as_of") == as_of)["subject_id"]
        assert set(inside) <= set(scored)


def test_minors_are_never_listed_outside_the_defects(rows: pl.DataFrame, judged: pl.DataFrame) -> None:
    listings = judged.filter(pl.col("outcome") == "minor_listing")
    assert listings.height > 0
    catalogue = load_catalogue()
    listing_kinds = [k.code for k in catalogue.kinds.values() if k.listing]
    minors_listed = rows.join(judged, on=["file", "line"]).filter(
        pl.col("kind").is_in(listing_kinds) & (pl.col("outcome") == "minor_listing")
    )
    assert minors_listed.height == listings.height


def test_truth_tables(small_city: tuple[Path, CitySummary]) -> None:
    root = small_city[0] / "truth"
    persons = pl.read_parquet(root / "persons.parquet")
    orgs = pl.read_parquet(root / "organisations.parquet")
    truth = pl.read_parquet(root / "truth.parquet")
    assert persons.height == 300 and orgs.height == 40
    assert persons["birth_year"].min() >= 1940 and persons["birth_year"].max() <= 2010
    assert (persons["birth_year"] >= 2008).any()
    assert set(persons["gender"]) == {"M", "F"}
    assert persons["newcomer"].any() and persons["thin_file"].any()
    assert set(orgs["legal_rep_id"]) <= set(persons["subject_id"])
    assert truth.columns == ["subject_id", "subject_type", "as_of", "p_true", "outcome"]
    assert sorted(truth["as_of"].unique().to_list()) == [
        dt.date(2023, 6, 30),
        dt.date(2024, 6, 30),
        dt.date(2025, 6, 30),
    ]
    assert truth["p_true"].is_between(0, 1).all()
    assert set(truth["subject_type"]) <= {"person", *orgs["subject_type"].unique()}
