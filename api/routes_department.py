"""Departments push batches of records (JSON body or a file as the request body), and read
their batches' reconciliation and quarantined rows. Only their own kinds, only their own batches."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.problems import Problem
from api.routes_common import audit_of, request_id
from api.security import DbSession, RowId, require
from scoring.auth import Principal
from scoring.db.tables import IngestBatch
from scoring.department import (
    PushRefused,
    batch_of,
    department_batches,
    department_kinds,
    push_batch,
    quarantine_of,
    records_to_jsonl,
)
from scoring.ingest import BatchResult

__all__ = ["MAX_UPLOAD_BYTES", "router"]

router = APIRouter(tags=["department"])
Dept = Annotated[Principal, require("department")]
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_RECORDS = 50_000


class RecordsIn(BaseModel):
    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_RECORDS,
        description="Rows as in a department file: kind, subject_id, event_date, department (defaults "
        "to the sending department) and the kind's fields.",
    )
    source_name: str = Field(default="records.jsonl", max_length=200, pattern=r"^[\w.\- ]+\.jsonl$")


def _batch_view(b: IngestBatch) -> dict[str, Any]:
    return {
        "batch_id": b.id,
        "source_name": b.source_name,
        "file_sha256": b.file_sha256,
        "file_format": b.file_format,
        "channel": b.channel,
        "rows_read": b.rows_read,
        "accepted": b.accepted,
        "duplicate": b.duplicate,
        "correction": b.correction,
        "quarantined": b.quarantined,
        "reconciles": b.rows_read == b.accepted + b.duplicate + b.correction + b.quarantined,
        "started_at": b.started_at.isoformat(),
        "finished_at": b.finished_at.isoformat(),
    }


def _ingest(
    request: Request, response: Response, who: Principal, data: bytes, filename: str
) -> dict[str, Any]:
    state = request.app.state
    department = str(who.department)
    try:
        result: BatchResult = push_batch(
            state.engine, data, filename, department=department, catalogue=state.catalogue, vault=state.vault
        )
    except PushRefused as exc:
        status = 415 if exc.code == "unsupported-file" else 422
        raise Problem(status, exc.code, str(exc), lines=exc.lines) from None
    with state.sessionmaker() as session:
        if not result.already_ingested:
            batch = session.get(IngestBatch, result.batch_id)
            if batch is not None:
                batch.channel = "api"
            audit_of(request).append(
                session,
                actor=who.actor,
                action="batch.ingest",
                details={k: v for k, v in dataclasses.asdict(result).items() if k != "source_name"},
                request_id=request_id(request),
            )
            session.commit()
    response.status_code = 200 if result.already_ingested else 201
    response.headers["Location"] = f"/v1/department/batches/{result.batch_id}"
    body = dataclasses.asdict(result)
    body["quarantine_by_reason"] = dict(result.quarantine_by_reason)
    body["reconciles"] = result.reconciles
    return body


@router.post(
    "/v1/department/batches",
    status_code=201,
    summary="Push records as JSON (201 new batch; 200 the same records were already pushed).",
)
def push_records(request: Request, response: Response, who: Dept, body: RecordsIn) -> dict[str, Any]:
    data = records_to_jsonl(body.records, str(who.department))
    return _ingest(request, response, who, data, body.source_name)


@router.post(
    "/v1/department/batches/file",
    status_code=201,
    summary="Push a file as the request body (.csv, .jsonl or .parquet by the filename parameter).",
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def push_file(
    request: Request,
    response: Response,
    who: Dept,
    filename: Annotated[str, Query(max_length=200, pattern=r"^[\w.\- ]+\.(csv|jsonl|ndjson|parquet)$")],
) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise Problem(413, "too-large", f"at most {MAX_UPLOAD_BYTES} bytes per file")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise Problem(413, "too-large", f"at most {MAX_UPLOAD_BYTES} bytes per file")
        chunks.append(chunk)
    result: dict[str, Any] = await run_in_threadpool(
        _ingest, request, response, who, b"".join(chunks), filename
    )
    return result


@router.get("/v1/department/kinds", summary="The record kinds this department reports.")
def my_kinds(request: Request, who: Dept) -> dict[str, Any]:
    return {
        "department": who.department,
        "kinds": department_kinds(request.app.state.catalogue, str(who.department)),
    }


@router.get("/v1/department/batches", summary="This department's batches, newest first.")
def my_batches(
    who: Dept, session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    return [_batch_view(b) for b in department_batches(session, str(who.department), limit)]


@router.get("/v1/department/batches/{batch_id}", summary="A batch's reconciliation.")
def batch_status(who: Dept, session: DbSession, batch_id: RowId) -> dict[str, Any]:
    batch = batch_of(session, batch_id, str(who.department))
    if batch is None:
        raise Problem(404, "not-found", "no such batch of this department")
    return _batch_view(batch)


@router.get("/v1/department/batches/{batch_id}/quarantine", summary="A batch's quarantined rows, by line.")
def batch_quarantine(
    request: Request,
    who: Dept,
    session: DbSession,
    batch_id: RowId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if batch_of(session, batch_id, str(who.department)) is None:
        raise Problem(404, "not-found", "no such batch of this department")
    rows = quarantine_of(session, batch_id, request.app.state.vault, limit=limit, offset=offset)
    audit_of(request).append(
        session,
        actor=who.actor,
        action="quarantine.read",
        details={"batch_id": batch_id, "rows": len(rows), "offset": offset},
        request_id=request_id(request),
    )
    session.commit()
    return {"batch_id": batch_id, "rows": rows}
