"""Red, black, watch and serious-dishonesty lists (红黑名单、重点关注名单、严重失信主体名单).

A listing is a department's determination about one subject, with the document number, the
field (``area``), the legal basis and its dates. Workflow::

    proposed ──verify──► verified ──publish──► published ──exit──► exited

Verification is by someone other than the proposer (four eyes). Exit from a punitive list needs
a credit commitment (信用承诺) recorded in the records store. Any other transition is refused
with a :class:`ListingError` naming the state the listing is in. Minors are never listed, at
proposal or at publication.

A published listing of a list type with a record-catalogue kind (``scoring/measures.yaml``:
serious_dishonesty → ``serious_dishonesty_list``, red → ``red_list``) is also written to the
records store as that kind (``record_uid`` as ingestion computes it from the kind, the subject's
pseudonym and the document number; version n+1 if the record exists with other content), so
scoring sees it; its exit appends a ``repaired`` (punitive) or ``withdrawn`` (red) record event.
The caller rescores the subject and reconciles its benefit grants afterwards.

National imports (:func:`import_national`): a CSV (UTF-8, header) or JSON Lines file, one
listing per row, columns ``list_type, subject_type, subject_id, department, doc_no, area,
legal_basis, decided_on, valid_to``. Idempotent by the file's SHA-256 and, row by row, by
(list type, department, document number, subject). Every row is accepted, a duplicate, or
quarantined with a reason (identity numbers masked). Accepted rows land ``verified`` (the national
platform determined them) or ``published`` with ``publish=True``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from features.catalogue import Catalogue, RecordKind, load_catalogue
from features.fieldtypes import mask_id_numbers
from features.ids import IdentifierError, parse_org_code, parse_person_id
from features.pointintime import DISPUTE_CLOSE, DISPUTE_OPEN, DROP_EVENTS
from scoring.audit import AuditLog
from scoring.db.incentive_tables import Listing, ListingImport, ListingImportRow
from scoring.db.tables import Record, RecordEvent, Subject
from scoring.dedup import blake
from scoring.identity import IdentityVault
from scoring.measure_catalogue import MeasureCatalogue, load_measures
from scoring.scores import is_minor

__all__ = [
    "IMPORT_COLUMNS",
    "ActiveListing",
    "ImportResult",
    "ListingError",
    "active_listings",
    "exit_listing",
    "find_subject",
    "import_national",
    "listing_view",
    "listings_of",
    "propose_listing",
    "publish_listing",
    "quarantined_import_rows",
    "record_commitment",
    "subject_is_minor",
    "verify_listing",
]

IMPORT_COLUMNS = (
    "list_type",
    "subject_type",
    "subject_id",
    "department",
    "doc_no",
    "area",
    "legal_basis",
    "decided_on",
    "valid_to",
)
NATIONAL = "national"


class ListingError(ValueError):
    """A listing that cannot be made or a transition that is not allowed."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- subjects ------------------------------------------------------------------------------------


def find_subject(session: Session, vault: IdentityVault, identifier: str) -> Subject | None:
    """A subject by identity number (persons), unified social credit code (organisations) or
    pseudonym (64 hex characters)."""
    value = identifier.strip().upper()
    if len(value) == 64 and all(c in "0123456789ABCDEF" for c in value):
        key = value.lower()
    elif len(value) == 18 and value[:17].isdigit():
        key = vault.lookup_key(parse_person_id(value).number)
    else:
        key = parse_org_code(value).code
    return session.execute(sa.select(Subject).where(Subject.subject_key == key)).scalar_one_or_none()


def subject_is_minor(subject: Subject, vault: IdentityVault, on: dt.date) -> bool:
    """Under 18 on ``on``: the identity number's birth date settles it; with the birth year only,
    a person who may still be 17 counts as a minor (never list someone who might be a child)."""
    if subject.subject_type != "person":
        return False
    birth: dt.date | None = None
    if subject.id_cipher:
        try:
            birth = parse_person_id(vault.decrypt(subject.id_cipher), today=dt.date.max).birth_date
        except (IdentifierError, ValueError):
            birth = None
    if birth is None and subject.birth_year is None:
        return True  # nothing tells the age: refuse rather than risk listing a child
    return is_minor(birth, subject.birth_year, on)


# --- workflow ------------------------------------------------------------------------------------


def _kind_of(cat: MeasureCatalogue, list_type: str) -> RecordKind | None:
    kind = cat.list_type(list_type).kind
    return load_catalogue().kind(kind) if kind else None


def _check_determination(
    records_cat: Catalogue,
    cat: MeasureCatalogue,
    *,
    list_type: str,
    subject: Subject,
    department: str,
    doc_no: str,
    area: str,
    legal_basis: str,
    decided_on: dt.date,
    valid_to: dt.date,
    vault: IdentityVault,
    today: dt.date,
) -> None:
    cat.list_type(list_type)
    if department not in records_cat.departments:
        raise ListingError(f"unknown department {department!r}")
    for name, value, limit in (("doc_no", doc_no, 64), ("area", area, 80)):
        if not value or not value.strip():
            raise ListingError(f"{name} is required")
        if len(value) > limit:
            raise ListingError(f"{name}: at most {limit} characters")
    if not legal_basis or not legal_basis.strip():
        raise ListingError("legal_basis is required: a list needs its legal basis")
    if valid_to <= decided_on:
        raise ListingError("valid_to must be after decided_on")
    if decided_on > today:
        raise ListingError("decided_on lies in the future")
    if subject_is_minor(subject, vault, decided_on) or subject_is_minor(subject, vault, today):
        raise ListingError("minors are never listed")
    kind = _kind_of(cat, list_type)
    if kind is not None:
        stype = "person" if subject.subject_type == "person" else "org"
        if stype == "org" and not ({"org", subject.subject_type} & set(kind.subject_types)):
            raise ListingError(f"{kind.code} does not apply to {subject.subject_type}")
        if stype == "person" and "person" not in kind.subject_types:
            raise ListingError(f"{kind.code} does not apply to persons")
        if department not in kind.departments:
            raise ListingError(
                f"department {department} does not determine {kind.code} in the record catalogue"
                f" ({', '.join(kind.departments)})"
            )
        months = (valid_to.year - decided_on.year) * 12 + valid_to.month - decided_on.month
        months += 1 if valid_to.day > decided_on.day else 0
        if months > kind.publicity_max_months:
            raise ListingError(f"valid_to: a {kind.code} lasts at most {kind.publicity_max_months} months")


def _audit(
    session: Session, audit: AuditLog, actor: str, action: str, subject: Subject, listing: Listing
) -> None:
    audit.append(
        session,
        actor=actor,
        action=action,
        subject_ref=subject.subject_key,
        details={"listing": listing.id, "list_type": listing.list_type, "doc_no": listing.doc_no},
    )


def propose_listing(
    session: Session,
    audit: AuditLog,
    vault: IdentityVault,
    *,
    list_type: str,
    subject: Subject,
    department: str,
    doc_no: str,
    area: str,
    legal_basis: str,
    decided_on: dt.date,
    valid_to: dt.date,
    actor: str,
    catalogue: MeasureCatalogue | None = None,
    now: dt.datetime | None = None,
) -> Listing:
    """A department proposes a listing (state ``proposed``; the caller commits)."""
    cat = catalogue or load_measures()
    when = now or _now()
    _check_determination(
        load_catalogue(),
        cat,
        list_type=list_type,
        subject=subject,
        department=department,
        doc_no=doc_no,
        area=area,
        legal_basis=legal_basis,
        decided_on=decided_on,
        valid_to=valid_to,
        vault=vault,
        today=when.date(),
    )
    if _existing(session, list_type, department, doc_no.strip(), subject.id) is not None:
        raise ListingError(f"{department} {doc_no} already lists this subject on the {list_type} list")
    row = Listing(
        list_type=list_type,
        subject_id=subject.id,
        department=department,
        doc_no=doc_no.strip(),
        area=area.strip(),
        legal_basis=legal_basis.strip(),
        decided_on=decided_on,
        valid_to=valid_to,
        source="local",
        status="proposed",
        proposed_by=actor[:128],
        proposed_at=when,
    )
    session.add(row)
    session.flush()
    _audit(session, audit, actor, "listing.propose", subject, row)
    return row


def _existing(
    session: Session, list_type: str, department: str, doc_no: str, subject_id: int
) -> Listing | None:
    return session.execute(
        sa.select(Listing).where(
            Listing.list_type == list_type,
            Listing.department == department,
            Listing.doc_no == doc_no,
            Listing.subject_id == subject_id,
        )
    ).scalar_one_or_none()


def _get(session: Session, listing_id: int, *, lock: bool = True) -> tuple[Listing, Subject]:
    stmt = sa.select(Listing).where(Listing.id == listing_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise ListingError(f"no listing {listing_id}")
    subject = session.get(Subject, row.subject_id)
    if subject is None:
        raise ListingError(f"listing {listing_id}: its subject no longer exists")
    return row, subject


def _expect(row: Listing, action: str, *states: str) -> None:
    if row.status not in states:
        raise ListingError(f"listing {row.id} is {row.status}: {action} needs it {' or '.join(states)}")


def verify_listing(
    session: Session, audit: AuditLog, listing_id: int, *, actor: str, now: dt.datetime | None = None
) -> Listing:
    """proposed → verified, by someone other than the proposer."""
    row, subject = _get(session, listing_id)
    _expect(row, "verify", "proposed")
    if actor == row.proposed_by:
        raise ListingError(f"listing {row.id}: the proposer cannot verify it (four eyes)")
    row.status, row.verified_by, row.verified_at = "verified", actor[:128], now or _now()
    session.flush()
    _audit(session, audit, actor, "listing.verify", subject, row)
    return row


def publish_listing(
    session: Session,
    audit: AuditLog,
    vault: IdentityVault,
    listing_id: int,
    *,
    actor: str,
    catalogue: MeasureCatalogue | None = None,
    now: dt.datetime | None = None,
) -> Listing:
    """verified → published; a list type with a catalogue kind also becomes a record."""
    cat = catalogue or load_measures()
    when = now or _now()
    row, subject = _get(session, listing_id)
    _expect(row, "publish", "verified")
    if subject_is_minor(subject, vault, when.date()):
        raise ListingError("minors are never listed")
    kind = _kind_of(cat, row.list_type)
    if kind is not None:
        row.record_uid = _write_record(session, kind, subject, row, when)
    row.status, row.published_by, row.published_at = "published", actor[:128], when
    session.flush()
    _audit(session, audit, actor, "listing.publish", subject, row)
    return row


def _canonical(values: Mapping[str, Any]) -> str:
    clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items() if v is not None}
    return json.dumps(clean, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _outcome_field(kind: RecordKind) -> str | None:
    return next((f.name for f in kind.fields.values() if f.column == "outcome"), None)


def _store_record(
    session: Session,
    kind: RecordKind,
    subject: Subject,
    natural_key: str,
    fields: Mapping[str, Any],
    *,
    event_date: dt.date,
    department: str,
    when: dt.datetime,
) -> str:
    """Write a record the way ingestion would (same record_uid and content hash); a new version
    only when the content differs from the latest stored one."""
    uid = blake([f"{kind.code}|{subject.subject_key}|{natural_key}"])[0]
    content_hash = blake([_canonical({**fields, "event_date": event_date})])[0]
    latest = session.execute(
        sa.select(Record.version, Record.content_hash)
        .where(Record.record_uid == uid)
        .order_by(Record.version.desc())
        .limit(1)
    ).first()
    if latest is not None and latest[1] == content_hash:
        return uid
    payload = {k: v for k, v in fields.items()}
    cat = load_catalogue()
    outcome = _outcome_field(kind)
    session.execute(
        sa.insert(Record).values(
            record_uid=uid,
            version=1 if latest is None else int(latest[0]) + 1,
            subject_id=subject.id,
            kind=kind.code,
            department=department,
            event_date=event_date,
            publicity_end=kind.publicity_end(event_date, payload, cat.severity_periods),
            severity=kind.severity_of(payload),
            recorded_at=when,
            batch_id=None,
            content_hash=content_hash,
            amount=None,
            quantity=None,
            outcome=str(fields[outcome])[:80] if outcome and fields.get(outcome) is not None else None,
            payload=_canonical(payload),
        )
    )
    return uid


def _write_record(
    session: Session, kind: RecordKind, subject: Subject, row: Listing, when: dt.datetime
) -> str:
    fields: dict[str, Any] = {"doc_no": row.doc_no}
    outcome = _outcome_field(kind)
    if outcome:
        fields[outcome] = row.area
    if "end_date" in kind.fields:
        fields["end_date"] = row.valid_to
    return _store_record(
        session,
        kind,
        subject,
        row.doc_no,
        fields,
        event_date=row.decided_on,
        department=row.department,
        when=when,
    )


def record_commitment(
    session: Session,
    *,
    subject: Subject,
    commitment_no: str,
    item: str,
    department: str,
    signed_on: dt.date,
    status: str = "signed",
    now: dt.datetime | None = None,
) -> str:
    """Record a credit commitment (信用承诺) in the records store; returns its record_uid."""
    kind = load_catalogue().kind("credit_commitment")
    if department not in kind.departments:
        raise ListingError(f"department {department} does not record credit commitments")
    if not commitment_no.strip() or not item.strip():
        raise ListingError("a commitment needs its number and what it promises")
    fields = {"commitment_no": commitment_no.strip(), "item": item.strip()[:120], "status": status}
    return _store_record(
        session,
        kind,
        subject,
        commitment_no.strip(),
        fields,
        event_date=signed_on,
        department=department,
        when=now or _now(),
    )


def _commitment_recorded(session: Session, subject: Subject, commitment_no: str) -> bool:
    uid = blake([f"credit_commitment|{subject.subject_key}|{commitment_no.strip()}"])[0]
    outcome = session.execute(
        sa.select(Record.outcome).where(Record.record_uid == uid).order_by(Record.version.desc()).limit(1)
    ).first()
    return outcome is not None and outcome[0] != "broken"


def exit_listing(
    session: Session,
    audit: AuditLog,
    listing_id: int,
    *,
    actor: str,
    reason: str,
    commitment_no: str | None = None,
    catalogue: MeasureCatalogue | None = None,
    effective: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Listing:
    """published → exited. A punitive list needs a recorded credit commitment (by its number)."""
    cat = catalogue or load_measures()
    when = now or _now()
    row, subject = _get(session, listing_id)
    _expect(row, "exit", "published")
    if not reason or not reason.strip():
        raise ListingError("an exit needs its reason")
    if cat.list_type(row.list_type).exit_requires_commitment:
        if not commitment_no:
            raise ListingError(
                f"leaving the {row.list_type} list needs a credit commitment (信用承诺): give its number"
            )
        if not _commitment_recorded(session, subject, commitment_no):
            raise ListingError(f"no credit commitment {commitment_no} is recorded for this subject")
    day = effective or when.date()
    if row.record_uid is not None:
        negative = cat.list_type(row.list_type).polarity == "negative"
        session.add(
            RecordEvent(
                record_uid=row.record_uid,
                subject_id=subject.id,
                event_type="repaired" if negative else "withdrawn",
                effective_date=day,
                recorded_at=when,
                actor=actor[:64],
                reason=reason.strip(),
                reference=(commitment_no or row.doc_no)[:64],
            )
        )
    row.status, row.exited_by, row.exited_at = "exited", actor[:128], when
    row.exit_commitment = commitment_no.strip() if commitment_no else None
    row.exit_reason = reason.strip()
    session.flush()
    _audit(session, audit, actor, "listing.exit", subject, row)
    return row


def listings_of(session: Session, subject_id: int | None = None, status: str | None = None) -> list[Listing]:
    stmt = sa.select(Listing)
    if subject_id is not None:
        stmt = stmt.where(Listing.subject_id == subject_id)
    if status is not None:
        stmt = stmt.where(Listing.status == status)
    return list(session.execute(stmt.order_by(Listing.id)).scalars())


def listing_view(row: Listing, cat: MeasureCatalogue | None = None) -> dict[str, Any]:
    lt = (cat or load_measures()).list_type(row.list_type)
    return {
        "id": row.id,
        "list_type": row.list_type,
        "list_name": lt.zh,
        "department": row.department,
        "doc_no": row.doc_no,
        "area": row.area,
        "legal_basis": row.legal_basis,
        "decided_on": row.decided_on.isoformat(),
        "valid_to": row.valid_to.isoformat(),
        "source": row.source,
        "status": row.status,
        "exit_commitment": row.exit_commitment,
        "record_uid": row.record_uid,
    }


# --- what is in force ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveListing:
    """A listing in force: from the lists (``source='list'``) or a listing record (``'record'``)."""

    source: str
    list_type: str | None
    kind: str | None
    department: str
    doc_no: str | None
    area: str | None
    valid_to: dt.date
    record_uid: str | None = None
    listing_id: int | None = None


def _rows(bind: Session | Connection, stmt: Any) -> list[Any]:
    return list(bind.execute(stmt).all())


def active_listings(
    bind: Session | Connection,
    subject_id: int,
    today: dt.date,
    *,
    catalogue: MeasureCatalogue | None = None,
) -> list[ActiveListing]:
    """Listings in force for the subject on ``today``: published, not exited listings with
    ``decided_on <= today < valid_to``, and listing records of the records store (latest version,
    within its publicity period, not withdrawn, repaired or expired, not under an open dispute —
    a disputed record is not used against anyone)."""
    cat = catalogue or load_measures()
    to_type = cat.kind_to_list_type()
    out: list[ActiveListing] = []
    seen: set[str] = set()
    for row in _rows(
        bind,
        sa.select(Listing).where(Listing.subject_id == subject_id, Listing.status == "published"),
    ):
        lst = row[0]
        if not (lst.decided_on <= today < lst.valid_to):
            continue
        kind = cat.list_type(lst.list_type).kind
        out.append(
            ActiveListing(
                "list",
                lst.list_type,
                kind,
                lst.department,
                lst.doc_no,
                lst.area,
                lst.valid_to,
                lst.record_uid,
                lst.id,
            )
        )
        if lst.record_uid:
            seen.add(lst.record_uid)
    kinds = [k.code for k in load_catalogue().kinds.values() if k.listing]
    recs = _rows(
        bind,
        sa.select(
            Record.record_uid,
            Record.version,
            Record.kind,
            Record.department,
            Record.event_date,
            Record.publicity_end,
            Record.outcome,
            Record.payload,
        )
        .where(Record.subject_id == subject_id, Record.kind.in_(kinds))
        .order_by(Record.record_uid, Record.version.desc()),
    )
    latest: dict[str, Any] = {}
    for r in recs:
        latest.setdefault(r.record_uid, r)
    if not latest:
        return out
    events = _rows(
        bind,
        sa.select(RecordEvent.record_uid, RecordEvent.event_type, RecordEvent.effective_date, RecordEvent.id)
        .where(RecordEvent.subject_id == subject_id, RecordEvent.record_uid.in_(list(latest)))
        .order_by(RecordEvent.effective_date, RecordEvent.id),
    )
    dropped: set[str] = set()
    dispute: dict[str, str] = {}
    for e in events:
        if _date(e.effective_date) > today:
            continue
        if e.event_type in DROP_EVENTS:
            dropped.add(e.record_uid)
        elif e.event_type == DISPUTE_OPEN or e.event_type in DISPUTE_CLOSE:
            dispute[e.record_uid] = e.event_type
    for uid, r in latest.items():
        if uid in seen or uid in dropped or dispute.get(uid) == DISPUTE_OPEN:
            continue
        if not (_date(r.event_date) <= today < _date(r.publicity_end)):
            continue
        try:
            doc_no = json.loads(r.payload).get("doc_no")
        except ValueError:
            doc_no = None
        out.append(
            ActiveListing(
                "record",
                to_type.get(r.kind),
                r.kind,
                r.department,
                doc_no,
                r.outcome,
                _date(r.publicity_end),
                uid,
            )
        )
    return out


# --- national imports ----------------------------------------------------------------------------


@dataclass
class ImportResult:
    import_id: int
    rows_read: int
    accepted: int
    duplicate: int
    quarantined: int
    replayed: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    listing_ids: list[int] = field(default_factory=list)


def _parse_rows(data: bytes, source_name: str) -> list[dict[str, Any]]:
    text = data.decode("utf-8-sig")
    if source_name.endswith((".jsonl", ".json")):
        rows: list[dict[str, Any]] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                value = {"_invalid": line}
            rows.append(value if isinstance(value, dict) else {"_invalid": line})
        return rows
    return [dict(r) for r in csv.DictReader(io.StringIO(text))]


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _import_row(
    session: Session,
    vault: IdentityVault,
    cat: MeasureCatalogue,
    raw: Mapping[str, Any],
    today: dt.date,
) -> dict[str, Any]:
    if "_invalid" in raw:
        raise _Reject("malformed_row", "not a JSON object")
    values = {c: str(raw.get(c) or "").strip() for c in IMPORT_COLUMNS}
    missing = [c for c, v in values.items() if not v]
    if missing:
        raise _Reject("missing_field", f"missing {', '.join(missing)}")
    if values["list_type"] not in cat.list_types:
        raise _Reject("unknown_list_type", f"unknown list type {values['list_type']!r}")
    if values["department"] not in load_catalogue().departments:
        raise _Reject("unknown_department", f"unknown department {values['department']!r}")
    try:
        decided, valid_to = (
            dt.date.fromisoformat(values["decided_on"]),
            dt.date.fromisoformat(values["valid_to"]),
        )
    except ValueError:
        raise _Reject("invalid_date", "decided_on and valid_to must be YYYY-MM-DD") from None
    try:
        if values["subject_type"] == "person":
            key = vault.lookup_key(parse_person_id(values["subject_id"]).number)
            subject = session.execute(
                sa.select(Subject).where(Subject.subject_key == key, Subject.subject_type == "person")
            ).scalar_one_or_none()
        elif values["subject_type"] == "org":
            code = parse_org_code(values["subject_id"]).code
            subject = session.execute(
                sa.select(Subject).where(Subject.subject_key == code, Subject.subject_type != "person")
            ).scalar_one_or_none()
        else:
            raise _Reject("invalid_subject_type", "subject_type must be person or org")
    except IdentifierError as exc:
        raise _Reject("invalid_identifier", str(exc)) from None
    if subject is None:
        raise _Reject("unknown_subject", "no such subject in this city's records")
    try:
        _check_determination(
            load_catalogue(),
            cat,
            list_type=values["list_type"],
            subject=subject,
            department=values["department"],
            doc_no=values["doc_no"],
            area=values["area"],
            legal_basis=values["legal_basis"],
            decided_on=decided,
            valid_to=valid_to,
            vault=vault,
            today=today,
        )
    except ListingError as exc:
        code = "minor" if "minor" in str(exc) else "invalid_listing"
        raise _Reject(code, str(exc)) from None
    return {**values, "subject": subject, "decided_on": decided, "valid_to": valid_to}


def import_national(
    session: Session,
    audit: AuditLog,
    vault: IdentityVault,
    data: bytes,
    *,
    source_name: str,
    actor: str,
    publish: bool = False,
    catalogue: MeasureCatalogue | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import a national-platform list file (the caller commits). The same file again returns
    the stored import (``replayed``); rows already listed count as duplicates."""
    cat = catalogue or load_measures()
    when = now or _now()
    digest = hashlib.sha256(data).hexdigest()
    old = session.execute(
        sa.select(ListingImport).where(ListingImport.file_sha256 == digest)
    ).scalar_one_or_none()
    if old is not None:
        return ImportResult(
            old.id, old.rows_read, old.accepted, old.duplicate, old.quarantined, replayed=True
        )
    rows = _parse_rows(data, source_name)
    imp = ListingImport(
        source_name=source_name[:300],
        file_sha256=digest,
        rows_read=len(rows),
        accepted=0,
        duplicate=0,
        quarantined=0,
        imported_by=actor[:128],
        imported_at=when,
    )
    session.add(imp)
    session.flush()
    result = ImportResult(imp.id, len(rows), 0, 0, 0)
    in_file: set[tuple[str, str, str, int]] = set()
    for line_no, raw in enumerate(rows, start=2 if not source_name.endswith((".jsonl", ".json")) else 1):
        try:
            v = _import_row(session, vault, cat, raw, when.date())
            key = (v["list_type"], v["department"], v["doc_no"], v["subject"].id)
            if key in in_file or _existing(session, *key) is not None:
                result.duplicate += 1
                continue
        except _Reject as rej:
            result.quarantined += 1
            result.reasons[rej.code] = result.reasons.get(rej.code, 0) + 1
            session.add(
                ListingImportRow(
                    import_id=imp.id,
                    line_no=line_no,
                    reason_code=rej.code,
                    message=mask_id_numbers(rej.message),
                )
            )
            continue
        in_file.add(key)
        lst = Listing(
            list_type=v["list_type"],
            subject_id=v["subject"].id,
            department=v["department"],
            doc_no=v["doc_no"],
            area=v["area"],
            legal_basis=v["legal_basis"],
            decided_on=v["decided_on"],
            valid_to=v["valid_to"],
            source=NATIONAL,
            status="verified",
            proposed_by=f"{NATIONAL}:{source_name}"[:128],
            proposed_at=when,
            verified_by=actor[:128],
            verified_at=when,
            import_id=imp.id,
        )
        session.add(lst)
        session.flush()
        _audit(session, audit, actor, "listing.import", v["subject"], lst)
        if publish:
            publish_listing(session, audit, vault, lst.id, actor=actor, catalogue=cat, now=when)
        result.accepted += 1
        result.listing_ids.append(lst.id)
    imp.accepted, imp.duplicate, imp.quarantined = result.accepted, result.duplicate, result.quarantined
    session.flush()
    return result


def quarantined_import_rows(session: Session, import_id: int) -> list[ListingImportRow]:
    return list(
        session.execute(
            sa.select(ListingImportRow)
            .where(ListingImportRow.import_id == import_id)
            .order_by(ListingImportRow.line_no)
        ).scalars()
    )
