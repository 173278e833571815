"""Schemas of the dispatch domain: road networks, closures, recommendations, reinforcement, corridors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from anbao.core.schemas import In, Out, Stamped, UTCTime

Network = Literal["road", "straight_line"]
Exemption = Literal["emergency", "police", "accredited"]
Vehicle = Literal["emergency", "police", "accredited", "civilian"]
EXEMPT_HELP = ("Vehicles let through 放行: emergency 应急车辆 (fire, medical), police 警车, accredited 持证车辆; "
               "default emergency + police for a closure of vehicles, none for a closure of everyone")


class RoadNetworkOut(Stamped):
    id: int
    event_id: int
    name: str
    kind: str = Field(description="osm | geojson")
    filename: str
    size_bytes: int
    sha256: str
    nodes: int
    edges: int
    report: dict[str, Any] = Field(description="Import report: ways read and used, skipped ways by reason, notes, "
                                               "nodes in each mode's main network")
    uploaded_at: UTCTime
    by: str


class ClosureCreate(In):
    name: str = Field(min_length=1, max_length=200, description="管制名称, e.g. 飞虹路北段封闭")
    geometry: dict[str, Any] = Field(description="GeoJSON LineString (a road) or Polygon / MultiPolygon (an area), "
                                                 "WGS-84 lon/lat")
    applies_to: Literal["vehicles", "everyone"] = Field(default="vehicles",
                                                        description="vehicles 禁止车辆 | everyone 全封闭")
    starts_at: AwareDatetime = Field(description="From (with a time zone)")
    ends_at: AwareDatetime | None = Field(default=None, description="Until; empty = until disabled or deleted")
    reason: str = Field(default="", max_length=2000)
    enabled: bool = True
    exempt: list[Exemption] | None = Field(default=None, max_length=3, description=EXEMPT_HELP)


class ClosureUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    geometry: dict[str, Any] | None = None
    applies_to: Literal["vehicles", "everyone"] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    reason: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None
    exempt: list[Exemption] | None = Field(default=None, max_length=3, description=EXEMPT_HELP)


class ClosureOut(Stamped):
    id: int
    event_id: int
    name: str
    geometry: dict[str, Any]
    applies_to: str
    starts_at: UTCTime
    ends_at: UTCTime | None
    reason: str
    enabled: bool
    exempt: list[str] = Field(description=EXEMPT_HELP)


class LineString(Out):
    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]]


class Candidate(Out):
    unit_id: int
    call_sign: str
    police_type: str
    mode: str = Field(description="foot | car | motorbike (from the unit's equipment)")
    eta_s: float = Field(description="Travel time to the incident, seconds")
    distance_m: float = Field(description="Length of the path, metres")
    route: Network = Field(description="road: along the network; straight_line: distance x 1.3 at the mode's speed "
                                       "(no network, or the unit or target farther than the snap distance)")
    position_age_s: float = Field(description="Age of the unit's position, seconds")
    path: LineString = Field(description="From the unit's position to the incident, WGS-84")
    exempt_as: str | None = Field(default=None, description="The class the unit passes closures as: emergency | "
                                                            "police | accredited (null: none)")
    note: str = Field(default="", description="e.g. 经管制路段（应急车辆放行）: the route crosses closures the unit "
                                              "is exempt from")


class Excluded(Out):
    unit_id: int
    call_sign: str
    reason: str = Field(description="not_available | no_position | stale_position | police_type | skill | equipment "
                                    "| mode | min_cover | unreachable")
    detail: str = ""


class Recommendation(Out):
    incident_id: int
    target: tuple[float, float] = Field(description="lon, lat the units are routed to")
    target_from: Literal["incident", "zone"] = Field(description="the incident's position, or its zone's centre")
    network: Network
    closures: int = Field(description="Closures active now, applied to the routes")
    units: list[Candidate]
    excluded: list[Excluded]


class Release(Out):
    post_id: int
    post_code: str
    post_name: str
    critical: bool
    unit_id: int
    call_sign: str
    officers: int = Field(description="Officers this unit sends (part of the unit when the post cannot spare all)")
    unit_officers: int
    below_min: bool = Field(description="True when this release takes the post below its minimum staff")
    mode: str
    eta_s: float
    distance_m: float
    route: Network
    path: LineString


class PostCover(Out):
    post_id: int
    post_code: str
    post_name: str
    critical: bool
    min_staff: int
    present: int
    releases: int = Field(description="Officers released from this post")
    left: int = Field(description="Officers left at the post")


class Reinforcement(Out):
    zone_id: int
    zone_code: str
    need: int
    released: int
    short: int = Field(description="Officers still missing (0 when the need is met)")
    message: str
    network: Network
    moves: list[Release]
    posts: list[PostCover]


class ZoneCorridor(Out):
    zone_id: int
    zone_code: str
    zone_name: str
    status: Literal["ok", "slower", "unreachable"]
    in_open_s: float | None = Field(description="Fastest car time in from an access point, open roads (null: none)")
    in_closed_s: float | None = Field(description="... under the closures active now")
    out_open_s: float | None
    out_closed_s: float | None
    snap_m: float | None = Field(description="Distance from the zone's centre to the road it is reached by")
    note: str = ""


class Corridors(Out):
    network: Literal["road"] = "road"
    vehicle: Vehicle = Field(description="The vehicles checked: closures exempting them are ignored")
    closures: int
    exempted: int = Field(default=0, description="Closures in force that let these vehicles through")
    access_points: int = Field(description="Access nodes: the road network's boundary (map edge) nodes")
    factor: float = Field(description="'slower' when in or out takes more than factor x the open-road time")
    zones: list[ZoneCorridor]
