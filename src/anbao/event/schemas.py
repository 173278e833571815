from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, field_validator, model_validator

from anbao.core.schemas import CODE_PATTERN, In, Out, Stamped, UTCTime
from anbao.core.vocab import ApprovalAuthorityIn, EventKindIn, EventStatusIn


class SessionIn(In):
    label: str = Field(default="", max_length=100, description="e.g. 第一场")
    start: AwareDatetime = Field(description="Start, with a time zone offset")
    end: AwareDatetime = Field(description="End, with a time zone offset; after start")

    @model_validator(mode="after")
    def _ordered(self) -> SessionIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SessionOut(Out):
    id: int
    label: str
    start: UTCTime
    end: UTCTime


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class EventCreate(In):
    code: str = Field(pattern=CODE_PATTERN, description="Unique short identifier")
    name: str = Field(min_length=1, max_length=200, description="活动名称")
    kind: EventKindIn = Field(description="体育赛事 sports, 演唱会 concert, 展会 expo, 节庆 festival, ...")
    organiser: str = Field(default="", max_length=200, description="承办单位")
    expected_attendance: int = Field(default=0, ge=0, le=10_000_000, description="预计人数 per session")
    approved_attendance: int | None = Field(default=None, ge=0, le=10_000_000, description="核定人数")
    status: EventStatusIn = Field(default="preparing", validate_default=True, description="筹备/审批/执行/结束/总结")
    timezone: str = Field(default="Asia/Shanghai", description="IANA time zone of the event")
    description: str = Field(default="", max_length=5000)
    shared_agencies: list[str] = Field(default_factory=list, description="Partner agencies that may see it")
    sessions: list[SessionIn] = Field(default_factory=list, description="场次")
    applied_on: date | None = Field(default=None, description="申请日期: when the organiser applied for the permit "
                                    "(Art. 13: at least 20 days before the event)")
    approval_authority: ApprovalAuthorityIn | None = Field(default=None, description="审批机关 level (Art. 12)")
    cross_province: bool = Field(default=False, description="跨省、自治区、直辖市举办 (approved by the Ministry)")
    tickets_issued: int | None = Field(default=None, ge=0, le=10_000_000, description="已售（发）票数 (Art. 7)")

    _tz = field_validator("timezone")(_zone)


class EventUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: EventKindIn | None = None
    organiser: str | None = Field(default=None, max_length=200)
    expected_attendance: int | None = Field(default=None, ge=0, le=10_000_000)
    approved_attendance: int | None = Field(default=None, ge=0, le=10_000_000)
    status: EventStatusIn | None = None
    timezone: str | None = None
    description: str | None = Field(default=None, max_length=5000)
    shared_agencies: list[str] | None = None
    sessions: list[SessionIn] | None = Field(default=None, description="Replaces all sessions")
    applied_on: date | None = None
    approval_authority: ApprovalAuthorityIn | None = None
    cross_province: bool | None = None
    tickets_issued: int | None = Field(default=None, ge=0, le=10_000_000)

    _tz = field_validator("timezone")(_zone)


class EventOut(Stamped):
    id: int
    code: str
    name: str
    kind: str
    organiser: str
    expected_attendance: int
    approved_attendance: int | None
    status: str
    timezone: str
    applied_on: date | None = None
    approval_authority: str = ""
    cross_province: bool = False
    tickets_issued: int | None = None
    description: str
    shared_agencies: list[str]
    sessions: list[SessionOut]
