"""Who is calling: bearer JWTs for people, hashed API keys for institutions.

Roles:

* people, with an OIDC-style bearer JWT (HS256, ``kid`` header; claims ``iss``, ``sub``, ``aud``,
  ``exp``, ``iat``, ``role``): ``citizen`` (``sub`` is the citizen's subject pseudonym, the
  HMAC ``subject_key``, never the identity number), ``enterprise_rep`` (acts for the
  organisations in its ``orgs`` claim: unified social credit codes), ``supervisor``,
  ``reviewer``, ``admin`` (``sub`` is a staff id);
* institutions, with an API key: ``bank`` and ``partner`` (``name`` is the institution's code),
  ``department`` (``department`` is its catalogue code).

An API key reads ``ck_<key id>_<secret>``: the key id (public) finds the row, the SHA-256 of the
whole key is compared in constant time. The key itself is shown once, when issued.

Errors:

* ``AuthError``: a missing, malformed, expired, revoked or otherwise invalid credential (HTTP 401).
* ``CredentialError`` (a ``ValueError``): a credential that must not be issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from features.ids import IdentifierError, parse_org_code
from scoring.db.tables import ApiKey
from scoring.settings import Settings

__all__ = [
    "KEY_ROLES",
    "PERSON_ROLES",
    "ROLES",
    "AuthError",
    "CredentialError",
    "Principal",
    "authenticate",
    "issue_api_key",
    "issue_token",
    "list_api_keys",
    "revoke_api_key",
    "verify_api_key",
    "verify_token",
]

PERSON_ROLES = ("citizen", "enterprise_rep", "supervisor", "reviewer", "admin")
KEY_ROLES = ("bank", "partner", "department")
ROLES = PERSON_ROLES + KEY_ROLES

KEY_PREFIX = "ck_"
_KEY_RE = re.compile(r"^ck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_PSEUDONYM_RE = re.compile(r"^[0-9a-f]{64}$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
_STAFF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,95}$")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


class AuthError(Exception):
    """The credential does not authenticate anyone."""


class CredentialError(ValueError):
    """A credential that must not be issued."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``id``: the JWT ``sub``, or the API key's client name."""

    role: str
    id: str
    orgs: tuple[str, ...] = ()
    department: str | None = None
    key_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log and query register name this caller."""
        return f"{self.role}:{self.id}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- bearer JWTs -------------------------------------------------------------------------------


def _check_person_claims(role: str, subject: str, orgs: Sequence[str]) -> None:
    if role not in PERSON_ROLES:
        raise CredentialError(f"role {role!r} does not use tokens (one of {', '.join(PERSON_ROLES)})")
    if role == "citizen" and not _PSEUDONYM_RE.match(subject):
        raise CredentialError("a citizen's subject is its pseudonym (64 hex characters), not a number")
    if role != "citizen" and not _STAFF_RE.match(subject):
        raise CredentialError("subject: letters, digits and _.@- only, at most 96 characters")
    if role == "enterprise_rep":
        if not orgs:
            raise CredentialError("an enterprise representative acts for at least one organisation")
        for code in orgs:
            try:
                parse_org_code(code)
            except IdentifierError as exc:
                raise CredentialError(f"organisation code: {exc}") from None
    elif orgs:
        raise CredentialError("only an enterprise representative acts for organisations")


def issue_token(
    settings: Settings,
    *,
    role: str,
    subject: str,
    orgs: Sequence[str] = (),
    ttl_seconds: int | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A signed bearer token (the identity provider's job in production; development and tests)."""
    _check_person_claims(role, subject, orgs)
    issued = now or _utcnow()
    ttl = settings.jwt_ttl_seconds if ttl_seconds is None else ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "sub": subject,
        "aud": settings.jwt_audience,
        "iat": int(issued.replace(tzinfo=dt.UTC).timestamp()),
        "exp": int((issued + dt.timedelta(seconds=ttl)).replace(tzinfo=dt.UTC).timestamp()),
        "role": role,
    }
    if orgs:
        claims["orgs"] = list(orgs)
    kid = settings.jwt_key_id
    return jwt.encode(claims, settings.jwt_keys()[kid], algorithm="HS256", headers={"kid": kid})


def verify_token(settings: Settings, token: str) -> Principal:
    """The principal of a valid token; ``AuthError`` otherwise (the reason is not for the caller)."""
    try:
        header = jwt.get_unverified_header(token)
        key = settings.jwt_keys().get(str(header.get("kid")))
        if key is None:
            raise AuthError("unknown key id")
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "role"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        raise AuthError(type(exc).__name__) from None
    role, subject, orgs = claims["role"], claims["sub"], claims.get("orgs", [])
    if not isinstance(role, str) or not isinstance(subject, str) or not isinstance(orgs, list):
        raise AuthError("malformed claims")
    try:
        _check_person_claims(role, subject, [str(o) for o in orgs])
    except CredentialError as exc:
        raise AuthError(str(exc)) from None
    return Principal(role=role, id=subject, orgs=tuple(str(o) for o in orgs))


# --- API keys ----------------------------------------------------------------------------------


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(
    session: Session,
    *,
    role: str,
    name: str,
    created_by: str,
    department: str | None = None,
    departments: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> tuple[str, ApiKey]:
    """Create an API key; returns the key (shown once) and its stored row (hash only).

    ``departments``: the catalogue's department codes, which a department key must name.
    """
    if role not in KEY_ROLES:
        raise CredentialError(f"role {role!r} does not use API keys (one of {', '.join(KEY_ROLES)})")
    if not _NAME_RE.match(name):
        raise CredentialError("name: 2-64 of a-z 0-9 _ . - starting with a letter or digit")
    if role == "department":
        if department not in set(departments):
            raise CredentialError(f"unknown department {department!r}")
    elif department is not None:
        raise CredentialError("only a department key names a department")
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        key_id=key_id,
        key_hash=_hash_key(key),
        role=role,
        name=name,
        department=department,
        created_at=now or _utcnow(),
        created_by=created_by[:96],
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return key, row


def verify_api_key(session: Session, key: str) -> Principal:
    """The principal of a valid, unrevoked key; ``AuthError`` otherwise."""
    m = _KEY_RE.match(key)
    row = None
    if m is not None:
        row = session.execute(select(ApiKey).where(ApiKey.key_id == m.group(1))).scalar_one_or_none()
    # Compare even when there is no such key, so timing does not tell which key ids exist.
    stored = row.key_hash if row is not None else _DUMMY_HASH
    same = hmac.compare_digest(stored, _hash_key(key))
    if row is None or not same or row.revoked_at is not None:
        raise AuthError("invalid API key")
    return Principal(role=row.role, id=row.name, department=row.department, key_id=row.key_id)


def revoke_api_key(session: Session, key_id: str, *, now: dt.datetime | None = None) -> ApiKey | None:
    row = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or _utcnow()
        session.flush()
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.execute(select(ApiKey).order_by(ApiKey.id)).scalars())


def authenticate(session: Session, settings: Settings, credential: str) -> Principal:
    """A bearer credential: an API key (``ck_...``) or a JWT."""
    if credential.startswith(KEY_PREFIX):
        return verify_api_key(session, credential)
    return verify_token(settings, credential)
