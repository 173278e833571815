"""Timeline route: the steps of the operation, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.review import service
from anbao.review.schemas import TimelineOut

router = APIRouter(tags=["复盘 review"])
Reader = Annotated[Principal, Depends(require(Perm.sensing_read))]


@router.get("/events/{event_id}/timeline", response_model=list[TimelineOut],
            summary="The event timeline 时间线, oldest first")
def timeline(event: EventDep, db: DB, principal: Reader,
             since: Annotated[AwareDatetime | None, Query(description="From this time (inclusive)")] = None,
             until: Annotated[AwareDatetime | None, Query(description="Before this time")] = None,
             kind: Annotated[str | None, Query(max_length=40, description="Kind or kind prefix, e.g. warning")] = None,
             subject: Annotated[str | None, Query(max_length=60, description="e.g. warning:12")] = None,
             cause: Annotated[str | None, Query(max_length=80, description="Only the steps of one chain, "
                                                                            "e.g. a reading batch")] = None,
             limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
             offset: Annotated[int, Query(ge=0)] = 0) -> list[dict[str, Any]]:
    rows = service.entries(db=db, event_id=event.id, since=since, until=until, kind=kind, subject=subject,
                           cause=cause, limit=limit, offset=offset)
    return [{**TimelineOut.model_validate(r).model_dump(), "kind_zh": service.KIND_ZH.get(r.kind, r.kind)}
            for r in rows]
