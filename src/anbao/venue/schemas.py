from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Stamped
from anbao.core.vocab import DeviceKindIn, GateKindIn, PoliceTypeIn, ZoneKindIn

Lon = Field(description="Longitude (WGS84), or x metres east for a local-metres venue")
Lat = Field(description="Latitude (WGS84), or y metres north for a local-metres venue")


class VenueCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="场地名称")
    crs: Literal["wgs84", "local"] = Field(default="wgs84", description="wgs84 lon/lat, or local metres")
    address: str = Field(default="", max_length=300)
    ref_lon: float | None = Field(default=None, ge=-180, le=180, description="Reference point (centre)")
    ref_lat: float | None = Field(default=None, ge=-90, le=90)


class VenueUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    ref_lon: float | None = Field(default=None, ge=-180, le=180)
    ref_lat: float | None = Field(default=None, ge=-90, le=90)


class VenueOut(Stamped):
    id: int
    event_id: int
    code: str
    name: str
    crs: str
    address: str
    ref_lon: float | None
    ref_lat: float | None


class ZoneCreate(In):
    venue_id: int
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="区域名称")
    kind: ZoneKindIn = Field(description="核心区 core, 缓冲区 buffer, 外围区 outer, 通道 passage, ...")
    ring: int = Field(ge=1, le=3, description="圈层: 1 core, 2 buffer, 3 outer")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    standing_capacity: int | None = Field(default=None, ge=0)
    seated_capacity: int | None = Field(default=None, ge=0)
    parent_id: int | None = None


class ZoneUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: ZoneKindIn | None = None
    ring: int | None = Field(default=None, ge=1, le=3)
    geometry: dict[str, Any] | None = None
    standing_capacity: int | None = Field(default=None, ge=0)
    seated_capacity: int | None = Field(default=None, ge=0)
    parent_id: int | None = None


class ZoneOut(Stamped):
    id: int
    event_id: int
    venue_id: int
    code: str
    name: str
    kind: str
    ring: int
    geometry: dict[str, Any]
    area_m2: float = Field(description="Area in square metres, from the geometry")
    standing_capacity: int | None
    seated_capacity: int | None
    parent_id: int | None


class GateCreate(In):
    venue_id: int
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    kind: GateKindIn = Field(description="出入口 gate, 安检口 checkpoint, 疏散出口 exit")
    zone_id: int | None = None
    lon: float = Lon
    lat: float = Lat
    lanes: int = Field(default=1, ge=1, le=200, description="Screening or turnstile lanes")
    width_m: float = Field(gt=0, le=500, description="Clear width in metres")
    stair: bool = Field(default=False, description="Exit via stairs (66 p/m/min) instead of level (82)")
    direction: Literal["in", "out", "both"] = "both"


class GateUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: GateKindIn | None = None
    zone_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    lanes: int | None = Field(default=None, ge=1, le=200)
    width_m: float | None = Field(default=None, gt=0, le=500)
    stair: bool | None = None
    direction: Literal["in", "out", "both"] | None = None


class GateOut(Stamped):
    id: int
    event_id: int
    venue_id: int
    code: str
    name: str
    kind: str
    zone_id: int | None
    lon: float
    lat: float
    lanes: int
    width_m: float
    stair: bool
    direction: str


class PostCreate(In):
    venue_id: int
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="岗位名称")
    zone_id: int | None = None
    lon: float = Lon
    lat: float = Lat
    police_type: PoliceTypeIn = Field(description="警种")
    skills: list[str] = Field(default_factory=list, description="Required skills")
    min_staff: int = Field(default=1, ge=1, le=1000, description="Minimum staff on post")
    critical: bool = Field(default=False, description="Must keep minimum cover during reinforcement")


class PostUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    zone_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    police_type: PoliceTypeIn | None = None
    skills: list[str] | None = None
    min_staff: int | None = Field(default=None, ge=1, le=1000)
    critical: bool | None = None


class PostOut(Stamped):
    id: int
    event_id: int
    venue_id: int
    code: str
    name: str
    zone_id: int | None
    lon: float
    lat: float
    police_type: str
    skills: list[str]
    min_staff: int
    critical: bool


class DeviceCreate(In):
    venue_id: int
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    kind: DeviceKindIn = Field(description="camera, drone, or a sensor kind (wifi_probe, gas, smoke...)")
    zone_id: int | None = Field(default=None, description="Zone watched (camera) or measured (sensor)")
    lon: float = Lon
    lat: float = Lat
    unit_of_measure: str = Field(default="", max_length=20, description="e.g. persons, ppm, °C")
    status: Literal["online", "offline", "fault", "maintenance"] = "online"
    properties: dict[str, Any] = Field(default_factory=dict)


class DeviceUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    zone_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    unit_of_measure: str | None = Field(default=None, max_length=20)
    status: Literal["online", "offline", "fault", "maintenance"] | None = None
    properties: dict[str, Any] | None = None


class DeviceOut(Stamped):
    id: int
    event_id: int
    venue_id: int
    code: str
    name: str
    kind: str
    zone_id: int | None
    lon: float
    lat: float
    unit_of_measure: str
    status: str
    properties: dict[str, Any]


class ImportResult(In):
    venue_id: int
    created: dict[str, int]
    updated: dict[str, int]
