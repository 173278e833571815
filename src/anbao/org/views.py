"""Org routes: command nodes, units, people (personal data, reads audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core.auth import Perm, Principal
from anbao.core.vocab import CommandLevelIn, PoliceTypeIn, UnitStatusIn
from anbao.org import service
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
router.include_router(resource_router(
    kind=service.PERSONS, path="persons", tag=TAG, create=PersonCreate, update=PersonUpdate, out=PersonOut,
    read=Perm.person_read, write=Perm.person_write, filters=PersonFilter, visible=_person_visible,
    personal=True))


Reader = Annotated[Principal, Depends(require(Perm.org_read))]


@router.get("/events/{event_id}/command-tree", tags=[TAG], summary="The command tree 指挥体系 with its units")
def command_tree(event: EventDep, db: DB, principal: Reader) -> list[dict[str, Any]]:
    return service.command_tree(db=db, event_id=event.id, agency=principal.scoped_agency)
