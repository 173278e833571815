from __future__ import annotations

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Stamped
from anbao.core.vocab import CommandLevelIn, PoliceTypeIn, UnitStatusIn

PHONE = r"^\+?[0-9][0-9 \-]{2,30}$"


class CommandNodeCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="e.g. 现场安保组")
    level: CommandLevelIn = Field(description="指挥部 hq, 工作组 hq_group, 现场分指挥部 site, 执勤组 duty_group")
    parent_id: int | None = None
    leader: str = Field(default="", max_length=100)
    duties: str = Field(default="", max_length=500)
    zone_codes: list[str] = Field(default_factory=list, description="Zones this node is responsible for")


class CommandNodeUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: int | None = None
    leader: str | None = Field(default=None, max_length=100)
    duties: str | None = Field(default=None, max_length=500)
    zone_codes: list[str] | None = None


class CommandNodeOut(Stamped):
    id: int
    event_id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    leader: str
    duties: str
    zone_codes: list[str]


class UnitCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    call_sign: str = Field(min_length=1, max_length=40, description="呼号")
    police_type: PoliceTypeIn = Field(description="警种")
    agency: str = Field(default="公安", max_length=40, description="Owning agency (公安, 消防, 医疗...)")
    status: UnitStatusIn = Field(default="available", validate_default=True)
    equipment: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    command_node_id: int | None = None
    shared_with: list[str] = Field(default_factory=list, description="Partner agencies that may see it")


class UnitUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    call_sign: str | None = Field(default=None, min_length=1, max_length=40)
    police_type: PoliceTypeIn | None = None
    agency: str | None = Field(default=None, max_length=40)
    status: UnitStatusIn | None = None
    equipment: list[str] | None = None
    skills: list[str] | None = None
    command_node_id: int | None = None
    shared_with: list[str] | None = None


class UnitOut(Stamped):
    id: int
    event_id: int
    code: str
    name: str
    call_sign: str
    police_type: str
    agency: str
    status: str
    equipment: list[str]
    skills: list[str]
    command_node_id: int | None
    shared_with: list[str]


class PersonCreate(In):
    unit_id: int | None = None
    name: str = Field(min_length=1, max_length=100, description="姓名")
    badge_no: str = Field(pattern=r"^[A-Za-z0-9\-]{1,40}$", description="警号, unique within the event")
    role: str = Field(default="队员", max_length=40, description="e.g. 队长, 队员")
    phone: str = Field(default="", pattern=r"^$|" + PHONE, description="Mobile number")
    skills: list[str] = Field(default_factory=list)


class PersonUpdate(In):
    unit_id: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    role: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, pattern=r"^$|" + PHONE)
    skills: list[str] | None = None


class PersonOut(Stamped):
    id: int
    event_id: int
    unit_id: int | None
    name: str
    badge_no: str
    role: str
    phone: str = Field(description="Mobile number; masked (138****1234) for roles that may not see it")
    phone_masked: bool = Field(default=False, description="True when ``phone`` is masked for the caller")
    skills: list[str]
