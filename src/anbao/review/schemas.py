from __future__ import annotations

from typing import Any

from pydantic import Field

from anbao.core.schemas import Out, UTCTime


class TimelineOut(Out):
    id: int
    event_id: int
    at: UTCTime
    kind: str = Field(description="warning.raised, warning.escalated, plan.activated, task.done ...")
    kind_zh: str = ""
    subject: str = Field(description="What the step is about, e.g. warning:12 or task:7")
    text: str
    actor: str
    data: dict[str, Any] | None
    cause: str | None = Field(default=None, description="What started the chain of changes this step belongs to "
                                                        "(a reading batch, a request, a warning pass)")


class ReviewOut(Out):
    statistics: dict[str, Any] = Field(description="event, window, attendance, crowd, warnings, plans, tasks, "
                                       "incidents, police, devices (docs/review.md)")
    rules: dict[str, Any] = Field(description="The thresholds the findings were found with")
    findings: list[dict[str, Any]] = Field(description="Problems found: code, title_zh, title_en, count, evidence")
