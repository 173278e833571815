"""Crowd-safety schemas: capacity and its settings, evacuation runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Out


class CapacitySettingsIn(In):
    """容量核定参数 (Green Guide): times, holding density and safety factors."""

    entry_min: float = Field(default=60.0, gt=0, le=600, description="Entry time the event allows, minutes")
    egress_min: float = Field(default=8.0, gt=0, le=60, description="Normal egress time, minutes (Green Guide <= 8)")
    emergency_min: float = Field(default=8.0, gt=0, le=60,
                                 description="Emergency evacuation time, minutes (2.5 to 8 by fire risk)")
    density: float = Field(default=4.7, gt=0, le=10, description="Standing holding density, persons/m2")
    safety_factors: dict[Annotated[str, Field(pattern=CODE_PATTERN)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="Safety factor S (0-1) per zone code; 1 where not given")


class CapacitySettingsOut(Out):
    entry_min: float
    egress_min: float
    emergency_min: float
    density: float
    safety_factors: dict[str, float]


class CapacityExit(Out):
    code: str = Field(description="Gate code, or →ZONE for an open boundary towards that zone")
    width_m: float | None = Field(description="Width (open boundary: the width passing the same flow); None: no limit")
    stairs: bool
    kind: str = Field(description="gate | open")
    to: str


class CapacityEntry(Out):
    code: str
    lanes: int


class AreaCapacity(Out):
    code: str
    name: str
    holding: int | None = Field(description="容纳能力, persons")
    entry: int | None = Field(description="入场能力 in the entry time")
    exit: int | None = Field(description="疏散能力 in the egress time")
    emergency: int | None = Field(description="应急疏散能力 in the emergency evacuation time")
    safe_capacity: int | None = Field(description="安全容量 = the least of the above")
    limiting: str | None = Field(description="holding | entry | exit | emergency")
    limiting_zh: str | None
    exit_flow_per_min: float
    evacuation_min: float | None = Field(description="Minutes to empty the holding capacity through the exits")
    steps: list[str] = Field(description="The calculation, step by step (Chinese)")
    exits: list[CapacityExit]
    entries: list[CapacityEntry]
    error: str | None = Field(description="Why no capacity could be given (e.g. a zone without exits)")


class ZoneCapacity(AreaCapacity):
    kind: str
    ring: int
    area_m2: float
    declared: int | None = Field(description="Seated + standing capacity entered for the zone")
    over_declared: bool = Field(description="The declared capacity exceeds the safe capacity")


class VenueCapacity(AreaCapacity):
    exit_bottleneck_pps: float = Field(description="Maximum flow from the seats and floor to the outside, persons/s")
    entry_bottleneck_pps: float
    expected_attendance: int | None
    approved_attendance: int | None
    tickets_issued: int | None
    holding_by_zone: dict[str, int] = Field(default_factory=dict)


class CapacityOut(Out):
    settings: CapacitySettingsOut
    zones: list[ZoneCapacity]
    venue: VenueCapacity


class EvacuationIn(In):
    model: Literal["macro", "jupedsim"] = Field(default="macro",
                                                description="macro: zones as a flow network (the venue or one "
                                                "zone); jupedsim: agents in one zone")
    zone: str | None = Field(default=None, pattern=CODE_PATTERN, description="Zone code (empty: the whole venue)")
    people: int | None = Field(default=None, ge=0, le=1_000_000,
                               description="People to evacuate (default: the expected attendance, or the zone's share)")
    agents: int | None = Field(default=None, ge=1, le=5000, description="JuPedSim agents (default: up to 1,000)")
    max_s: float | None = Field(default=None, gt=0, le=7200, description="Time cap, seconds (partial result after)")


class EvacuationRunOut(Out):
    id: str
    status: str = Field(description="running | done | failed")
    progress: float
    model: str
    zone: str | None
    result: dict[str, Any] | None = Field(default=None, description="clearance_s, exits, zones, series, capacity...")
    error: str | None = None
