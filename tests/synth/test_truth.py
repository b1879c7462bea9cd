"""The ground truth of a mid-sized city lies in its documented bands (docs/synthetic-city.md)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from synth import CityConfig, generate_city

# Two chunks of people, enough outcomes for stable rates and AUCs.
MID = CityConfig(people=16384, enterprises=2400, seed=5, defect_rate=0.0)


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out: Path = tmp_path_factory.mktemp("mid-city")
    generate_city(MID, out)
    persons = pl.read_parquet(out / "truth" / "persons.parquet").select("subject_id", "birth_date")
    return pl.read_parquet(out / "truth" / "truth.parquet").join(persons, on="subject_id", how="left")


def test_person_base_rate_and_oracle_auc(truth: pl.DataFrame) -> None:
    people = truth.filter(pl.col("subject_type") == "person")
    minors = people.filter(pl.col("birth_date").dt.offset_by("18y") > pl.col("as_of"))
    assert minors.height > 0
    assert (minors["p_true"] == 0).all() and (minors["outcome"] == 0).all()
    adults = people.filter(pl.col("birth_date").dt.offset_by("18y") <= pl.col("as_of"))
    assert (adults["p_true"] > 0).all()
    for as_of, part in adults.group_by("as_of"):
        rate = part["outcome"].mean()
        assert 0.05 <= rate <= 0.08, (as_of, rate)
        auc = roc_auc_score(part["outcome"].to_numpy(), part["p_true"].to_numpy())
        assert 0.80 <= auc <= 0.90, (as_of, auc)
        # Calibrated: the realised rate is close to the mean true probability.
        assert abs(rate - part["p_true"].mean()) < 0.01


def test_organisation_base_rate_and_oracle_auc(truth: pl.DataFrame) -> None:
    orgs = truth.filter(pl.col("subject_type") != "person")
    assert set(orgs["subject_type"]) == {
        "enterprise",
        "individual_business",
        "social_organization",
        "public_institution",
        "government_body",
    }
    rate = orgs["outcome"].mean()
    assert 0.08 <= rate <= 0.12, rate
    auc = roc_auc_score(orgs["outcome"].to_numpy(), orgs["p_true"].to_numpy())
    assert 0.75 <= auc <= 0.92, auc
    by_type = dict(orgs.group_by("subject_type").agg(pl.col("p_true").mean()).iter_rows())
    assert by_type["government_body"] < by_type["public_institution"] < by_type["enterprise"]
