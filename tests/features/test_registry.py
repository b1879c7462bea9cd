"""The feature registry: validation with precise errors, version identifier, exact column coverage."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from feature_frames import records, subjects

from features.catalogue import load_catalogue
from features.pipelines import enterprise_features, person_features
from features.registry import DEFAULT_PATH, RegistryError, load_registry, parse_registry

CATALOGUE = load_catalogue()
RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def parse(raw: dict[str, Any]) -> None:
    parse_registry(raw, "test", CATALOGUE)


def edited(index: int, **changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    for k, v in changes.items():
        if v is ...:
            del raw["features"][index][k]
        else:
            raw["features"][index][k] = v
    return raw


def test_packaged_registry_loads() -> None:
    reg = load_registry()
    assert re.fullmatch(r"2026\.12\.1-[0-9a-f]{12}", reg.version)
    assert reg.catalogue_version == CATALOGUE.version
    assert len(reg.names("person")) == len(set(reg.names("person"))) >= 25
    assert (
        reg.feature("person", "utility_late_12m").en == "late or unpaid utility bills in the last 12 months"
    )
    assert reg.feature("enterprise", "legal_rep_loan_overdue_12m").via == "legal_representative"
    for f in reg.features:
        assert f.monotone in (-1, 0, 1)
        # A windowed feature says its window in its name (has_loan: a loan repaid in 12 months).
        assert f.window is None or f"{f.window}m" in f.name or (f.window, f.name) == (12, "has_loan")


def test_every_produced_column_is_registered_and_nothing_else() -> None:
    reg = load_registry()
    day = dt.date(2026, 1, 1)
    subs = subjects([(1, "person"), (2, "enterprise")])
    assert person_features(records([]), None, subs, as_of=day).columns == ["subject_id", *reg.names("person")]
    assert enterprise_features(records([]), None, subs, None, as_of=day).columns == [
        "subject_id",
        *reg.names("enterprise"),
    ]


def test_conform_rejects_missing_extra_and_null_columns() -> None:
    reg = load_registry()
    names = reg.names("person")
    full = pl.DataFrame({"subject_id": [1], **{n: [0] for n in names}})
    assert reg.conform(full, "person").columns == ["subject_id", *names]
    with pytest.raises(RegistryError, match=r"missing \['record_count'\]"):
        reg.conform(full.drop("record_count"), "person")
    with pytest.raises(RegistryError, match=r"unregistered \['age'\]"):
        reg.conform(full.with_columns(age=pl.lit(30)), "person")
    with pytest.raises(RegistryError, match=r"nulls in non-nullable columns: \['awards'\]"):
        reg.conform(full.with_columns(awards=pl.lit(None, pl.Int64)), "person")
    # Helper columns (leading underscore) are dropped; a nullable feature may be null.
    assert reg.conform(full.with_columns(_mask=pl.lit(1)), "person").columns == ["subject_id", *names]
    assert reg.conform(full.with_columns(tax_on_time_share_12m=pl.lit(None)), "person").height == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kinds": ["utility"]}, "feature 'pension_paid_months_12m' (person): unknown record kind 'utility'"),
        (
            {"kinds": ["tax_credit_level"]},
            "feature 'pension_paid_months_12m' (person): record kind 'tax_credit_level' does not apply to"
            " persons",
        ),
        ({"kinds": []}, "kinds must name at least one record kind"),
        ({"window": 0}, "window must be a whole number of months in 1..120 or null, got 0"),
        ({"window": "12"}, "window must be a whole number of months in 1..120 or null, got '12'"),
        ({"monotone": 2}, "monotone must be -1, 0 or 1, got 2"),
        ({"monotone": True}, "monotone must be -1, 0 or 1, got True"),
        ({"unit": "months"}, "unit must be one of"),
        ({"dtype": "str"}, "dtype must be one of ('int', 'float'), got 'str'"),
        ({"actionable": "yes"}, "actionable must be true or false, got 'yes'"),
        ({"model_input": "no"}, "model_input must be true or false, got 'no'"),
        ({"en": ""}, "en description must be non-empty text"),
        ({"en": "months paid."}, "no surrounding spaces or final stop"),
        ({"zh": "months paid"}, "zh description must be in Chinese"),
        ({"subject": "household"}, "subject must be one of ('person', 'enterprise'), got 'household'"),
        ({"name": "Pension"}, "feature #1: name must be snake_case"),
        ({"colour": "red"}, "unknown attributes ['colour']"),
        ({"unit": ...}, "missing ['unit']"),
        ({"via": "legal_representative"}, "via legal_representative only applies to enterprise features"),
    ],
)
def test_validation_errors_are_precise(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=re.escape(message)):
        parse(edited(0, **changes))


def test_registry_level_errors() -> None:
    raw = copy.deepcopy(RAW)
    raw["features"].append(copy.deepcopy(raw["features"][0]))
    with pytest.raises(
        RegistryError, match=re.escape("feature 'pension_paid_months_12m' (person): defined twice")
    ):
        parse(raw)
    enterprise_kind = edited(len(RAW["features"]) - 1, kinds=["volunteer_service"], via=...)
    with pytest.raises(
        RegistryError, match="record kind 'volunteer_service' does not apply to organisations"
    ):
        parse(enterprise_kind)
    no_params = copy.deepcopy(RAW)
    del no_params["parameters"]["months_since_cap"]
    with pytest.raises(RegistryError, match=re.escape("registry parameters: missing ['months_since_cap']")):
        parse(no_params)
    bad_levels = copy.deepcopy(RAW)
    bad_levels["parameters"]["tax_level_points"] = {"A": 4, "B": 3}
    with pytest.raises(RegistryError, match="tax_level_points must map exactly the levels"):
        parse(bad_levels)
    with pytest.raises(RegistryError, match=re.escape("registry: unknown top-level keys ['extra']")):
        parse({**RAW, "extra": 1})


def test_version_changes_with_the_content(tmp_path: Path) -> None:
    base = load_registry()
    same = tmp_path / "same.yaml"
    same.write_bytes(DEFAULT_PATH.read_bytes())
    assert load_registry(same).version == base.version
    edited_file = tmp_path / "edited.yaml"
    edited_file.write_text(
        DEFAULT_PATH.read_text(encoding="utf-8").replace("months_since_cap: 120", "months_since_cap: 60")
    )
    changed = load_registry(edited_file)
    assert changed.declared_version == base.declared_version
    assert changed.version != base.version
    assert changed.parameters["months_since_cap"] == 60


def test_model_inputs_leave_out_history_length() -> None:
    reg = load_registry()
    for subject in ("person", "enterprise"):
        inputs = reg.model_inputs(subject)
        assert "record_count" not in inputs and "record_tenure_months" not in inputs
        assert inputs == [n for n in reg.names(subject) if n not in ("record_count", "record_tenure_months")]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("size_levels", {"micro": 0, "small": 1}, "size_levels must map exactly the sizes"),
        ("environment_sectors", ["mining"], "environment_sectors must be a non-empty list of"),
        ("public_body_types", [], "public_body_types must be a non-empty list of"),
    ],
)
def test_profile_parameters_are_checked_against_the_catalogue(key: str, value: Any, message: str) -> None:
    raw = copy.deepcopy(RAW)
    raw["parameters"][key] = value
    with pytest.raises(RegistryError, match=re.escape(message)):
        parse(raw)
