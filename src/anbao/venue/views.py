"""Venue routes: venues, zones, gates, posts, devices, and GeoJSON import/export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core.auth import Perm, Principal
from anbao.core.vocab import DeviceKindIn, GateKindIn, ZoneKindIn
from anbao.venue import flows, service
from anbao.venue.schemas import (
    DeviceCreate,
    DeviceOut,
    DeviceUpdate,
    GateCreate,
    GateOut,
    GateUpdate,
    PostCreate,
    PostOut,
    PostUpdate,
    VenueCreate,
    VenueOut,
    VenueUpdate,
    ZoneCreate,
    ZoneOut,
    ZoneUpdate,
)

TAG = "场地 venues"


class ZoneFilter(ListQuery):
    venue_id: int | None = None
    kind: ZoneKindIn | None = None
    ring: int | None = None


class GateFilter(ListQuery):
    venue_id: int | None = None
    zone_id: int | None = None
    kind: GateKindIn | None = None


class PostFilter(ListQuery):
    venue_id: int | None = None
    zone_id: int | None = None


class DeviceFilter(ListQuery):
    venue_id: int | None = None
    zone_id: int | None = None
    kind: DeviceKindIn | None = None


router = APIRouter()
_common = dict(tag=TAG, read=Perm.venue_read, write=Perm.venue_write)
router.include_router(resource_router(kind=service.VENUES, path="venues", create=VenueCreate, update=VenueUpdate,
                                      out=VenueOut, **_common))  # type: ignore[arg-type]
router.include_router(resource_router(kind=service.ZONES, path="zones", create=ZoneCreate, update=ZoneUpdate,
                                      out=ZoneOut, filters=ZoneFilter, **_common))  # type: ignore[arg-type]
router.include_router(resource_router(kind=service.GATES, path="gates", create=GateCreate, update=GateUpdate,
                                      out=GateOut, filters=GateFilter, **_common))  # type: ignore[arg-type]
router.include_router(resource_router(kind=service.POSTS, path="posts", create=PostCreate, update=PostUpdate,
                                      out=PostOut, filters=PostFilter, **_common))  # type: ignore[arg-type]
router.include_router(resource_router(kind=service.DEVICES, path="devices", create=DeviceCreate,
                                      update=DeviceUpdate, out=DeviceOut, filters=DeviceFilter,
                                      **_common))  # type: ignore[arg-type]

Writer = Annotated[Principal, Depends(require(Perm.venue_write))]
Reader = Annotated[Principal, Depends(require(Perm.venue_read))]


@router.post("/events/{event_id}/venue-import", tags=[TAG],
             summary="Import a venue from a GeoJSON FeatureCollection (all or nothing)")
def import_venue(event: EventDep, db: DB, principal: Writer,
                 collection: Annotated[dict[str, Any], Body(description="GeoJSON FeatureCollection")]) -> Any:
    return flows.import_venue(db=db, event_id=event.id, collection=collection)


@router.get("/events/{event_id}/venues/{venue_id}/geojson", tags=[TAG],
            summary="Export a venue as a GeoJSON FeatureCollection")
def export_venue(event: EventDep, venue_id: int, db: DB, principal: Reader,
                 _fmt: Annotated[str | None, Query(alias="format", include_in_schema=False)] = None) -> Any:
    return flows.export_venue(db=db, event_id=event.id, venue_id=venue_id)
