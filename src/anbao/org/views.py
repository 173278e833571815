"""Org routes: command nodes, units, people (personal data, reads audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from anbao.account import service as accounts
from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.vocab import CommandLevelIn, PoliceTypeIn, UnitStatusIn
from anbao.org import service
from anbao.org.models import Unit
from anbao.org.schemas import (
    CommandNodeCreate,
    CommandNodeOut,
    CommandNodeUpdate,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)

TAG = "组织 organisation"


class NodeFilter(ListQuery):
    level: CommandLevelIn | None = None
    parent_id: int | None = None


class UnitFilter(ListQuery):
    police_type: PoliceTypeIn | None = None
    status: UnitStatusIn | None = None
    command_node_id: int | None = None


class PersonFilter(ListQuery):
    unit_id: int | None = None


def _unit_visible(db: Session, unit: Any, agency: str | None) -> bool:
    return service.unit_visible(unit, agency=agency)


def _person_visible(db: Session, person: Any, agency: str | None) -> bool:
    return service.person_visible(db, person, agency=agency)


router = APIRouter()
router.include_router(resource_router(
    kind=service.NODES, path="command-nodes", tag=TAG, create=CommandNodeCreate, update=CommandNodeUpdate,
    out=CommandNodeOut, read=Perm.org_read, write=Perm.org_write, filters=NodeFilter))
router.include_router(resource_router(
    kind=service.UNITS, path="units", tag=TAG, create=UnitCreate, update=UnitUpdate, out=UnitOut,
    read=Perm.org_read, write=Perm.org_write, filters=UnitFilter, visible=_unit_visible))
Reader = Annotated[Principal, Depends(require(Perm.org_read))]
PersonReader = Annotated[Principal, Depends(require(Perm.person_read))]


# people 人员: read here, phones masked by role (service.contact_rule, docs/access.md); written by the factory
@router.get("/events/{event_id}/persons", response_model=list[PersonOut], tags=[TAG], name="list_persons",
            summary="List persons (phones masked for roles that may not see them; every read audited)")
def list_persons(event: EventDep, db: DB, principal: PersonReader,
                 query: Annotated[PersonFilter, Query()]) -> Any:
    agency = principal.scoped_agency
    if agency is not None:  # visibility is decided per row: page after filtering (no short pages)
        every = crud.list_rows(db=db, kind=service.PERSONS, event_id=event.id, limit=None, where=query.filters())
        seen = [p for p in every if service.person_visible(db, p, agency=agency)]
        rows = seen[query.offset:query.offset + query.limit]
    else:
        rows = list(crud.list_rows(db=db, kind=service.PERSONS, event_id=event.id, limit=query.limit,
                                   offset=query.offset, where=query.filters()))
    return service.present_persons(db=db, principal=principal, event_id=event.id, rows=rows)


@router.get("/events/{event_id}/persons/{row_id}", response_model=PersonOut, tags=[TAG], name="get_persons",
            summary="Read one person (phone masked for roles that may not see it; the read audited)")
def get_person(event: EventDep, row_id: int, db: DB, principal: PersonReader) -> Any:
    row = crud.get_row(db=db, kind=service.PERSONS, event_id=event.id, row_id=row_id)
    if row is None or not service.person_visible(db, row, agency=principal.scoped_agency):
        raise NotFound(f"person {row_id} not found in event {event.id}")
    return service.present_persons(db=db, principal=principal, event_id=event.id, rows=[row])[0]


_persons = resource_router(
    kind=service.PERSONS, path="persons", tag=TAG, create=PersonCreate, update=PersonUpdate, out=PersonOut,
    read=Perm.person_read, write=Perm.person_write, filters=PersonFilter, visible=_person_visible,
    personal=True, list_route=False)
# the factory's read of one person is the route above (masked); create, change and delete stay the factory's
_persons.routes = [r for r in _persons.routes if getattr(r, "name", None) != "get_persons"]
router.include_router(_persons)


@router.get("/events/{event_id}/command-tree", tags=[TAG], summary="The command tree 指挥体系 with its units")
def command_tree(event: EventDep, db: DB, principal: Reader) -> list[dict[str, Any]]:
    return service.command_tree(db=db, event_id=event.id, agency=principal.scoped_agency)


# ---------------------------------------------------------------------------------------------- users and units
# A login belongs to units (user_unit): field roles (一线民警) act on their own units' tasks only.

Writer = Annotated[Principal, Depends(require(Perm.org_write))]
USERS_TAG = "组织 organisation: users and units"


def _user(db: Session, user_id: int) -> None:
    if accounts.get(db=db, user_id=user_id) is None:
        raise NotFound(f"user {user_id} not found")


def _visible_units(units: list[Unit], principal: Principal) -> list[Unit]:
    return [u for u in units if service.unit_visible(u, agency=principal.scoped_agency)]


@router.get("/users/{user_id}/units", response_model=list[UnitOut], tags=[USERS_TAG],
            summary="The units a user belongs to (every event)")
def user_units(user_id: int, db: DB, principal: Reader) -> Any:
    _user(db, user_id)
    return _visible_units(service.user_units(db=db, user_id=user_id), principal)


@router.put("/users/{user_id}/units/{unit_id}", response_model=list[UnitOut], tags=[USERS_TAG],
            summary="Link a user to a unit (idempotent); returns the user's units")
def link_user(user_id: int, unit_id: int, db: DB, principal: Writer) -> Any:
    _user(db, user_id)
    unit = db.get(Unit, unit_id)
    if unit is None or not service.unit_visible(unit, agency=principal.scoped_agency):
        raise NotFound(f"unit {unit_id} not found")
    service.link_user(db=db, user_id=user_id, unit_id=unit_id)
    return _visible_units(service.user_units(db=db, user_id=user_id), principal)


@router.delete("/users/{user_id}/units/{unit_id}", status_code=status.HTTP_204_NO_CONTENT, tags=[USERS_TAG],
               summary="Unlink a user from a unit (404 when not linked)")
def unlink_user(user_id: int, unit_id: int, db: DB, principal: Writer) -> Response:
    _user(db, user_id)
    service.unlink_user(db=db, user_id=user_id, unit_id=unit_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/events/{event_id}/my-units", response_model=list[UnitOut], tags=[USERS_TAG],
            summary="The caller's own units in this event (the phone app's 我的单元)")
def my_units(event: EventDep, db: DB, principal: Reader) -> Any:
    return _visible_units(service.user_units(db=db, user_id=principal.user_id, event_id=event.id), principal)
