"""Document routes: the planning documents 方案文书 as DOCX."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.documents import plans as export
from anbao.documents import summary
from anbao.documents.schemas import DocumentOut

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
ReviewReader = Annotated[Principal, Depends(require(Perm.sensing_read))]

router = APIRouter()



DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/events/{event_id}/plan-documents", response_model=list[DocumentOut], tags=[TAG],
            summary="The planning documents 方案文书 that can be downloaded as DOCX")
def plan_documents(event: EventDep, db: DB, principal: Reader) -> Any:
    return [{"name": d.name, "title": d.title, "url": f"/api/v1/events/{event.id}/plan-documents/{d.name}.docx"}
            for d in export.documents(db=db, event_id=event.id)]


@router.get("/events/{event_id}/plan-documents/{name}.docx", tags=[TAG], response_class=Response,
            responses={200: {"content": {DOCX: {}}}},
            summary="One planning document as DOCX (work-plan, plan-CODE, risk-report, assignments)")
def plan_document(event: EventDep, name: str, db: DB, principal: Reader) -> Response:
    found = [d for d in export.documents(db=db, event_id=event.id, agency=principal.scoped_agency) if d.name == name]
    if not found:
        raise NotFound(f"document {name!r} not found in event {event.id}")
    content = found[0].build()  # reads the record (a deferred read: no write lock)
    db.commit()  # end the read before the long part: laying out the DOCX holds no lock and no snapshot
    body = export.render(content)
    return Response(body, media_type=DOCX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{event.code}-{name}.docx"})


@router.get("/events/{event_id}/review/summary.docx", tags=["复盘 review"], response_class=Response,
            responses={200: {"content": {DOCX: {}}}},
            summary="The after-action summary 安保工作总结 as DOCX, every figure from the review statistics",
            description="What only people can judge (the result, lessons, closing words) is marked 【待指挥长填写】. "
            "An appendix lists each figure with its source. session_id: one session only.")
def summary_document(event: EventDep, db: DB, principal: ReviewReader,
                     session_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    try:
        content = summary.build(db=db, event_id=event.id, agency=principal.scoped_agency, session_id=session_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    db.commit()  # end the read before laying out the DOCX
    body = export.render(content)
    return Response(body, media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{event.code}-summary.docx"})
