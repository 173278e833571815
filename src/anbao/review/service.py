"""Review 复盘: the timeline, the review statistics and the problems found (issue 15)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from anbao.core.timeline import KIND_ZH, entries
from anbao.org.scope import EVERY_UNIT, UnitScope
from anbao.review.findings import FindingRules, findings
from anbao.review.stats import Review, review

__all__ = ["KIND_ZH", "FindingRules", "Review", "entries", "findings", "jsonable", "review", "review_with_findings"]


def review_with_findings(*, db: Session, event_id: int, session_id: int | None = None, step_s: int = 60,
                         rules: FindingRules | None = None, now: datetime | None = None,
                         units: UnitScope = EVERY_UNIT) -> dict[str, Any]:
    """The statistics and the findings of an event (or one session), as one document (``units``: what the
    caller may see of the police)."""
    r = review(db=db, event_id=event_id, session_id=session_id, step_s=step_s, now=now, units=units)
    rules = rules or FindingRules()
    return {"statistics": asdict(r), "rules": asdict(rules),
            "findings": findings(db=db, event_id=event_id, review=r, rules=rules)}


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO text (for the CLI's JSON)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
