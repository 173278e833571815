from __future__ import annotations

from pydantic import Field

from anbao.core.schemas import In, Out, UTCTime


class WarningOut(Out):
    id: int
    event_id: int
    key: str
    kind: str
    zone_id: int | None
    level: str = Field(description="blue 蓝 | yellow 黄 | orange 橙 | red 红")
    peak_level: str
    status: str = Field(description="active 未确认 | acknowledged 已确认 | closed 已解除")
    value: float | None
    message: str
    forecast: bool
    exercise: bool
    started_at: UTCTime
    changed_at: UTCTime
    acknowledged_at: UTCTime | None
    acknowledged_by: str | None
    closed_at: UTCTime | None
    closed_by: str | None
    comment: str


class CommentIn(In):
    comment: str = Field(default="", max_length=2000, description="处置说明")
