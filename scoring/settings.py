"""Service settings: one typed object, built once by the app factory or the CLI, passed in.

* ``SettingsError`` (a ``ValueError``): development secrets used outside development.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEV_AUDIT_ANCHOR_KEY",
    "DEV_ENCRYPTION_KEYS",
    "DEV_JWT_SECRET",
    "DEV_PEPPER",
    "DEV_REPORT_KEY",
    "Settings",
    "SettingsError",
    "get_settings",
]

DEV_PEPPER = "dev-only-pepper-not-for-production"
# 32-byte AES keys, base64. Version -> key. Development only.
DEV_ENCRYPTION_KEYS = json.dumps({"1": base64.b64encode(b"dev-only-key-0123456789abcdefghi").decode()})
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
DEV_AUDIT_ANCHOR_KEY = "dev-only-audit-anchor-key-change-me-0123"
DEV_REPORT_KEY = "dev-only-report-key-change-me-0123456789"


class SettingsError(ValueError):
    """Settings that must not be used in this environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDIT_", env_file=".env", extra="ignore")

    environment: str = "development"  # development | test | production (or any other: secrets checked)
    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/credit.db"
    mlflow_tracking_uri: str = "sqlite:///var/mlflow.db"
    mlflow_artifact_root: str = "var/mlruns"
    bundle_dir: Path = Path("var/bundles")

    # Keyed hash (HMAC-SHA256) of identity numbers, for lookup.
    id_pepper: SecretStr = SecretStr(DEV_PEPPER)
    # Encryption of identity numbers at rest: JSON {version: base64 32-byte key} and the version in use.
    id_encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEYS)
    id_key_version: str = "1"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)

    # HTTP service. Bearer JWTs (HS256): ``jwt_secret`` signs under key id ``jwt_key_id``; older
    # keys still accepted while tokens signed with them expire: JSON {key id: secret}.
    jwt_key_id: str = "dev-1"
    jwt_previous_keys: SecretStr = SecretStr("{}")
    jwt_issuer: str = "credit-service"
    jwt_audience: str = "credit-api"
    jwt_ttl_seconds: int = 3600
    # HMAC key signing the audit log's chain head (audit_anchor), kept apart from the database.
    audit_anchor_key: SecretStr = SecretStr(DEV_AUDIT_ANCHOR_KEY)
    # Token bucket per API key: sustained requests per minute and burst size.
    rate_limit_per_minute: float = 600.0
    rate_limit_burst: int = 100
    # Threads per worker process running the (synchronous) routes. Few: many threads fighting over
    # the GIL stretch each transaction, and the audit chain's lock is held until the commit.
    http_threads: int = 4
    # HMAC key of the integrity codes printed on credit reports (scoring/reports.py), and the
    # public address a report's QR code and verify link point to.
    report_key: SecretStr = SecretStr(DEV_REPORT_KEY)
    public_base_url: str = "http://localhost:8000"

    # Modelling policy.
    pd_cutoff: float = 0.10  # approve-if-below cut-off used by the fairness gate and approval rates
    thin_file_min_records: int = 3  # see models/thinfile.py
    thin_file_min_tenure_months: int = 6
    # Lower score bounds of the tiers 中等, 良好, 优秀, 极好 (较差 starts at 350), and the upper PD
    # bounds of enterprise classes A, B, C (D above): see scoring/scores.py. JSON lists in the env.
    tier_bounds: tuple[int, int, int, int] = (550, 600, 650, 700)
    class_pd_bounds: tuple[float, float, float] = (0.03, 0.10, 0.25)
    # Suggested credit-loan limits answered to banks (None: scoring/credit_limits.yaml).
    credit_limits_file: Path | None = None

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.environment in ("development", "test"):
            return self
        dev = []
        if self.id_pepper.get_secret_value() == DEV_PEPPER:
            dev.append("CREDIT_ID_PEPPER")
        if self.id_encryption_keys.get_secret_value() == DEV_ENCRYPTION_KEYS:
            dev.append("CREDIT_ID_ENCRYPTION_KEYS")
        if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
            dev.append("CREDIT_JWT_SECRET")
        if self.audit_anchor_key.get_secret_value() == DEV_AUDIT_ANCHOR_KEY:
            dev.append("CREDIT_AUDIT_ANCHOR_KEY")
        if self.report_key.get_secret_value() == DEV_REPORT_KEY:
            dev.append("CREDIT_REPORT_KEY")
        if dev:
            raise SettingsError(f"development secrets refused outside development: {', '.join(dev)}")
        return self

    def encryption_keys(self) -> dict[str, bytes]:
        raw = json.loads(self.id_encryption_keys.get_secret_value())
        keys = {str(k): base64.b64decode(v) for k, v in raw.items()}
        for k, v in keys.items():
            if len(v) != 32:
                raise SettingsError(f"encryption key version {k} must be 32 bytes")
        if self.id_key_version not in keys:
            raise SettingsError(f"no encryption key for version {self.id_key_version}")
        return keys

    def jwt_keys(self) -> dict[str, bytes]:
        """Key id -> HS256 secret: the signing key first, then the older ones still accepted."""
        keys = {self.jwt_key_id: self.jwt_secret.get_secret_value().encode()}
        for kid, secret in json.loads(self.jwt_previous_keys.get_secret_value()).items():
            keys.setdefault(str(kid), str(secret).encode())
        for kid, secret in keys.items():
            if len(secret) < 32:
                raise SettingsError(f"JWT key {kid} must be at least 32 bytes")
        return keys


@lru_cache
def get_settings() -> Settings:
    return Settings()
