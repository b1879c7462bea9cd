"""Model reviewers' routes: model versions, model cards, metrics and fairness, drift of the
published population, and the replay of one decision.

* ``/v1/reviewer/models``: per subject group, the champion and every known version (exported
  serving bundles, the promotions table, model cards) with its promotion decisions.
* ``/v1/reviewer/models/{group}/{version}``: the bundle's facts, metrics (development, out of
  time, oracle when known), fairness gates and tables by group, the development distribution.
* ``/v1/reviewer/models/{group}/{version}/card``: the model card (Markdown, or HTML).
* ``/v1/reviewer/drift``: PSI of the live population against the development distribution
  stored with the champion, else against the previous snapshot (see ``scoring.monitoring``).
* ``/v1/reviewer/decisions/{score_id}``: the stored inputs, model version, every contribution,
  and the score recomputed from the records as known then (``scoring.publish.replay``). It is a
  read of the subject's credit data: registered (purpose ``decision_review``) and audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from api import score_context as ctx
from api.problems import Problem
from api.routes_common import audit_of, request_id, route_of
from api.security import DbSession, RowId, require
from features.registry import Registry
from scoring.auth import Principal
from scoring.db.tables import Subject
from scoring.model_info import GROUPS, card_path, list_versions, manifest, registered_names, version_detail
from scoring.monitoring import drift
from scoring.publish import ReplayError, feature_values, replay, score_row
from scoring.register import record_read
from scoring.score_views import brief_reasons, score_summary

__all__ = ["router"]

router = APIRouter(tags=["model review"])
Reviewer = Annotated[Principal, require("reviewer")]
Group = Literal["person", "enterprise"]
Version = Annotated[str, Path(pattern="^[0-9]{1,6}$", description="Registered model version.")]


def _names(request: Request) -> dict[str, str]:
    return registered_names(ctx.engine(request), ctx.settings(request).bundle_dir)


@router.get("/v1/reviewer/models", summary="Model versions per subject group, champion and decisions.")
def models(request: Request, who: Reviewer) -> dict[str, Any]:
    s = ctx.settings(request)
    return list_versions(ctx.engine(request), s.bundle_dir, s.var_dir, _names(request))


@router.get(
    "/v1/reviewer/models/{group}/{version}",
    summary="One model version: facts, metrics, fairness, development distribution, decisions.",
)
def model_version(
    request: Request,
    who: Reviewer,
    group: Group,
    version: Version,
) -> dict[str, Any]:
    s = ctx.settings(request)
    detail = version_detail(
        ctx.engine(request), s.bundle_dir, s.var_dir, group, _names(request)[group], version
    )
    if detail is None:
        raise Problem(404, "no-such-model", "no such model version")
    return detail


@router.get(
    "/v1/reviewer/models/{group}/{version}/card",
    summary="The model card of a version (Markdown; format=html for HTML).",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
def model_card(
    request: Request,
    who: Reviewer,
    group: Group,
    version: Version,
    format: Annotated[Literal["md", "html"], Query()] = "md",
) -> Response:
    path = card_path(ctx.settings(request).var_dir, _names(request)[group], version, format)
    if not path.is_file():
        raise Problem(404, "no-model-card", "no model card for this version")
    content = path.read_text(encoding="utf-8")
    if format == "html":
        return HTMLResponse(content)
    return PlainTextResponse(content, media_type="text/markdown; charset=utf-8")


@router.get("/v1/reviewer/drift", summary="PSI of the published population against its reference.")
def population_drift(request: Request, who: Reviewer, session: DbSession) -> dict[str, Any]:
    bundles = request.app.state.bundles
    conn = session.connection()
    out = {}
    for group in GROUPS:
        bundle = bundles.get(group)
        out[group] = drift(conn, group, bundle.metadata if bundle is not None else None)
        if bundle is not None:
            out[group]["champion"] = bundle.model_version
    return out


def _floats(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split("|") if v != ""]


def _labels(registry: Registry, group: str, names: list[str]) -> dict[str, dict[str, str]]:
    """Each feature's description in both languages, from the registry (codes it does not know
    keep their code)."""
    out: dict[str, dict[str, str]] = {}
    for name in dict.fromkeys(names):
        if name == "bias":
            continue
        try:
            spec = registry.feature(group, name)
        except KeyError:
            continue
        out[name] = {"zh": spec.zh, "en": spec.en}
    return out


@router.get(
    "/v1/reviewer/decisions/{score_id}",
    summary="Replay one published decision: inputs, model version, contributions, recomputed score.",
)
def decision(request: Request, who: Reviewer, session: DbSession, score_id: RowId) -> dict[str, Any]:
    engine, settings = ctx.engine(request), ctx.settings(request)
    row = score_row(engine, score_id)
    if row is None:
        raise Problem(404, "no-such-decision", "no such score")
    subject = session.get(Subject, int(row["subject_id"]))
    if subject is None:
        raise Problem(404, "no-such-decision", "no such score")
    group = str(row["subject_type"])
    values = feature_values(engine, row)
    contributions: dict[str, float] | None = None
    raw = _floats(row.get("contributions"))
    m = manifest(settings.bundle_dir, group, str(row["model_version"])) if row.get("model_version") else None
    if raw and m is not None and len(m["features"]) + 1 == len(raw):
        contributions = {**dict(zip(m["features"], raw[:-1], strict=True)), "bias": raw[-1]}
    stored = score_summary(row, ctx.policy(request), ctx.catalogue(request), with_pd=True)
    body: dict[str, Any] = {
        "score_id": int(row["id"]),
        "subject_key": subject.subject_key,
        "snapshot_id": int(row["snapshot_id"]),
        "origin": row["origin"],
        "cause": row["cause"],
        "as_of": str(row["as_of"]),
        "known_at": row["known_at"].isoformat(),
        "model_version": row["model_version"],
        "registry_version": row["registry_version"],
        "feature_hash": row["feature_hash"],
        "inputs": values,
        "contributions": contributions,
        "contributions_unit": "log-odds of default (positive raises the PD); bias last",
        "labels": _labels(ctx.registry(request), group, [*values, *(contributions or {})]),
        "stored": {**stored, "reasons": brief_reasons(row, ctx.registry(request), values)},
    }
    try:
        result = replay(engine, settings, score_id, registry=ctx.registry(request))
        new = result.replayed
        body["replay"] = {
            "ok": result.ok,
            "hash_matches": result.hash_matches,
            "same_result": result.same_result,
            "state": new["state"],
            "pd": new["pd"],
            "score": new["score"],
            "grade": new["grade"],
            "feature_hash": new["feature_hash"],
        }
    except ReplayError as exc:
        body["replay"] = {"ok": False, "error": str(exc)}
    record_read(
        session,
        audit_of(request),
        who=who,
        subject=subject,
        purpose="decision_review",
        route=route_of(request),
        request_id=request_id(request),
    )
    session.commit()
    return body
