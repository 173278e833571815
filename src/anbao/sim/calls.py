"""Scripted calls 报警 of the demo: incidents reported by the public, 110 and cameras while the event runs.

Each call is due a number of simulated seconds after the simulation start; at the first tick past
that time it goes through the same intake as a dispatcher's (``anbao.incident.service.report``),
placed at a seeded point inside its zone. The ``client_key`` names the event and the call, so a
restarted demo does not report a call twice. Plans are matched as for any incident; nobody is sent:
that is the dispatcher's job on the command map (the simulated units then answer, see patrol.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.incident import service as incidents
from anbao.incident.schemas import IncidentReport
from anbao.venue.models import Venue, Zone


@dataclass(frozen=True)
class Call:
    after_s: float  # simulated seconds after the simulation start
    type: str
    grade: str
    zone: str  # zone code
    source: str
    text: str


DEMO_CALLS: tuple[Call, ...] = (
    Call(420, "lost_child", "ordinary", "SCR-N", "public", "北安检口附近一名约6岁男孩与家长走散，穿红色外套"),
    Call(1200, "medical", "ordinary", "FLOOR-B", "call_110", "内场B区一名观众晕倒，意识模糊"),
    Call(2100, "fight", "larger", "CONC-S", "call_110", "南侧环廊两伙人因拥挤发生推搡，有人受伤"),
    Call(3000, "theft", "ordinary", "P2", "public", "2号停车场一辆轿车车窗被砸，车内财物被盗"),
    Call(3900, "traffic", "ordinary", "RD-RING", "camera", "环路一辆网约车与电动自行车相撞，骑车人倒地"),
)


class Calls:
    """The calls of one simulation, reported once each."""

    def __init__(self, db: Session, event_id: int, start_s: float, *, calls: tuple[Call, ...] = DEMO_CALLS,
                 seed: int = 20261219) -> None:
        self.event_id = event_id
        self.start_s = start_s
        rng = random.Random(seed)
        zones = {code: geom for code, geom in db.execute(
            select(Zone.code, Zone.geometry).join(Venue, Venue.id == Zone.venue_id)
            .where(Zone.event_id == event_id, Venue.crs == "wgs84")).all()}
        self.pending: list[tuple[Call, float, float]] = []
        for call in calls:
            geom = zones.get(call.zone)
            if not geom:
                continue
            poly = shape(geom)
            minx, miny, maxx, maxy = poly.bounds
            point = poly.representative_point()
            for _ in range(200):  # a seeded point inside the zone
                cand = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                if poly.contains(cand):
                    point = cand
                    break
            self.pending.append((call, point.x, point.y))

    def report(self, db: Session, now: datetime, t_s: float) -> int:
        """Report the calls due by ``t_s`` (scenario clock); returns how many were new."""
        due = [c for c in self.pending if self.start_s + c[0].after_s <= t_s]
        new = 0
        for k, (call, lon, lat) in enumerate(due):
            _, created = incidents.report(db=db, event_id=self.event_id, by="system:simulator", now=now,
                                          data=IncidentReport(
                                              client_key=f"sim-call-{self.event_id}-{call.after_s:.0f}-{k}",
                                              type=call.type, grade=call.grade, source=call.source,
                                              text=call.text, lon=lon, lat=lat, accuracy_m=10.0))
            new += int(created)
        self.pending = [c for c in self.pending if c not in due]
        return new
