import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from scoring.db.migrate import check, downgrade, upgrade
from scoring.identity import IdentityVault
from scoring.settings import Settings, SettingsError


def test_migrations_up_down_and_agree_with_tables(db_url: str) -> None:
    check(db_url)
    downgrade(db_url, "base")
    eng = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        names = set(sa.inspect(eng).get_table_names()) - {"alembic_version"}
        assert names == set()
    finally:
        eng.dispose()
    upgrade(db_url)
    check(db_url)
    eng = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        assert {"subjects", "records", "record_events", "ingest_batches", "quarantined_rows"} <= set(
            sa.inspect(eng).get_table_names()
        )
    finally:
        eng.dispose()


def test_development_secrets_refused_in_production() -> None:
    with pytest.raises(
        ValidationError, match="CREDIT_ID_PEPPER, CREDIT_ID_ENCRYPTION_KEYS, CREDIT_JWT_SECRET"
    ):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="refused outside development: CREDIT_JWT_SECRET"):
        Settings(environment="staging", id_pepper="p" * 32, id_encryption_keys='{"1": "' + "A" * 43 + '="}')
    assert Settings(environment="test").environment == "test"
    assert issubclass(SettingsError, ValueError)


def test_vault_hash_encrypt_mask(vault: IdentityVault) -> None:
    number = "11010519491231002X"
    key = vault.lookup_key(number)
    assert key == vault.lookup_key(number) and len(key) == 64 and number not in key
    token = vault.encrypt(number)
    assert token.startswith("1:") and number not in token
    assert vault.encrypt(number) != token  # random nonce
    assert vault.decrypt(token) == number
    assert vault.masked(token) == "1101**********002X"
