"""CAP 1.2 import route: POST /api/v1/events/{event_id}/cap-alerts with a raw CAP XML body."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from anbao.alert import cap, cap_import, service
from anbao.alert.schemas import WarningOut
from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import AnBaoError
from anbao.core.time import utcnow

router = APIRouter(tags=["预警 warnings"])
Writer = Annotated[Principal, Depends(require(Perm.sensing_write))]
MAX_BODY = 1024 * 1024  # 1 MiB: a CAP message is a few kilobytes; resources travel by URI
MEDIA_TYPES = (cap.CAP_MEDIA_TYPE, "application/xml", "text/xml")


class PayloadTooLarge(AnBaoError):
    status = 413


class UnsupportedMediaType(AnBaoError):
    status = 415


async def _body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes :data:`MAX_BODY` (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"CAP message of {int(declared)} bytes exceeds the limit of {MAX_BODY} bytes (1 MiB)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge(f"CAP message exceeds the limit of {MAX_BODY} bytes (1 MiB)")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/events/{event_id}/cap-alerts", response_model=WarningOut, status_code=201,
    responses={200: {"model": WarningOut, "description": "An Update or Cancel moved or closed a warning"},
               413: {"description": "Body larger than 1 MiB"},
               415: {"description": "Content-Type is not application/cap+xml or application/xml"}},
    summary="Import a CAP 1.2 alert 导入外部预警 (application/cap+xml)",
    description="An external CAP 1.2 message (weather bureau, partner agency) becomes a warning of kind `external`. "
    "Alert opens a warning (201); Update moves the warning of the referenced message (200), or opens one when the "
    "reference is unknown (201); Cancel closes it (200). Status Exercise makes a drill warning; Test, Draft and "
    "System messages, Ack and Error messages and expired alerts are refused (422). The level comes from the "
    "severity (or a `level` parameter), the zone from an areaDesc equal to a zone code or name. DTDs and entities "
    "are refused (422).",
    openapi_extra={"requestBody": {"content": {t: {"schema": {"type": "string"}} for t in MEDIA_TYPES},
                                   "required": True}},
)
async def import_cap_alert(event: EventDep, request: Request, principal: Writer, db: DB) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in MEDIA_TYPES:
        raise UnsupportedMediaType(f"Content-Type must be {cap.CAP_MEDIA_TYPE} or application/xml, "
                                   f"got {content_type or 'none'!r}")
    body = await _body(request)
    alert = await run_in_threadpool(cap.from_xml, body)
    outcome = await run_in_threadpool(cap_import.import_cap, db=db, event_id=event.id, alert=alert, now=utcnow())
    answer = WarningOut.model_validate(outcome.warning).model_dump(mode="json")
    # Sessions that carry the bus (db.info["bus"]) send the services' outbox messages on commit; otherwise
    # the route sends the changed warnings itself, after the commit, as the GB/T 28181 route does.
    own = [] if db.info.get("bus") is not None else [service.payload(w) for w in outcome.closed or (outcome.warning,)]
    await run_in_threadpool(db.commit)
    for payload in own:
        request.app.state.bus.publish(f"event/{event.id}/warning", payload)
    return JSONResponse(answer, status_code=201 if outcome.created else 200)
