"""Event routes: /api/v1/events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.event import service
from anbao.event.schemas import EventCreate, EventOut, EventUpdate

router = APIRouter(prefix="/events", tags=["活动 events"])
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Writer = Annotated[Principal, Depends(require(Perm.event_write))]


@router.get("", response_model=list[EventOut], summary="List events (a partner sees those shared with it)")
def list_events(db: DB, principal: Reader) -> Any:
    return service.list_events(db=db, agency=principal.scoped_agency)


@router.post("", response_model=EventOut, status_code=status.HTTP_201_CREATED, summary="Create an event")
def create_event(body: EventCreate, db: DB, principal: Writer) -> Any:
    return service.create(db=db, data=body)


@router.get("/{event_id}", response_model=EventOut, summary="Read an event")
def get_event(event: EventDep, principal: Reader) -> Any:
    return event


@router.patch("/{event_id}", response_model=EventOut, summary="Change an event")
def update_event(event: EventDep, body: EventUpdate, db: DB, principal: Writer) -> Any:
    return service.update(db=db, event=event, data=body)


@router.delete("/{event_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an event and all it holds")
def delete_event(event: EventDep, db: DB, principal: Writer) -> Response:
    service.delete(db=db, event=event)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
