"""A router factory for event-scoped resources: list, create, read, update, delete.

Each resource is a :class:`anbao.core.crud.Kind` plus its schemas and permissions; the routes
stay thin and the domain's ``prepare`` hook does the checking.
"""


from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from anbao.api.deps import DB, EventDep, require
from anbao.core import audit, crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.schemas import In

Visible = Callable[[Session, Any, str | None], bool]


class ListQuery(In):
    """Query of a list route: paging plus the resource's own filters (subclasses add fields).

    Unknown query parameters are an error (422 naming the parameter), never silently ignored.
    """

    limit: int = Field(default=1000, ge=1, le=5000, description="Rows per page")
    offset: int = Field(default=0, ge=0, description="Rows to skip")

    def filters(self) -> dict[str, Any]:
        return self.model_dump(exclude={"limit", "offset"})


def resource_router(
    *,
    kind: crud.Kind,
    path: str,
    tag: str,
    create: type[BaseModel],
    update: type[BaseModel],
    out: type[BaseModel],
    read: Perm,
    write: Perm,
    filters: type[ListQuery] = ListQuery,
    visible: Visible | None = None,
    personal: bool = False,
    list_route: bool = True,
) -> APIRouter:
    router = APIRouter(prefix="/events/{event_id}/" + path, tags=[tag])
    Reader = Annotated[Principal, Depends(require(read))]
    Writer = Annotated[Principal, Depends(require(write))]
    name = path.replace("-", "_")

    def _load(db: Session, event_id: int, row_id: int, principal: Principal) -> Any:
        row = crud.get_row(db=db, kind=kind, event_id=event_id, row_id=row_id)
        if row is None or (visible is not None and not visible(db, row, principal.scoped_agency)):
            raise NotFound(f"{kind.label} {row_id} not found in event {event_id}")
        return row

    def _read_audit(db: Session, event_id: int, rows: list[Any]) -> None:
        if personal and rows:
            audit.record(db, action="read", entity=kind.model.__tablename__,
                         entity_id=str(rows[0].id) if len(rows) == 1 else None,
                         event_id=event_id, after={"count": len(rows), "ids": [r.id for r in rows]})

    def list_(event: EventDep, db: DB, principal: Reader,
              query: Annotated[filters, Query()]) -> list[Any]:  # type: ignore[valid-type]
        q = cast(ListQuery, query)
        agency = principal.scoped_agency
        if visible is not None and agency is not None:
            # visibility is decided per row, so page after filtering: a partner never gets short pages
            every = crud.list_rows(db=db, kind=kind, event_id=event.id, limit=None, where=q.filters())
            rows = [r for r in every if visible(db, r, agency)][q.offset:q.offset + q.limit]
        else:
            rows = list(crud.list_rows(db=db, kind=kind, event_id=event.id, limit=q.limit, offset=q.offset,
                                       where=q.filters()))
        _read_audit(db, event.id, rows)
        return rows

    if list_route:
        router.get("", response_model=list[out], name=f"list_{name}", summary=f"List {path}")(list_)  # type: ignore[valid-type]

    @router.post("", response_model=out, status_code=status.HTTP_201_CREATED, name=f"create_{name}",
                 summary=f"Create one of {path}")
    def create_(event: EventDep, db: DB, principal: Writer, body: create) -> Any:  # type: ignore[valid-type]
        return crud.create_row(db=db, kind=kind, event_id=event.id, data=cast(BaseModel, body).model_dump())

    @router.get("/{row_id}", response_model=out, name=f"get_{name}", summary=f"Read one of {path}")
    def get_(event: EventDep, row_id: int, db: DB, principal: Reader) -> Any:
        row = _load(db, event.id, row_id, principal)
        _read_audit(db, event.id, [row])
        return row

    @router.patch("/{row_id}", response_model=out, name=f"update_{name}", summary=f"Change one of {path}")
    def update_(event: EventDep, row_id: int, db: DB, principal: Writer, body: update) -> Any:  # type: ignore[valid-type]
        row = _load(db, event.id, row_id, principal)
        return crud.update_row(db=db, kind=kind, row=row, data=cast(BaseModel, body).model_dump(exclude_unset=True))

    @router.delete("/{row_id}", status_code=status.HTTP_204_NO_CONTENT, name=f"delete_{name}",
                   summary=f"Delete one of {path}")
    def delete_(event: EventDep, row_id: int, db: DB, principal: Writer) -> Response:
        crud.delete_row(db=db, row=_load(db, event.id, row_id, principal))
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
