"""Read routes for the command map 一张图 and the wall 大屏: UI settings, the map as one FeatureCollection,
its fast-changing status, and the zone history behind the trend charts and the time slider.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, Field

from anbao.alert import rules
from anbao.api.deps import DB, EventDep, require
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import Invalid, NotFound
from anbao.core.schemas import Out, UTCTime
from anbao.core.time import utcnow
from anbao.crowd import history
from anbao.incident.service import PRESENT_FRESH_S, PRESENT_RADIUS_M
from anbao.live import mapdata
from anbao.org.scope import unit_scope
from anbao.venue import service as venues

router = APIRouter(tags=["一张图 command map"])
Viewer = Annotated[Principal, Depends(require(Perm.event_read))]
MapReader = Annotated[Principal, Depends(require(Perm.venue_read, Perm.sensing_read))]
Reader = Annotated[Principal, Depends(require(Perm.sensing_read))]


class UiConfigOut(Out):
    tile_url: str = Field(description="XYZ tile template; empty = no tiles (vectors on a plain background)")
    tile_gcj02: bool = Field(description="The tiles are in GCJ-02: the map shifts WGS-84 data onto them")
    timezone: str = Field(description="IANA zone in which times are shown")
    version: str
    features: dict[str, bool] = Field(description="Modules this server has, e.g. incidents (接处警)")
    instance: str = Field(description="Changes when the server restarts: live-stream sequence numbers start again, "
                                      "so a client resuming with ?since= must reload instead")


#: optional modules the UI shows when the server has their routes
FEATURES = {"incidents": "/api/v1/events/{event_id}/incidents"}


@router.get("/ui-config", response_model=UiConfigOut, summary="Settings of the web UI (map tiles, time zone)")
def ui_config(request: Request, principal: Viewer) -> Any:
    from anbao import __version__

    s = request.app.state.settings
    paths = request.app.openapi().get("paths", {})
    instance = getattr(request.app.state, "ui_instance", None)
    if instance is None:  # one per app (and bus): set on first use
        instance = request.app.state.ui_instance = uuid.uuid4().hex[:12]
    return UiConfigOut(tile_url=s.tile_url, tile_gcj02=s.tile_gcj02, timezone=s.timezone, version=__version__,
                       features={name: path in paths for name, path in FEATURES.items()}, instance=instance)


@router.get("/events/{event_id}/map", summary="The event's map: zones, gates, posts and devices as one GeoJSON "
            "FeatureCollection, with gate queues and device health now",
            description="Zones come largest first (draw in order: smaller zones on top). Every feature has "
            "properties.layer (zone | gate | post | device) and properties.id. Posts: required = min_staff, "
            "present = officers of the units whose fresh position (≤ 5 min) is within 75 m of the post "
            "(a partner agency counts only the units it may see). "
            "Devices: health ok (< 60 s since the newest reading), stale "
            "(< 120 s), silent, none (never reported).")
def event_map(event: EventDep, db: DB, principal: MapReader, request: Request,
              live: Annotated[bool, Query(description="false: the static layers only (no gate queues, post "
                                          "presence, device health), with an ETag: a request with If-None-Match "
                                          "of an unchanged map gets 304 and no body")] = True) -> Any:
    if not live:
        tag = f'"map-{mapdata.static_version(db=db, event_id=event.id)}"'
        headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
        if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        return Response(mapdata.static_body(db=db, event_id=event.id, tag=tag), media_type="application/json",
                        headers=headers)
    units = unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency)
    return mapdata.collection(db=db, event_id=event.id, now=utcnow(), units=units)


class GateQueueOut(Out):
    gate_id: int
    queue: float | None = Field(description="Persons queuing (newest gate counter reading)")
    wait_s: float | None = Field(description="Expected wait, seconds")
    at: UTCTime | None


class DeviceHealthOut(Out):
    device_id: int
    health: str = Field(description="ok | stale | silent | none")
    last_at: UTCTime | None = Field(description="When its newest reading reached the server")
    value: float | None


class PostPresenceOut(Out):
    post_id: int
    present: int | None = Field(description="Officers of the units whose fresh position is at this post "
                                f"(≤ {PRESENT_RADIUS_M:g} m, ≤ {PRESENT_FRESH_S:g} s old); "
                                "null for a venue in local metres")
    units: list[str] = Field(description="Call signs of those units")


class MapStatusOut(Out):
    at: UTCTime
    since: UTCTime | None = Field(default=None, description="The since asked for: devices are those that may "
                                  "have changed after it")
    posts: list[PostPresenceOut]
    gates: list[GateQueueOut]
    devices: list[DeviceHealthOut]


@router.get("/events/{event_id}/map-status", response_model=MapStatusOut,
            summary="Post presence, gate queues and device health now (the map's fast-changing part, for polling)")
def map_status(event: EventDep, db: DB, principal: MapReader, request: Request,
               since: Annotated[AwareDatetime | None, Query(description="The at of the previous status: only devices "
                                                            "whose health or value may have changed since")] = None,
               ) -> Any:
    units = unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency)
    now = utcnow()
    watcher = getattr(request.app.state, "watcher", None)
    kept = watcher.live_devices(event.id, now) if watcher is not None else None
    return mapdata.status(db=db, event_id=event.id, now=now, units=units, since=since, kept=kept)


class ZoneSeriesOut(Out):
    zone_id: int
    count: list[float | None]
    density: list[float | None] = Field(description="persons/m2")
    level: list[int] = Field(description="Index into levels: 0 none, 1 blue, 2 yellow, 3 orange, 4 red")


class ZoneHistoryOut(Out):
    since: UTCTime
    until: UTCTime
    step_s: int
    levels: list[str] = Field(default=list(history.LEVELS))
    times: list[UTCTime]
    people: list[float | None] = Field(description="Persons on site per step (nested zones counted once)")
    data_since: UTCTime | None = Field(description="First reading inside the window (null: none)")
    zones: list[ZoneSeriesOut]


@router.get("/events/{event_id}/zone-history", response_model=ZoneHistoryOut,
            summary="Count, density and level of every zone (or one) at regular steps, from the stored readings",
            description="Same fusion rule as zone-states at each step. Default: the last hour, about 240 steps. "
            f"At most {history.MAX_STEPS} steps and {history.MAX_SPAN.total_seconds() / 3600:g} hours.")
def zone_history(event: EventDep, db: DB, principal: Reader,
                 since: Annotated[AwareDatetime | None, Query(description="Start (default: one hour before until)")]
                 = None,
                 until: Annotated[AwareDatetime | None, Query(description="End (default: now)")] = None,
                 step_s: Annotated[int | None, Query(ge=1, le=86_400, description="Seconds between steps")] = None,
                 zone_id: Annotated[int | None, Query(description="Only this zone")] = None) -> Any:
    end = until or utcnow()
    start = since or end - timedelta(hours=1)
    span = (end - start).total_seconds()
    if span <= 0:
        raise Invalid("since must be before until", loc=["query", "since"])
    if end - start > history.MAX_SPAN:
        raise Invalid(f"at most {history.MAX_SPAN.total_seconds() / 3600:g} hours at once", loc=["query", "since"])
    step = step_s or history.auto_step(span)
    if span / step > history.MAX_STEPS:
        raise Invalid(f"{span / step:.0f} steps; at most {history.MAX_STEPS}: take a larger step_s",
                      loc=["query", "step_s"])
    if zone_id is not None and crud.get_row(db=db, kind=venues.ZONES, event_id=event.id, row_id=zone_id) is None:
        raise NotFound(f"zone {zone_id} not found in event {event.id}", loc=["query", "zone_id"])
    return history.zone_history(db=db, event_id=event.id, since=start, until=end, step_s=step, zone_id=zone_id,
                                thresholds=rules.density_thresholds(db=db, event_id=event.id))




