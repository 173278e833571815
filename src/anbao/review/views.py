"""Timeline route: the steps of the operation, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import Invalid, NotFound
from anbao.org.scope import unit_scope
from anbao.review import service
from anbao.review.schemas import ReviewOut, TimelineOut

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


@router.get("/events/{event_id}/review", response_model=ReviewOut,
            summary="Review statistics 复盘统计 and the problems found 存在问题, every figure from the record",
            description="Per event, or per session with session_id. The findings' thresholds can be set per request "
            "(defaults in docs/review.md).")
def get_review(event: EventDep, db: DB, principal: Reader,
               session_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="One session only")] = None,
               step_s: Annotated[int, Query(ge=10, le=3600, description="Seconds between zone-state steps")] = 60,
               ack_s: Annotated[float, Query(ge=0, le=86_400, description="Finding: acknowledged after more "
                                             "than this many seconds")] = 300.0,
               zone_level: Annotated[str, Query(pattern="^(blue|yellow|orange|red)$",
                                                description="Finding: zones at this level or above ...")] = "orange",
               zone_minutes: Annotated[float, Query(ge=0, le=10_000, description="... for more than this many "
                                                    "minutes")] = 10.0,
               silent_s: Annotated[float, Query(ge=0, le=86_400, description="Finding: sensors silent for more "
                                                "than this many seconds")] = 300.0,
               flapping: Annotated[int, Query(ge=2, le=1000, description="Finding: a warning raised this many "
                                              "times or more")] = 3) -> dict[str, Any]:
    rules = service.FindingRules(ack_s=ack_s, zone_level=zone_level, zone_minutes=zone_minutes, silent_s=silent_s,
                                 flapping=flapping)
    try:
        return service.review_with_findings(db=db, event_id=event.id, session_id=session_id, step_s=step_s,
                                            rules=rules, units=unit_scope(db=db, event_id=event.id,
                                                                          agency=principal.scoped_agency))
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    except ValueError as exc:
        raise Invalid(str(exc), loc=["query"]) from exc
