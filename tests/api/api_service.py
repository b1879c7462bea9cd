"""Helpers of the HTTP service tests: identifiers, rows, and ``Service`` (an app and its roles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from features.ids import org_check_char, person_check_char, uscc_check_char
from scoring.auth import issue_token
from scoring.identity import IdentityVault
from scoring.settings import Settings


def pid(birth: str = "19800101", seq: str = "001", district: str = "110105") -> str:
    body = district + birth + seq
    return body + person_check_char(body)


def org_code(org8: str = "MA000001") -> str:
    body = "91" + "350102" + org8 + org_check_char(org8)
    return body + uscc_check_char(body)


P1, P2 = pid(), pid("19910715", "022")
ORG, ORG2 = org_code(), org_code("MA000002")


def sic(subject: str, period: str = "2024-01", amount: str = "100") -> dict[str, Any]:
    return {"kind": "social_insurance_contribution", "subject_id": subject, "event_date": f"{period}-05",
            "department": "hrss", "period": period, "insurance": "pension", "amount": amount,
            "status": "paid"}  # fmt: skip


def registration(code: str, rep: str, name: str = "Alpha Ltd") -> dict[str, Any]:
    return {"kind": "org_registration", "subject_id": code, "event_date": "2020-03-01",
            "department": "market_regulation", "name": name, "sector": "retail", "size": "micro",
            "registered_on": "2020-02-28", "legal_rep_id": rep}  # fmt: skip


class Service:
    """A running app (TestClient) and helpers to call it as each role."""

    def __init__(self, client: TestClient, settings: Settings, engine: sa.Engine) -> None:
        self.client = client
        self.settings = settings
        self.engine = engine
        self.vault = IdentityVault.from_settings(settings)
        self.admin = self.token("admin", "admin-1")
        self.keys: dict[str, str] = {}

    def token(self, role: str, subject: str, orgs: tuple[str, ...] = (), **kw: Any) -> str:
        return issue_token(self.settings, role=role, subject=subject, orgs=orgs, **kw)

    def key(self, role: str, name: str, department: str | None = None) -> str:
        r = self.client.post(
            "/v1/admin/api-keys",
            json={"role": role, "name": name, "department": department},
            headers=self.auth(self.admin),
        )
        assert r.status_code == 201, r.text
        return str(r.json()["api_key"])

    @staticmethod
    def auth(credential: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {credential}"}

    def pseudonym(self, number: str) -> str:
        return self.vault.lookup_key(number)

    def citizen(self, number: str = P1) -> str:
        return self.token("citizen", self.pseudonym(number))

    def seed(self) -> None:
        """hrss and market_regulation keys, bank and partner keys; P1 with two contributions, ORG
        registered with P2 as its legal representative."""
        self.keys = {
            "hrss": self.key("department", "hrss-feed", "hrss"),
            "market_regulation": self.key("department", "samr-feed", "market_regulation"),
            "bank": self.key("bank", "citybank"),
            "partner": self.key("partner", "metro"),
        }
        for dept, records in (
            ("hrss", [sic(P1), sic(P1, "2024-02")]),
            ("market_regulation", [registration(ORG, P2)]),
        ):
            r = self.client.post(
                "/v1/department/batches", json={"records": records}, headers=self.auth(self.keys[dept])
            )
            assert r.status_code == 201, r.text


def make_settings(db_url: str, tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": db_url,
        "bundle_dir": tmp / "bundles",
        "var_dir": tmp,
        "rate_limit_per_minute": 6000.0,
        "rate_limit_burst": 1000,
        **overrides,
    }
    return Settings(**values)
