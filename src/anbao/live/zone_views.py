"""Zone states for the screens: count, density and level by the event's density rules, with gate flows,
trend and forecast (the crowd package computes them, the alert package holds the rules)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, Field

from anbao.alert import rules
from anbao.algorithms.density import FusionConfig
from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.schemas import Out, UTCTime
from anbao.core.time import utcnow
from anbao.crowd import dynamics, state

router = APIRouter(tags=["感知 sensing"])
Reader = Annotated[Principal, Depends(require(Perm.sensing_read))]



class ZoneStateOut(Out):
    zone_id: int
    code: str
    name: str
    area_m2: float
    count: float | None
    density: float | None
    source: str
    level: str
    level_zh: str
    sensors_used: list[str]
    sensors_stale: list[str]
    at: UTCTime
    seats: int | None = Field(default=None, description="Seats of a seated zone (its level is by occupancy)")
    occupancy_pct: float | None = Field(default=None, description="Persons against seats, % (seated zones)")
    flow_in_per_min: float | None = Field(default=None, description="Persons/min in at the zone's gates (last 60 s)")
    flow_out_per_min: float | None = Field(default=None, description="Persons/min out at the zone's gates")
    trend_per_min: float | None = Field(default=None, description="Density slope, persons/m2 per minute (180 s)")
    direction: str = Field(default="unknown", description="rising | falling | steady | unknown")
    forecast_density: float | None = Field(default=None, description="Density expected in 2 minutes (linear)")


@router.get("/events/{event_id}/zone-states", response_model=list[ZoneStateOut],
            summary="Count, density (persons/m2), level, gate flows, trend and forecast of every zone")
def get_zone_states(event: EventDep, db: DB, principal: Reader, request: Request,
                    at: Annotated[AwareDatetime | None, Query(description="State at this time (default: now)")] = None,
                    ) -> Any:
    now = at or utcnow()
    watcher = getattr(request.app.state, "watcher", None)
    density = rules.density_thresholds(db=db, event_id=event.id)
    occupancy = rules.occupancy_thresholds(db=db, event_id=event.id)
    kept = watcher.live_states(event.id, now, density, occupancy) if at is None and watcher is not None else None
    if kept is not None:  # the warning engine keeps them (issue 14): only the gate flows are read from storage
        flows = dynamics.zone_flows(db=db, event_id=event.id, now=now)
        return [{**asdict(s), "trend_per_min": trend, "direction": direction,
                 "forecast_density": None if ahead is None else round(ahead, 3),
                 "flow_in_per_min": flows[s.zone_id][0] if s.zone_id in flows else None,
                 "flow_out_per_min": flows[s.zone_id][1] if s.zone_id in flows else None}
                for s, (trend, direction, ahead) in kept]
    # the clock-skew allowance (readings a few seconds ahead of the server) is for "now" only: a past time
    # (history, replay) counts no reading stamped after it
    config = FusionConfig(future_tolerance_s=0.0) if at is not None else None
    moves = dynamics.zone_dynamics(db=db, event_id=event.id, now=now)
    return [{**asdict(s), **asdict(moves[s.zone_id])} if s.zone_id in moves else s
            for s in state.zone_states(db=db, event_id=event.id, now=now, config=config,
                                       thresholds=density, occupancy=occupancy)]
