import datetime as dt
from pathlib import Path

import pytest
import yaml

from features.catalogue import CatalogueError, add_months, load_catalogue

REQUIRED_KINDS = {
    "social_insurance_contribution",
    "medical_insurance_contribution",
    "tax_payment",
    "tax_arrears",
    "tax_credit_level",
    "utility_bill",
    "loan_repayment",
    "traffic_violation",
    "administrative_penalty",
    "administrative_licence",
    "judgment_defaulter",
    "high_consumption_restriction",
    "abnormal_operation",
    "serious_dishonesty_list",
    "red_list",
    "environmental_violation",
    "safety_incident",
    "credit_commitment",
    "volunteer_service",
    "blood_donation",
    "award",
}


def _raw() -> dict:
    return yaml.safe_load(Path("features/catalogue.yaml").read_text(encoding="utf-8"))


def _load(tmp_path: Path, raw: dict) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    load_catalogue(p)


def test_packaged_catalogue_loads_with_required_kinds() -> None:
    cat = load_catalogue()
    assert set(cat.kinds) >= REQUIRED_KINDS
    assert cat.version == _raw()["version"]
    for kind in cat.kinds.values():
        assert kind.zh and kind.en and kind.legal_basis
        assert kind.publicity_min_months <= kind.publicity_max_months


def test_listings_carry_document_numbers_and_are_negative_or_positive() -> None:
    cat = load_catalogue()
    listings = {k.code for k in cat.kinds.values() if k.listing}
    assert listings == {
        "judgment_defaulter",
        "high_consumption_restriction",
        "abnormal_operation",
        "serious_dishonesty_list",
        "red_list",
    }
    assert all("doc_no" in cat.kind(k).fields for k in listings)


def test_severity_from_field_and_publicity_end() -> None:
    cat = load_catalogue()
    pen = cat.kind("administrative_penalty")
    assert pen.severity_of({"penalty_type": "warning"}) == "minor"
    assert pen.severity_of({"penalty_type": "licence_revocation"}) == "serious"
    day = dt.date(2025, 1, 31)
    # warning: minor, statutory max 3 months even though the kind allows 12
    assert pen.publicity_end(day, {"penalty_type": "warning"}, cat.severity_periods) == dt.date(2025, 4, 30)
    assert pen.publicity_end(day, {"penalty_type": "fine_mid"}, cat.severity_periods) == dt.date(2026, 1, 31)
    jd = cat.kind("judgment_defaulter")
    assert jd.publicity_end(day, {"end_date": dt.date(2027, 1, 1)}, cat.severity_periods) == dt.date(
        2027, 1, 1
    )
    assert jd.publicity_end(day, {}, cat.severity_periods) == dt.date(2028, 1, 31)


def test_add_months_clamps() -> None:
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 5, 15), -5) == dt.date(2023, 12, 15)


def test_forbidden_categories() -> None:
    cat = load_catalogue()
    assert cat.forbidden_category("religion") == "religion"
    assert cat.forbidden_category("patient_diagnosis") == "health"
    assert cat.forbidden_category("blood_type") == "biometrics"
    assert cat.forbidden_category("宗教信仰") == "religion"
    assert cat.forbidden_category("amount") is None
    assert cat.forbidden_category("volume_ml") is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["kinds"][1].update(polarity="bad"), "polarity must be one of"),
        (lambda r: r["kinds"][1].update(department="nowhere"), "unknown department 'nowhere'"),
        (lambda r: r["kinds"][1].update(subject_types=["martian"]), "unknown subject types"),
        (lambda r: r["kinds"][1].update(natural_key=["nope"]), "natural key field nope"),
        (lambda r: r["kinds"].append(dict(r["kinds"][1])), "defined twice"),
        (lambda r: r["kinds"][1].update(code="religion_record"), "names forbidden data (religion)"),
        (
            lambda r: next(k for k in r["kinds"] if k["code"] == "tax_arrears").update(
                publicity_months={"min": 3, "max": 24}
            ),
            "maximum publicity 24 above the general maximum 12",
        ),
        (
            lambda r: next(k for k in r["kinds"] if k["code"] == "judgment_defaulter").update(
                publicity_months={"min": 1, "max": 36}
            ),
            "minimum publicity 1 below the serious minimum 12",
        ),
        (
            lambda r: r["kinds"][1]["fields"].update(diagnosis={"type": "string"}),
            "names forbidden data (health)",
        ),
        (lambda r: r["kinds"][1]["fields"]["amount"].update(type="money"), "unknown type 'money'"),
    ],
)
def test_invalid_catalogues_are_refused(tmp_path: Path, mutate, message: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(tmp_path, raw)
