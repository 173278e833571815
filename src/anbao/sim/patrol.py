"""Simulated unit positions 警力定位 for the demo: each unit walks a loop around a post of its command node,
and a unit sent to an incident answers like an officer with the phone app would.

Every unit gets a home post (the posts of its command node first, in code order, shared out round
robin; then any post of the same police type; then any post) and walks a circle of 20-60 m radius
around it at 1.2 m/s (traffic and special units 3 m/s), starting at a seeded angle, so that the
command map shows moving units as the phone app (/m/) would send them. Positions go through the
same service as the phone's reports (``client_key`` per unit and time, so a replayed tick is no
duplicate) and reach the live stream on commit.

A unit with an open dispatch task (派警, from the command map) accepts it at the next tick, heads
straight for the incident at ``RESPONSE_SPEED`` (3 m/s on foot, 10 m/s with a vehicle), taps 到场 when
it is within ``ARRIVED_M``, and 完成 after ``ON_SCENE_S`` simulated seconds there; then it walks its
loop again. The taps go through the task service, so the incident moves as it would with a real phone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyproj import Geod
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from anbao.incident import service as incidents
from anbao.incident.models import Incident
from anbao.incident.schemas import PositionIn
from anbao.org.models import CommandNode, Unit
from anbao.response import service as response
from anbao.response.models import Task
from anbao.venue.models import Post, Zone

GEOD = Geod(ellps="WGS84")
FAST_TYPES = {"traffic", "special"}
RESPONSE_SPEED = {False: 3.0, True: 10.0}  # m/s on foot / with a vehicle
ARRIVED_M = 15.0
ON_SCENE_S = 600.0


@dataclass(frozen=True)
class Loop:
    unit_id: int
    lon: float  # loop centre, degrees
    lat: float
    radius_m: float
    speed_m_s: float
    phase: float  # radians at t = 0

    def at(self, t_s: float) -> tuple[float, float]:
        """(lon, lat) in degrees after ``t_s`` seconds of walking."""
        angle = self.phase + self.speed_m_s * t_s / self.radius_m
        lon, lat, _ = GEOD.fwd(self.lon, self.lat, math.degrees(angle) % 360.0, self.radius_m)
        return float(lon), float(lat)


class Patrols:
    """Patrol loops of every available or assigned unit of one event."""

    def __init__(self, db: Session, event_id: int, *, seed: int = 20261219) -> None:
        self.event_id = event_id
        rng = random.Random(seed)
        posts = db.execute(select(Post.id, Post.code, Post.lon, Post.lat, Post.police_type, Zone.code.label("zone"))
                           .outerjoin(Zone, Zone.id == Post.zone_id)
                           .where(Post.event_id == event_id).order_by(Post.code)).all()
        units = db.execute(select(Unit.id, Unit.code, Unit.police_type, Unit.command_node_id, Unit.status)
                           .where(Unit.event_id == event_id).order_by(Unit.code)).all()
        node_posts = self._node_posts(db, event_id, posts)
        by_type: dict[str, list[int]] = {}
        for i, p in enumerate(posts):
            by_type.setdefault(p.police_type, []).append(i)
        used: dict[str, int] = {}
        self.where: dict[int, tuple[float, float]] = {}  # units away from their loop (answering a call)
        self.since: dict[int, float] = {}  # task id -> simulated time of its last step
        self._last_t: float | None = None
        self.loops: list[Loop] = []
        for u in units:
            if u.status == "off_duty" or not posts:
                continue
            key, pool = (f"node:{u.command_node_id}", node_posts.get(u.command_node_id or -1, []))
            if not pool:
                key, pool = f"type:{u.police_type}", by_type.get(u.police_type, [])
            if not pool:
                key, pool = "all", list(range(len(posts)))
            k = used.get(key, 0)
            used[key] = k + 1
            p = posts[pool[k % len(pool)]]
            fast = u.police_type in FAST_TYPES
            self.loops.append(Loop(unit_id=u.id, lon=p.lon, lat=p.lat, radius_m=rng.uniform(20.0, 60.0),
                                   speed_m_s=3.0 if fast else 1.2, phase=rng.uniform(0.0, math.tau)))

    @staticmethod
    def _node_posts(db: Session, event_id: int, posts: Sequence[Row[Any]] | Sequence[Any]) -> dict[int, list[int]]:
        """Post indexes per command node: the posts in the zones the node is responsible for."""
        nodes = db.execute(select(CommandNode.id, CommandNode.zone_codes)
                           .where(CommandNode.event_id == event_id)).all()
        out: dict[int, list[int]] = {}
        for node_id, zone_codes in nodes:
            zones = set(zone_codes or [])
            picked = [i for i, p in enumerate(posts) if p.zone in zones]
            if picked:
                out[node_id] = picked
        return out

    def _respond(self, db: Session, now: datetime, t_s: float) -> dict[int, tuple[float, float]]:
        """Move the units that have an open dispatch task; their positions by unit id."""
        dt = 0.0 if self._last_t is None else max(0.0, t_s - self._last_t)
        self._last_t = t_s
        rows = db.execute(select(Task, Incident.lon, Incident.lat)
                          .join(Incident, Incident.id == Task.incident_id)
                          .where(Task.event_id == self.event_id, Task.unit_id.is_not(None),
                                 Task.status.in_(("open", "accepted", "arrived")), Incident.lon.is_not(None))).all()
        loops = {lp.unit_id: lp for lp in self.loops}
        out: dict[int, tuple[float, float]] = {}
        for task, ilon, ilat in rows:
            loop = loops.get(task.unit_id or -1)
            if loop is None or ilon is None or ilat is None:
                continue
            here = self.where.get(loop.unit_id) or loop.at(t_s)
            if task.status == "open":
                response.set_status(db=db, task=task, status="accepted", by="system:simulator", note="", now=now)
                self.since[task.id] = t_s
            elif task.status == "accepted":
                az, _, dist = GEOD.inv(here[0], here[1], ilon, ilat)
                step = RESPONSE_SPEED[loop.speed_m_s > 1.5] * dt
                if dist <= max(step, ARRIVED_M):
                    here = (float(ilon), float(ilat))
                    response.set_status(db=db, task=task, status="arrived", by="system:simulator", note="", now=now)
                    self.since[task.id] = t_s
                else:
                    lon, lat, _ = GEOD.fwd(here[0], here[1], az, step)
                    here = (float(lon), float(lat))
            elif t_s - self.since.setdefault(task.id, t_s) >= ON_SCENE_S:
                response.set_status(db=db, task=task, status="done", by="system:simulator", note="现场处置完毕",
                                    now=now)
            out[loop.unit_id] = here
        self.where = out
        return out

    def report(self, db: Session, now: datetime, t_s: float) -> int:
        """Store every unit's position at ``now`` (``t_s``: simulated seconds); returns how many were new."""
        stamp = int(now.timestamp() * 1000)
        busy = self._respond(db, now, t_s)
        items = []
        for loop in self.loops:
            lon, lat = busy.get(loop.unit_id) or loop.at(t_s)
            items.append(PositionIn(client_key=f"sim:{loop.unit_id}:{stamp}", unit_id=loop.unit_id, lon=lon, lat=lat,
                                    accuracy_m=5.0, at=now))
        return incidents.add_positions(db=db, event_id=self.event_id, items=items, by="system:simulator", now=now)
