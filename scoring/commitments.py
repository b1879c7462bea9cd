"""Credit commitments (信用承诺): item list and standard texts, online signing, publication in a
standard format, fulfilment tracking by the supervising department.

* The items and their texts are data (``scoring/commitments.yaml``, ``CommitmentTemplate``).
* ``sign``: a subject signs the text of an item; the commitment is ``signed`` with a due date
  (signing date + the item's term).
* ``due``: the signed commitments a department has to decide (due by a date).
* ``decide``: the department records ``fulfilled`` or ``broken``. A broken commitment becomes a
  ``credit_commitment`` record (status ``broken``) in the records store, with the record
  identity ingestion would give it (``blake2b("credit_commitment|subject_key|commitment_no")``),
  so a department file reporting the same breach later is a duplicate, not a second record.
* ``publication`` / ``published``: the standard public format. Only organisations' commitments
  are published; a person's commitments appear in their own credit report.

All functions work in the caller's session (the caller commits).

* ``CommitmentError`` (a ``ValueError``): unknown item or commitment, a subject type the item
  does not admit, a decision on a commitment already decided.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from features.catalogue import Catalogue, add_months, load_catalogue
from scoring.db.report_tables import CreditCommitment
from scoring.db.tables import Record, Subject
from scoring.dedup import blake
from scoring.identity import IdentityVault

__all__ = [
    "COMMITMENT_KIND",
    "CommitmentError",
    "CommitmentTemplate",
    "decide",
    "due",
    "load_templates",
    "of_subject",
    "publication",
    "published",
    "sign",
]

DEFAULT_PATH = Path(__file__).with_name("commitments.yaml")
COMMITMENT_KIND = "credit_commitment"
OUTCOMES = ("fulfilled", "broken")
_GROUPS = {
    "org": (
        "enterprise",
        "individual_business",
        "social_organization",
        "public_institution",
        "government_body",
    ),
    "business": ("enterprise", "individual_business"),
}


class CommitmentError(ValueError):
    """A commitment request the rules refuse."""


@dataclass(frozen=True)
class CommitmentTemplate:
    code: str
    version: str
    zh: str
    en: str
    department: str
    subject_types: frozenset[str]
    term_months: int
    legal_basis: str
    text: str

    def render(self, subject: Subject, identity: str, department_zh: str, due_date: dt.date) -> str:
        name = subject.name or ("承诺人" if subject.subject_type == "person" else "")
        return self.text.format(
            name=name, code=identity, item=self.zh, department=department_zh, due_date=due_date.isoformat()
        )


def _parse(raw: Mapping[str, Any], catalogue: Catalogue) -> dict[str, CommitmentTemplate]:
    version = str(raw["version"])
    allowed = set(catalogue.kind(COMMITMENT_KIND).departments)
    out: dict[str, CommitmentTemplate] = {}
    for code, item in raw["items"].items():
        if item["department"] not in allowed:
            raise CommitmentError(f"item {code}: department {item['department']} does not report commitments")
        types: set[str] = set()
        for s in item["subject_types"]:
            types.update(_GROUPS.get(s, (s,)))
        out[code] = CommitmentTemplate(
            code=code,
            version=version,
            zh=item["zh"],
            en=item["en"],
            department=item["department"],
            subject_types=frozenset(types),
            term_months=int(item["term_months"]),
            legal_basis=item["legal_basis"],
            text=" ".join(str(item["text"]).split()),
        )
    return out


@lru_cache
def _cached(path: str) -> dict[str, CommitmentTemplate]:
    return _parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")), load_catalogue())


def load_templates(path: str | Path | None = None) -> dict[str, CommitmentTemplate]:
    """The commitment items, by code (the packaged file by default)."""
    return _cached(str(Path(path or DEFAULT_PATH).resolve()))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _identity(subject: Subject, vault: IdentityVault | None) -> str:
    """The identifier printed on a commitment: an organisation's public code, a person's masked number."""
    if subject.subject_type != "person":
        return subject.subject_key
    if subject.id_cipher is None or vault is None:
        return "—"
    return vault.masked(subject.id_cipher)


def sign(
    session: Session,
    subject: Subject,
    item: str,
    *,
    signed_by: str,
    vault: IdentityVault | None = None,
    now: dt.datetime | None = None,
    templates: Mapping[str, CommitmentTemplate] | None = None,
    catalogue: Catalogue | None = None,
) -> CreditCommitment:
    """The subject signs the standard text of ``item`` (caller commits)."""
    tpl = (templates or load_templates()).get(item)
    if tpl is None:
        raise CommitmentError(f"unknown commitment item {item!r}")
    if subject.subject_type not in tpl.subject_types:
        raise CommitmentError(f"item {item} is not for subjects of type {subject.subject_type}")
    cat = catalogue or load_catalogue()
    when = now or _utcnow()
    due_date = add_months(when.date(), tpl.term_months)
    department_zh = cat.departments[tpl.department]["zh"]
    row = CreditCommitment(
        commitment_no=f"CM{when:%Y%m%d}{secrets.token_hex(5).upper()}",
        subject_id=subject.id,
        item=tpl.code,
        template_version=tpl.version,
        department=tpl.department,
        text=tpl.render(subject, _identity(subject, vault), department_zh, due_date),
        signed_at=when,
        signed_by=signed_by[:96],
        due_date=due_date,
        status="signed",
    )
    session.add(row)
    session.flush()
    return row


def _get(session: Session, commitment_no: str) -> CreditCommitment:
    row = session.execute(
        sa.select(CreditCommitment).where(CreditCommitment.commitment_no == commitment_no)
    ).scalar_one_or_none()
    if row is None:
        raise CommitmentError(f"no commitment {commitment_no}")
    return row


def due(session: Session, department: str, on: dt.date) -> list[CreditCommitment]:
    """Signed commitments of ``department`` due by ``on``, still to be decided (oldest first)."""
    stmt = (
        sa.select(CreditCommitment)
        .where(
            CreditCommitment.department == department,
            CreditCommitment.status == "signed",
            CreditCommitment.due_date <= on,
        )
        .order_by(CreditCommitment.due_date, CreditCommitment.id)
    )
    return list(session.execute(stmt).scalars())


def _record_for_breach(
    session: Session, row: CreditCommitment, on: dt.date, when: dt.datetime, catalogue: Catalogue
) -> str:
    subject = session.get(Subject, row.subject_id)
    if subject is None:
        raise CommitmentError(f"commitment {row.commitment_no}: subject {row.subject_id} missing")
    kind = catalogue.kind(COMMITMENT_KIND)
    tpl_zh = load_templates().get(row.item)
    fields = {"commitment_no": row.commitment_no, "item": (tpl_zh.zh if tpl_zh else row.item)[:120]}
    fields["status"] = "broken"
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    content = json.dumps(
        {**fields, "event_date": on.isoformat()}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    uid = blake([f"{COMMITMENT_KIND}|{subject.subject_key}|{row.commitment_no}"])[0]
    latest = session.execute(sa.select(sa.func.max(Record.version)).where(Record.record_uid == uid)).scalar()
    session.add(
        Record(
            record_uid=uid,
            version=int(latest or 0) + 1,
            subject_id=subject.id,
            kind=COMMITMENT_KIND,
            department=row.department,
            event_date=on,
            publicity_end=kind.publicity_end(on, fields, catalogue.severity_periods),
            severity=kind.severity_of(fields),
            recorded_at=when,
            batch_id=None,
            content_hash=blake([content])[0],
            amount=None,
            quantity=None,
            outcome="broken",
            payload=payload,
        )
    )
    return uid


def decide(
    session: Session,
    commitment_no: str,
    outcome: str,
    *,
    by: str,
    on: dt.date,
    note: str,
    department: str | None = None,
    now: dt.datetime | None = None,
    catalogue: Catalogue | None = None,
) -> CreditCommitment:
    """The supervising department records whether the commitment was kept (caller commits).

    ``department``: when given, the deciding department must be the supervising one.
    """
    if outcome not in OUTCOMES:
        raise CommitmentError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not note.strip():
        raise CommitmentError("a decision needs a note (what was checked)")
    row = _get(session, commitment_no)
    if department is not None and department != row.department:
        raise CommitmentError(f"commitment {commitment_no} is supervised by {row.department}")
    if row.status != "signed":
        raise CommitmentError(f"commitment {commitment_no} was already decided: {row.status}")
    if on < row.signed_at.date():
        raise CommitmentError("a decision cannot precede the signing")
    when = now or _utcnow()
    row.status, row.decided_on, row.decided_by, row.decision_note = outcome, on, by[:96], note
    if outcome == "broken":
        row.record_uid = _record_for_breach(session, row, on, when, catalogue or load_catalogue())
    session.flush()
    return row


def publication(
    row: CreditCommitment,
    subject: Subject,
    *,
    vault: IdentityVault | None = None,
    templates: Mapping[str, CommitmentTemplate] | None = None,
    catalogue: Catalogue | None = None,
) -> dict[str, Any]:
    """A commitment in the standard public format (the same fields for every item)."""
    tpl = (templates or load_templates()).get(row.item)
    cat = catalogue or load_catalogue()
    dept = cat.departments.get(row.department, {})
    return {
        "commitment_no": row.commitment_no,
        "subject_name": subject.name,
        "subject_code": _identity(subject, vault),
        "subject_type": subject.subject_type,
        "item": row.item,
        "item_zh": tpl.zh if tpl else row.item,
        "item_en": tpl.en if tpl else row.item,
        "legal_basis": tpl.legal_basis if tpl else None,
        "text": row.text,
        "template_version": row.template_version,
        "signed_on": row.signed_at.date().isoformat(),
        "due_date": row.due_date.isoformat(),
        "department": row.department,
        "department_zh": dept.get("zh", row.department),
        "status": row.status,
        "decided_on": row.decided_on.isoformat() if row.decided_on else None,
    }


def published(session: Session, *, on: dt.date, limit: int = 1000) -> list[dict[str, Any]]:
    """The public column: organisations' commitments signed by ``on``, newest first."""
    end = dt.datetime.combine(on, dt.time.max)
    stmt = (
        sa.select(CreditCommitment, Subject)
        .join(Subject, Subject.id == CreditCommitment.subject_id)
        .where(Subject.subject_type != "person", CreditCommitment.signed_at <= end)
        .order_by(CreditCommitment.signed_at.desc(), CreditCommitment.id.desc())
        .limit(limit)
    )
    templates, catalogue = load_templates(), load_catalogue()
    return [
        publication(c, s, templates=templates, catalogue=catalogue) for c, s in session.execute(stmt).all()
    ]


def of_subject(session: Session, subject_id: int) -> list[CreditCommitment]:
    """A subject's commitments, oldest first."""
    stmt = (
        sa.select(CreditCommitment)
        .where(CreditCommitment.subject_id == subject_id)
        .order_by(CreditCommitment.signed_at, CreditCommitment.id)
    )
    return list(session.execute(stmt).scalars())
