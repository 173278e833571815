"""Planning documents as DOCX 方案文书: the list of an event's documents, each rendered on demand.

The security work plan, each special plan, the risk assessment report and the ICS-style assignment
list per command node (ICS 204), written from the record. Each document is built by its own module
(:mod:`anbao.documents.workplan`, :mod:`anbao.documents.special_plans`,
:mod:`anbao.documents.risk_report`, :mod:`anbao.documents.assignments`) from the record read once
(:class:`anbao.documents.common.Record`); the layout is the official-document writer's
(:mod:`anbao.documents.writer`). Personal data stays out: units are counted, people are not named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from anbao.core.errors import NotFound
from anbao.documents.assignments import assignment_list
from anbao.documents.common import Record
from anbao.documents.risk_report import risk_report
from anbao.documents.special_plans import special_plan
from anbao.documents.workplan import work_plan
from anbao.documents.writer import Document, printable
from anbao.documents.writer import render as _render
from anbao.plan.models import ResponsePlan

__all__ = ["Doc", "assignment_list", "documents", "export", "render", "render_one", "risk_report", "special_plan",
           "work_plan"]


@dataclass(frozen=True)
class Doc:
    """One document to export: its file name (without .docx), its title, and how to build it."""

    name: str
    title: str
    build: Callable[[], Document]


def _safe(name: str) -> str:
    return re.sub(r"[^\w\-.]+", "_", name).strip("_") or "plan"


def _special(r: Record, p: ResponsePlan) -> Callable[[], Document]:
    return lambda: special_plan(r, p)


def documents(*, db: Session, event_id: int, agency: str | None = None) -> list[Doc]:
    """Every document of the event, in order: work plan, special plans, risk report, assignment list
    (for a partner ``agency``, with only the units it may see)."""
    r = Record(db, event_id, agency=agency)
    out = [Doc("work-plan", "安全工作方案", lambda: work_plan(r))]
    out += [Doc(f"plan-{_safe(p.code)}", p.name, _special(r, p)) for p in r.specials]
    out += [
        Doc("risk-report", "风险评估报告", lambda: risk_report(r)),
        Doc("assignments", "任务分工表", lambda: assignment_list(r)),
    ]
    return out


def render(doc: Document) -> bytes:
    """A document built from the record as DOCX bytes; stored characters XML cannot hold are shown as U+FFFD."""
    return _render(printable(doc))


def render_one(*, db: Session, event_id: int, name: str, agency: str | None = None) -> bytes:
    """The document called ``name`` (``work-plan``, ``plan-CODE``, ``risk-report``, ``assignments``) as DOCX bytes."""
    for d in documents(db=db, event_id=event_id, agency=agency):
        if d.name == name:
            return render(d.build())
    raise NotFound(f"document {name!r} not found in event {event_id}")


def export(*, db: Session, event_id: int, out_dir: Path, on_file: Callable[[str], None] | None = None) -> list[Path]:
    """Write every document as ``out_dir/<name>.docx``; ``on_file`` is told each file as it is written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in documents(db=db, event_id=event_id):
        path = out_dir / f"{d.name}.docx"
        path.write_bytes(render(d.build()))
        paths.append(path)
        if on_file is not None:
            on_file(path.name)
    return paths
