"""Benefits (信易+): catalogue, eligibility, citizen-card tokens, grants, quotas, obligations.

* **Catalogue** ``scoring/benefits.yaml`` (versioned, validated by :func:`load_benefits`).
* **Eligibility** (:func:`eligibility`): per benefit, eligible or not with every reason — subject
  type, no published score (insufficient record, minor, not yet scored), score or tier or class
  below the rule, an active suspending listing (serious-dishonesty or black list, a
  serious-dishonesty or judgment-defaulter record; disputed records do not count), an overdue
  benefit obligation. The citizen sees the reasons; a partner sees only eligible / not eligible
  for its own benefits (and the credit line of a pay-later benefit, which is the benefit itself).
* **Citizen-card tokens**: a partner identifies a card holder by a token that is specific to
  that partner: ``ct1_`` + base64url(HMAC-SHA256(k, partner | subject pseudonym)) with
  ``k = HMAC-SHA256(identity pepper, "citizen-card-token|v1")``. Only its SHA-256 is stored
  (``citizen_card_tokens``); two partners cannot link their tokens, and a token carries no
  identity number. A token presented by another partner is unknown.
* **Grants** (:func:`grant_benefit`): by token, with an idempotency key unique per partner (the
  same key again returns the stored grant; with another benefit it is refused). A quota is a
  counter row taken by ``UPDATE benefit_quotas SET used = used + 1 WHERE ... AND used < quota``
  in the grant's transaction, so concurrent grants never exceed it.
* **Pay-later** (``hospital_pay_later``): the grant advances an amount within the credit line of
  the score band (open obligations included), and creates an obligation due after
  ``payment_days``; past ``due_on + grace_days`` unsettled it suspends **all** the subject's
  grants until the partner reports settlement (:func:`settle_obligation`).
* **Reconciliation** (:func:`reconcile_grants`): every grant of a subject is suspended when the
  rule no longer holds (score drop, listing, overdue obligation) and reinstated when it holds
  again; ended after its validity. ``scoring.publish.rescore_subject`` calls it after a changed
  score; list changes and settlements call it too. Every change is a ``benefit_grant_events``
  row the citizen sees.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import yaml
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from features.catalogue import load_catalogue
from scoring.audit import AuditLog
from scoring.auth import Principal
from scoring.db.incentive_tables import (
    BenefitGrant,
    BenefitGrantEvent,
    BenefitObligation,
    BenefitQuota,
    CardToken,
    Listing,
)
from scoring.db.score_tables import ScorePublication, ScoreRow
from scoring.db.tables import Record, Subject
from scoring.lists import ActiveListing, active_listings
from scoring.publish import current_score
from scoring.register import record_read_core
from scoring.tiers import CLASS_ORDER, DEFAULT_TIERS

__all__ = [
    "DEFAULT_BENEFITS_FILE",
    "REASONS",
    "Benefit",
    "BenefitCatalogue",
    "BenefitCatalogueError",
    "BenefitError",
    "Decision",
    "GrantChange",
    "GrantResult",
    "IdempotencyConflict",
    "NotEligible",
    "QuotaExhausted",
    "SubjectStatus",
    "UnknownToken",
    "card_token",
    "citizen_benefits",
    "decide",
    "eligibility",
    "grant_benefit",
    "issue_card_token",
    "load_benefits",
    "overdue_obligations",
    "parse_benefits",
    "partner_check",
    "partner_eligibility",
    "partner_status",
    "reconcile_grants",
    "resolve_card_token",
    "settle_obligation",
    "subject_status",
    "subjects_with_grants",
]

DEFAULT_BENEFITS_FILE = Path(__file__).with_name("benefits.yaml")
TOKEN_PREFIX = "ct1_"
TOKEN_KEY_VERSION = "v1"
_TIER_LOWER = {t.code: t.lower for t in DEFAULT_TIERS}

# Reason codes, with what the citizen reads (Chinese, English).
REASONS: Mapping[str, tuple[str, str]] = {
    "subject_type": ("该权益不适用于此类主体", "this benefit is not for this kind of subject"),
    "not_scored": ("尚无已发布的信用评价", "no published score yet"),
    "insufficient_record": ("信用记录不足，暂不评分", "insufficient record: not scored yet"),
    "minor": ("未成年人不评分", "minors are not scored"),
    "score_below": ("信用分低于该权益的要求", "score below the benefit's threshold"),
    "tier_below": ("信用等级低于该权益的要求", "tier below the benefit's threshold"),
    "class_below": ("企业信用等级低于该权益的要求", "enterprise class below the benefit's threshold"),
    "listed": (
        "列入严重失信主体名单或黑名单，全部权益暂停",
        "on a serious-dishonesty or black list: all benefits suspended",
    ),
    "obligation_overdue": (
        "有逾期未结清的权益欠款，全部权益暂停",
        "an overdue benefit obligation: all benefits suspended",
    ),
}


class BenefitCatalogueError(ValueError):
    """The benefits catalogue is invalid."""


class BenefitError(ValueError):
    """A benefit request that cannot be served (the message is safe to show the caller)."""


class UnknownToken(BenefitError):
    """The card token is unknown to this partner."""


class NotEligible(BenefitError):
    """The subject is not eligible (no reasons: the partner must not learn them)."""


class QuotaExhausted(BenefitError):
    """The benefit's quota is used up."""


class IdempotencyConflict(BenefitError):
    """The idempotency key was used for another request."""


# --- catalogue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Benefit:
    code: str
    zh: str
    en: str
    category: str
    partner: str
    provider_zh: str
    subject_types: tuple[str, ...]
    min_score: int | None
    min_tier: str | None
    min_class: str | None
    validity_months: int
    quota: int | None = None
    payment_days: int | None = None
    grace_days: int | None = None
    credit_lines: tuple[tuple[int, float], ...] = ()  # (min_score, line), highest first

    @property
    def pay_later(self) -> bool:
        return self.payment_days is not None

    def credit_line(self, score: int | None) -> float | None:
        if not self.credit_lines or score is None:
            return None
        return next((line for lo, line in self.credit_lines if score >= lo), None)


@dataclass(frozen=True)
class BenefitCatalogue:
    version: str
    benefits: Mapping[str, Benefit]
    suspending_lists: tuple[str, ...]
    suspending_kinds: tuple[str, ...]

    def get(self, code: str) -> Benefit:
        if code not in self.benefits:
            raise BenefitError(f"unknown benefit {code!r}")
        return self.benefits[code]

    def of_partner(self, partner: str) -> list[Benefit]:
        return [b for b in self.benefits.values() if b.partner == partner]


def _req(d: Any, key: str, where: str) -> Any:
    if not isinstance(d, Mapping) or d.get(key) in (None, ""):
        raise BenefitCatalogueError(f"{where}: {key} is required")
    return d[key]


def _int(value: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise BenefitCatalogueError(f"{where}: expected an integer in {lo}-{hi}")
    return value


def _parse(raw: Any) -> BenefitCatalogue:
    if not isinstance(raw, Mapping):
        raise BenefitCatalogueError("the benefits catalogue must be a mapping")
    version = str(_req(raw, "version", "catalogue"))
    susp = raw.get("suspension") or {}
    benefits: dict[str, Benefit] = {}
    for b in _req(raw, "benefits", "catalogue"):
        code = str(_req(b, "code", "benefit"))
        where = f"benefit {code}"
        if code in benefits:
            raise BenefitCatalogueError(f"{where}: duplicate code")
        provider = _req(b, "provider", where)
        rule = _req(b, "rule", where)
        types = tuple(_req(rule, "subject_types", where))
        if not types or set(types) - {"person", "org"}:
            raise BenefitCatalogueError(f"{where}: subject_types must be person and/or org")
        min_score = rule.get("min_score")
        if min_score is not None:
            _int(min_score, f"{where}: min_score", 350, 950)
        min_tier = rule.get("min_tier")
        if min_tier is not None and min_tier not in _TIER_LOWER:
            raise BenefitCatalogueError(f"{where}: unknown tier {min_tier!r}")
        min_class = rule.get("min_class")
        if min_class is not None and min_class not in CLASS_ORDER:
            raise BenefitCatalogueError(f"{where}: unknown class {min_class!r}")
        if "person" in types and min_score is None and min_tier is None:
            raise BenefitCatalogueError(f"{where}: persons need min_score or min_tier")
        if "org" in types and min_class is None:
            raise BenefitCatalogueError(f"{where}: organisations need min_class")
        months = _int(_req(_req(b, "validity", where), "months", where), f"{where}: validity", 1, 120)
        quota = b.get("quota")
        if quota is not None:
            _int(quota, f"{where}: quota", 1, 10**9)
        pl = b.get("pay_later")
        payment_days = grace_days = None
        lines: tuple[tuple[int, float], ...] = ()
        if pl is not None:
            if types != ("person",):
                raise BenefitCatalogueError(f"{where}: pay-later benefits are for persons")
            payment_days = _int(_req(pl, "payment_days", where), f"{where}: payment_days", 1, 365)
            grace_days = _int(pl.get("grace_days", 0), f"{where}: grace_days", 0, 365)
            bands = []
            for band in _req(pl, "credit_lines", where):
                lo = _int(_req(band, "min_score", where), f"{where}: credit line", 350, 950)
                line = _req(band, "line", where)
                if not isinstance(line, int | float) or line <= 0:
                    raise BenefitCatalogueError(f"{where}: a credit line is a positive amount")
                bands.append((lo, float(line)))
            lines = tuple(sorted(bands, reverse=True))
            if min_score is not None and lines[-1][0] > min_score:
                raise BenefitCatalogueError(f"{where}: no credit line for scores from {min_score}")
        benefits[code] = Benefit(
            code=code,
            zh=str(_req(b, "zh", where)),
            en=str(_req(b, "en", where)),
            category=str(_req(b, "category", where)),
            partner=str(_req(provider, "partner", where)),
            provider_zh=str(provider.get("zh", "")),
            subject_types=types,
            min_score=min_score,
            min_tier=min_tier,
            min_class=min_class,
            validity_months=months,
            quota=quota,
            payment_days=payment_days,
            grace_days=grace_days,
            credit_lines=lines,
        )
    return BenefitCatalogue(
        version=version,
        benefits=benefits,
        suspending_lists=tuple(susp.get("list_types") or ()),
        suspending_kinds=tuple(susp.get("record_kinds") or ()),
    )


def load_benefits(path: str | Path | None = None) -> BenefitCatalogue:
    """The catalogue at ``path`` (default ``scoring/benefits.yaml``), validated; cached per path."""
    if path is None:
        return _load_default()
    return _load_cached(str(Path(path).resolve()))


@functools.lru_cache(maxsize=1)
def _load_default() -> BenefitCatalogue:  # no path to resolve on every request
    return _load_cached(str(DEFAULT_BENEFITS_FILE.resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> BenefitCatalogue:
    return _parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def parse_benefits(text: str) -> BenefitCatalogue:
    return _parse(yaml.safe_load(text))


# --- tokens --------------------------------------------------------------------------------------


def _token_key(pepper: bytes) -> bytes:
    return hmac.new(pepper, f"citizen-card-token|{TOKEN_KEY_VERSION}".encode(), hashlib.sha256).digest()


def _pepper(settings: Any) -> bytes:
    return bytes(settings.id_pepper.get_secret_value().encode())


def card_token(settings: Any, partner: str, subject_key: str) -> str:
    """The subject's card token for ``partner`` (deterministic; never contains the identity number)."""
    mac = hmac.new(_token_key(_pepper(settings)), f"{partner}|{subject_key}".encode(), hashlib.sha256)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_card_token(session: Session, settings: Any, subject: Subject, partner: str) -> str:
    """Issue (or re-issue: the same token) the subject's card token for ``partner``."""
    token = card_token(settings, partner, subject.subject_key)
    digest = _token_hash(token)
    if session.get(CardToken, digest) is None:
        session.add(
            CardToken(
                token_hash=digest,
                partner=partner,
                subject_id=subject.id,
                key_version=TOKEN_KEY_VERSION,
                issued_at=_now(),
            )
        )
        session.flush()
    return token


def resolve_card_token(bind: Session | Connection, partner: str, token: str) -> int:
    """The subject id behind a token this partner holds; :class:`UnknownToken` otherwise."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 64:
        raise UnknownToken("unknown card token")
    row = bind.execute(
        sa.select(CardToken.subject_id).where(
            CardToken.token_hash == _token_hash(token), CardToken.partner == partner
        )
    ).first()
    if row is None:
        raise UnknownToken("unknown card token")
    return int(row[0])


# --- eligibility ---------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 + months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(y, m, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


@dataclass(frozen=True)
class SubjectStatus:
    subject_id: int
    subject_type: str  # person | org
    state: str | None  # scored | insufficient_record | minor | None (no published score)
    score: int | None
    grade: str | None
    listings: tuple[ActiveListing, ...]
    overdue: tuple[int, ...]  # overdue obligation ids


@dataclass(frozen=True)
class Decision:
    benefit: str
    eligible: bool
    reasons: tuple[str, ...]
    credit_line: float | None = None

    def view(self, lang: str = "zh") -> dict[str, Any]:
        i = 0 if lang == "zh" else 1
        return {
            "benefit": self.benefit,
            "eligible": self.eligible,
            "reasons": [{"code": r, "text": REASONS[r][i]} for r in self.reasons],
            "credit_line": self.credit_line,
        }


def overdue_obligations(bind: Session | Connection, subject_id: int, today: dt.date) -> list[int]:
    rows = bind.execute(
        sa.select(BenefitObligation.id, BenefitObligation.due_on, BenefitObligation.grace_days).where(
            BenefitObligation.subject_id == subject_id, BenefitObligation.status == "open"
        )
    ).all()
    return [int(i) for i, due, grace in rows if today > due + dt.timedelta(days=int(grace))]


def subject_status(
    bind: Session | Connection, subject_id: int, today: dt.date, catalogue: BenefitCatalogue
) -> SubjectStatus:
    kind = bind.execute(sa.select(Subject.subject_type).where(Subject.id == subject_id)).scalar()
    if kind is None:
        raise BenefitError(f"no subject {subject_id}")
    conn = bind.connection() if isinstance(bind, Session) else bind
    row = current_score(conn, subject_id)
    suspending = tuple(
        a
        for a in active_listings(bind, subject_id, today)
        if (a.list_type in catalogue.suspending_lists) or (a.kind in catalogue.suspending_kinds)
    )
    return SubjectStatus(
        subject_id=subject_id,
        subject_type="person" if kind == "person" else "org",
        state=None if row is None else row["state"],
        score=None if row is None else row["score"],
        grade=None if row is None else row["grade"],
        listings=suspending,
        overdue=tuple(overdue_obligations(bind, subject_id, today)),
    )


def decide(benefit: Benefit, status: SubjectStatus) -> Decision:
    """Every reason the subject is not eligible (none: eligible)."""
    reasons: list[str] = []
    if status.subject_type not in benefit.subject_types:
        return Decision(benefit.code, False, ("subject_type",))
    if status.state is None:
        reasons.append("not_scored")
    elif status.state in ("minor", "insufficient_record"):
        reasons.append(status.state)
    elif status.subject_type == "person":
        if benefit.min_score is not None and (status.score is None or status.score < benefit.min_score):
            reasons.append("score_below")
        if benefit.min_tier is not None and (
            status.score is None or status.score < _TIER_LOWER[benefit.min_tier]
        ):
            reasons.append("tier_below")
    else:
        assert benefit.min_class is not None
        if status.grade not in CLASS_ORDER or CLASS_ORDER.index(status.grade) > CLASS_ORDER.index(
            benefit.min_class
        ):
            reasons.append("class_below")
    if status.listings:
        reasons.append("listed")
    if status.overdue:
        reasons.append("obligation_overdue")
    line = benefit.credit_line(status.score) if not reasons else None
    return Decision(benefit.code, not reasons, tuple(reasons), line)


def eligibility(
    bind: Session | Connection,
    subject_id: int,
    *,
    today: dt.date | None = None,
    catalogue: BenefitCatalogue | None = None,
    partner: str | None = None,
) -> list[Decision]:
    """Every benefit (or the partner's own) with the subject's eligibility and reasons."""
    cat = catalogue or load_benefits()
    status = subject_status(bind, subject_id, today or _now().date(), cat)
    chosen = cat.of_partner(partner) if partner is not None else list(cat.benefits.values())
    return [decide(b, status) for b in chosen]


_tokens = cast(sa.Table, CardToken.__table__)
_subjects = cast(sa.Table, Subject.__table__)
_scores = cast(sa.Table, ScoreRow.__table__)


def _partner_status_statement() -> sa.Select[Any]:
    latest = _scores.alias("latest")
    current = (
        sa.select(latest.c.id)
        .where(
            latest.c.subject_id == _subjects.c.id,
            latest.c.snapshot_id.in_(sa.select(ScorePublication.__table__.c.snapshot_id)),
        )
        .order_by(latest.c.snapshot_id.desc(), latest.c.id.desc())  # the (subject, snapshot, id) index
        .limit(1)
        .correlate(_subjects)
        .scalar_subquery()
    )
    listings = Listing.__table__
    records = Record.__table__
    obligations = BenefitObligation.__table__
    sid = _subjects.c.id
    return (
        sa.select(
            _tokens.c.subject_id,
            _subjects.c.subject_type,
            _subjects.c.subject_key,
            _scores.c.state,
            _scores.c.score,
            _scores.c.grade,
            sa.exists()
            .where(listings.c.subject_id == sid, listings.c.status == "published")
            .correlate(_subjects)
            .label("any_listing"),
            sa.exists()
            .where(records.c.subject_id == sid, records.c.kind.in_(sa.bindparam("kinds", expanding=True)))
            .correlate(_subjects)
            .label("any_listing_record"),
            sa.exists()
            .where(obligations.c.subject_id == sid, obligations.c.status == "open")
            .correlate(_subjects)
            .label("any_open_obligation"),
        )
        .select_from(
            _tokens.outerjoin(_subjects, _subjects.c.id == _tokens.c.subject_id).outerjoin(
                _scores, _scores.c.id == current
            )
        )
        .where(
            _tokens.c.token_hash == sa.bindparam("token_hash"),
            _tokens.c.partner == sa.bindparam("partner"),
        )
    )


_PARTNER_STATUS = _partner_status_statement()


@functools.lru_cache(maxsize=1)
def _listing_kinds() -> tuple[str, ...]:
    return tuple(k.code for k in load_catalogue().kinds.values() if k.listing)


def partner_status(
    conn: Connection, partner: str, token: str, today: dt.date, catalogue: BenefitCatalogue
) -> tuple[SubjectStatus, str]:
    """:func:`resolve_card_token` and :func:`subject_status` in one statement (the token, its
    subject, the score in force, and whether there is any listing or open obligation at all);
    listings and obligations are read in detail only when there are some. With the subject's
    pseudonym."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 64:
        raise UnknownToken("unknown card token")
    params = {"token_hash": _token_hash(token), "partner": partner, "kinds": list(_listing_kinds())}
    row = conn.execute(_PARTNER_STATUS, params).first()
    if row is None:
        raise UnknownToken("unknown card token")
    sid = int(row.subject_id)
    if row.subject_type is None:
        raise BenefitError(f"no subject {sid}")
    suspending: tuple[ActiveListing, ...] = ()
    if row.any_listing or row.any_listing_record:
        with Session(bind=conn) as session:  # active_listings reads listings as ORM rows
            suspending = tuple(
                a
                for a in active_listings(session, sid, today)
                if (a.list_type in catalogue.suspending_lists) or (a.kind in catalogue.suspending_kinds)
            )
    overdue = tuple(overdue_obligations(conn, sid, today)) if row.any_open_obligation else ()
    status = SubjectStatus(
        subject_id=sid,
        subject_type="person" if row.subject_type == "person" else "org",
        state=row.state,
        score=row.score,
        grade=row.grade,
        listings=suspending,
        overdue=overdue,
    )
    return status, str(row.subject_key)


def partner_check(
    conn: Connection,
    *,
    partner: str,
    token: str,
    benefit_codes: Sequence[str],
    today: dt.date | None = None,
    catalogue: BenefitCatalogue | None = None,
) -> tuple[list[dict[str, Any]], int, str]:
    """What a partner may learn about a card holder, for each of ``benefit_codes`` (its own):
    eligible or not, plus the credit line of a pay-later benefit. One read, nothing written:
    the caller registers the check (``scoring.register.record_read_core``). With the subject's
    id and pseudonym."""
    cat = catalogue or load_benefits()
    benefits = [cat.get(code) for code in benefit_codes]
    for b in benefits:
        if b.partner != partner:
            raise BenefitError(f"benefit {b.code} is not provided by {partner}")
    status, subject_key = partner_status(conn, partner, token, today or _now().date(), cat)
    out: list[dict[str, Any]] = []
    for benefit in benefits:
        d = decide(benefit, status)
        view: dict[str, Any] = {"benefit": benefit.code, "eligible": d.eligible}
        if benefit.pay_later:
            view["credit_line"] = d.credit_line
        out.append(view)
    return out, status.subject_id, subject_key


def partner_eligibility(
    session: Session,
    audit: AuditLog,
    *,
    partner: str,
    token: str,
    benefit_code: str,
    route: str = "cli",
    request_id: str | None = None,
    today: dt.date | None = None,
    catalogue: BenefitCatalogue | None = None,
    register: bool = True,
) -> dict[str, Any]:
    """What a partner may learn: eligible or not for one of its own benefits (plus the credit
    line of a pay-later benefit). The check is registered as a read (the caller commits)."""
    conn = session.connection()
    out, subject_id, subject_key = partner_check(
        conn, partner=partner, token=token, benefit_codes=[benefit_code], today=today, catalogue=catalogue
    )
    if register:
        _, entry = record_read_core(
            conn,
            who=Principal(role="partner", id=partner),
            subject_id=subject_id,
            subject_key=subject_key,
            purpose="benefit_eligibility",
            route=route,
            request_id=request_id,
        )
        audit.append_many(conn, [entry])
    return out[0]


# --- grants --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantResult:
    grant: dict[str, Any]
    replayed: bool
    obligation: dict[str, Any] | None = None


def _grant_dict(g: BenefitGrant) -> dict[str, Any]:
    return {
        "id": g.id,
        "benefit": g.benefit_code,
        "catalogue_version": g.catalogue_version,
        "partner": g.partner,
        "status": g.status,
        "status_reason": g.status_reason,
        "amount": g.amount,
        "credit_line": g.credit_line,
        "granted_at": g.granted_at.isoformat(),
        "valid_to": g.valid_to.isoformat(),
    }


def _obligation_dict(o: BenefitObligation) -> dict[str, Any]:
    return {
        "id": o.id,
        "grant_id": o.grant_id,
        "partner": o.partner,
        "amount": o.amount,
        "due_on": o.due_on.isoformat(),
        "grace_days": o.grace_days,
        "status": o.status,
        "settled_at": o.settled_at.isoformat() if o.settled_at else None,
    }


def _existing_grant(session: Session, partner: str, key: str) -> GrantResult | None:
    g = session.execute(
        sa.select(BenefitGrant).where(BenefitGrant.partner == partner, BenefitGrant.idempotency_key == key)
    ).scalar_one_or_none()
    if g is None:
        return None
    o = session.execute(sa.select(BenefitObligation).where(BenefitObligation.grant_id == g.id)).scalar()
    return GrantResult(_grant_dict(g), True, _obligation_dict(o) if o is not None else None)


def _take_quota(session: Session, benefit: Benefit, when: dt.datetime) -> bool:
    assert benefit.quota is not None
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(BenefitQuota).values(
        benefit_code=benefit.code, quota=benefit.quota, used=0, updated_at=when
    )
    session.execute(ins.on_conflict_do_nothing(index_elements=["benefit_code"]))
    taken = session.execute(
        sa.update(BenefitQuota)
        .where(BenefitQuota.benefit_code == benefit.code, BenefitQuota.used < benefit.quota)
        .values(used=BenefitQuota.used + 1, quota=benefit.quota, updated_at=when)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(taken, "rowcount", 0) or 0) == 1


def _event(session: Session, grant_id: int, status: str, reason: str, when: dt.datetime) -> None:
    session.add(BenefitGrantEvent(grant_id=grant_id, status=status, reason=reason[:200], recorded_at=when))


def grant_benefit(
    engine: Engine | Connection,
    audit: AuditLog,
    *,
    partner: str,
    token: str,
    benefit_code: str,
    idempotency_key: str,
    amount: float | None = None,
    request_id: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    catalogue: BenefitCatalogue | None = None,
) -> GrantResult:
    """Grant one of the partner's benefits to the token's holder (its own transaction)."""
    cat = catalogue or load_benefits()
    if not idempotency_key or len(idempotency_key) > 128:
        raise BenefitError("an idempotency key of 1-128 characters is required")
    benefit = cat.get(benefit_code)
    if benefit.partner != partner:
        raise BenefitError(f"benefit {benefit_code} is not provided by {partner}")
    when = now or _now()
    day = today or when.date()
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if session.get_bind().dialect.name == "sqlite":  # take the write lock first
                session.execute(sa.update(BenefitQuota).where(sa.false()).values(used=BenefitQuota.used))
            old = _existing_grant(session, partner, idempotency_key)
            if old is not None:
                if old.grant["benefit"] != benefit_code:
                    raise IdempotencyConflict("this idempotency key was used for another benefit")
                return old
            sid = resolve_card_token(session, partner, token)
            status = subject_status(session, sid, day, cat)
            d = decide(benefit, status)
            if not d.eligible:
                raise NotEligible("not eligible")
            line = d.credit_line
            if benefit.pay_later:
                if amount is None or amount <= 0:
                    raise BenefitError("a pay-later grant needs the amount advanced")
                open_total = session.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(BenefitObligation.amount), 0.0)).where(
                        BenefitObligation.subject_id == sid, BenefitObligation.status == "open"
                    )
                ).scalar_one()
                if line is None or float(open_total) + amount > line:
                    raise NotEligible("the amount exceeds the remaining credit line")
            elif amount is not None:
                raise BenefitError(f"benefit {benefit_code} advances no amount")
            if benefit.quota is not None and not _take_quota(session, benefit, when):
                raise QuotaExhausted(f"the quota of {benefit_code} is used up")
            g = BenefitGrant(
                benefit_code=benefit.code,
                catalogue_version=cat.version,
                subject_id=sid,
                partner=partner,
                idempotency_key=idempotency_key,
                status="active",
                status_reason=None,
                amount=amount,
                credit_line=line,
                granted_at=when,
                valid_to=_add_months(day, benefit.validity_months),
                updated_at=when,
            )
            session.add(g)
            session.flush()
            _event(session, g.id, "active", "granted", when)
            ob = None
            if benefit.pay_later:
                assert benefit.payment_days is not None and amount is not None
                ob = BenefitObligation(
                    grant_id=g.id,
                    subject_id=sid,
                    partner=partner,
                    amount=float(amount),
                    due_on=day + dt.timedelta(days=benefit.payment_days),
                    grace_days=int(benefit.grace_days or 0),
                    status="open",
                    created_at=when,
                )
                session.add(ob)
                session.flush()
            subject = session.get(Subject, sid)
            assert subject is not None
            audit.append(
                session,
                actor=f"partner:{partner}",
                action="benefit.grant",
                subject_ref=subject.subject_key,
                details={"grant": g.id, "benefit": benefit.code, "amount": amount},
                request_id=request_id,
                now=when,
            )
            return GrantResult(_grant_dict(g), False, _obligation_dict(ob) if ob is not None else None)
    except IntegrityError:
        # The same key committed concurrently: answer with that grant.
        with Session(engine) as session:
            old = _existing_grant(session, partner, idempotency_key)
        if old is None:
            raise
        if old.grant["benefit"] != benefit_code:
            raise IdempotencyConflict("this idempotency key was used for another benefit") from None
        return old


def settle_obligation(
    engine: Engine | Connection,
    audit: AuditLog,
    *,
    partner: str,
    obligation_id: int,
    reference: str,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    catalogue: BenefitCatalogue | None = None,
) -> dict[str, Any]:
    """The partner reports that an obligation is paid; the subject's grants are reconciled."""
    when = now or _now()
    with Session(engine, expire_on_commit=False) as session, session.begin():
        o = session.get(BenefitObligation, obligation_id)
        if o is None or o.partner != partner:
            raise BenefitError(f"no obligation {obligation_id} of {partner}")
        if o.status != "settled":
            o.status, o.settled_at, o.settlement_ref = "settled", when, reference[:128]
            subject = session.get(Subject, o.subject_id)
            assert subject is not None
            audit.append(
                session,
                actor=f"partner:{partner}",
                action="benefit.settle",
                subject_ref=subject.subject_key,
                details={"obligation": o.id, "reference": reference},
                now=when,
            )
        out = _obligation_dict(o)
        sid = o.subject_id
    reconcile_grants(engine, sid, today=today or when.date(), now=when, catalogue=catalogue)
    return out


# --- reconciliation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantChange:
    grant_id: int
    benefit: str
    before: str
    after: str
    reason: str


def reconcile_grants(
    bind: Engine | Connection,
    subject_id: int,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    catalogue: BenefitCatalogue | None = None,
) -> list[GrantChange]:
    """Suspend the subject's grants whose rule no longer holds, reinstate those whose rule holds
    again, end those past their validity. Safe to call at any time (no grants: nothing to do)."""
    cat = catalogue or load_benefits()
    when = now or _now()
    day = today or when.date()
    changes: list[GrantChange] = []
    with Session(bind, expire_on_commit=False) as session, session.begin():
        grants = list(
            session.execute(
                sa.select(BenefitGrant).where(
                    BenefitGrant.subject_id == subject_id, BenefitGrant.status.in_(("active", "suspended"))
                )
            ).scalars()
        )
        if not grants:
            return changes
        status = subject_status(session, subject_id, day, cat)
        for g in grants:
            if day >= g.valid_to:
                after, reason = "ended", "validity ended"
            elif g.benefit_code not in cat.benefits:
                after, reason = "ended", "benefit withdrawn from the catalogue"
            else:
                d = decide(cat.benefits[g.benefit_code], status)
                after = "active" if d.eligible else "suspended"
                reason = "reinstated" if d.eligible else ",".join(d.reasons)
            if after == g.status and (after != "suspended" or reason == g.status_reason):
                continue
            changes.append(GrantChange(g.id, g.benefit_code, g.status, after, reason))
            g.status, g.status_reason, g.updated_at = after, (None if after == "active" else reason), when
            _event(session, g.id, after, reason, when)
    return changes


# --- the citizen's view --------------------------------------------------------------------------


def citizen_benefits(
    session: Session,
    subject_id: int,
    *,
    today: dt.date | None = None,
    lang: str = "zh",
    catalogue: BenefitCatalogue | None = None,
) -> dict[str, Any]:
    """Everything about the subject's benefits: eligibility with reasons, grants with their
    history, obligations."""
    cat = catalogue or load_benefits()
    day = today or _now().date()
    decisions = {d.benefit: d for d in eligibility(session, subject_id, today=day, catalogue=cat)}
    i = 0 if lang == "zh" else 1
    benefits = []
    for b in cat.benefits.values():
        view = decisions[b.code].view(lang)
        view.update(name=(b.zh, b.en)[i], provider=b.partner, category=b.category)
        benefits.append(view)
    grants = list(
        session.execute(
            sa.select(BenefitGrant).where(BenefitGrant.subject_id == subject_id).order_by(BenefitGrant.id)
        ).scalars()
    )
    events = _events_of(session, [g.id for g in grants])
    obligations = session.execute(
        sa.select(BenefitObligation)
        .where(BenefitObligation.subject_id == subject_id)
        .order_by(BenefitObligation.id)
    ).scalars()
    return {
        "catalogue_version": cat.version,
        "benefits": benefits,
        "grants": [{**_grant_dict(g), "history": events.get(g.id, [])} for g in grants],
        "obligations": [
            {
                **_obligation_dict(o),
                "overdue": o.status == "open" and day > o.due_on + dt.timedelta(days=o.grace_days),
            }
            for o in obligations
        ],
    }


def _events_of(session: Session, grant_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not grant_ids:
        return out
    rows = session.execute(
        sa.select(BenefitGrantEvent)
        .where(BenefitGrantEvent.grant_id.in_(list(grant_ids)))
        .order_by(BenefitGrantEvent.id)
    ).scalars()
    for e in rows:
        out.setdefault(e.grant_id, []).append(
            {"status": e.status, "reason": e.reason, "at": e.recorded_at.isoformat()}
        )
    return out


def subjects_with_grants(bind: Engine | Connection) -> list[int]:
    """Subjects holding an active or suspended grant (for a reconciliation sweep)."""
    with Session(bind) as session:
        rows = session.execute(
            sa.select(BenefitGrant.subject_id)
            .where(BenefitGrant.status.in_(("active", "suspended")))
            .distinct()
        ).all()
    return sorted(int(r[0]) for r in rows)
