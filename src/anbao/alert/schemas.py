from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, computed_field

from anbao.alert.rules import UNITS
from anbao.core.schemas import CODE_PATTERN, In, Out, Stamped, UTCTime
from anbao.core.vocab import RuleKindIn, WarningLevelIn, ZoneKindIn


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
    rule_id: int | None = Field(default=None, description="The rule that raised it")
    device_id: int | None = None
    escalations: int = Field(default=0, description="How often it went up the command tree unacknowledged")
    escalated_to: str = Field(default="", description="Command node it was last escalated to")
    escalate_due_at: UTCTime | None = None


class CommentIn(In):
    comment: str = Field(default="", max_length=2000, description="处置说明")


Threshold = Annotated[float | None, Field(default=None, ge=0, le=1e6, allow_inf_nan=False)]
PlanRef = Annotated[str, Field(pattern=CODE_PATTERN)]


class RuleCreate(In):
    kind: RuleKindIn = Field(description="density 人/㎡, gas ppm, smoke %/m, temperature ℃, queue_wait 分钟, "
                                         "queue_length 人, device_silence 秒, "
                                         "camera 级 (video alarm severity: 5 - AlarmPriority)")
    zone_kind: ZoneKindIn | Literal[""] = Field(default="", description="Zone kind the rule is for; empty = all")
    blue: Threshold = None
    yellow: Threshold = None
    orange: Threshold = None
    red: Threshold = None
    hysteresis: float = Field(default=0.0, ge=0, le=1e6, allow_inf_nan=False,
                              description="How far the value must fall back below a threshold before its level drops")
    min_hold_s: float = Field(default=30.0, ge=0, le=86_400, description="Seconds a level is held at least")
    escalate_after_min: float | None = Field(default=None, gt=0, le=1440,
                                             description="Minutes unacknowledged before escalation; empty = never")
    plans: dict[WarningLevelIn, PlanRef] = Field(default_factory=dict,
                                                 description='Plan code activated per level, e.g. {"orange": "YA-DKL"}')
    enabled: bool = True
    note: str = Field(default="", max_length=300)


class RuleUpdate(In):
    blue: Threshold = None
    yellow: Threshold = None
    orange: Threshold = None
    red: Threshold = None
    hysteresis: float | None = Field(default=None, ge=0, le=1e6, allow_inf_nan=False)
    min_hold_s: float | None = Field(default=None, ge=0, le=86_400)
    escalate_after_min: float | None = Field(default=None, gt=0, le=1440)
    plans: dict[WarningLevelIn, PlanRef] | None = None
    enabled: bool | None = None
    note: str | None = Field(default=None, max_length=300)


class RuleOut(Stamped):
    id: int
    event_id: int
    kind: str
    zone_kind: str
    blue: float | None
    yellow: float | None
    orange: float | None
    red: float | None
    hysteresis: float
    min_hold_s: float
    escalate_after_min: float | None
    plans: dict[str, str]
    enabled: bool
    note: str

    @computed_field(description="Unit of the thresholds (人/㎡, ppm, ...)")  # type: ignore[prop-decorator]
    @property
    def unit(self) -> str:
        return UNITS.get(self.kind, ("", ""))[0]
