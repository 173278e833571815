"""Document routes: the planning documents 方案文书 as DOCX."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.documents import plans as export
from anbao.documents.schemas import DocumentOut

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]

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
