"""The warning flow: zone states → level trackers (hysteresis, hold time) → warnings → bus.

:func:`evaluate` is one pass for one event; :class:`Watcher` keeps the trackers and the last
published zone states between passes and runs the pass every ``interval_s`` for every event with
fresh readings. Messages go out on the bus only after the pass has committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from anbao.alert import service
from anbao.algorithms.levels import DEFAULT_DENSITY, Level, LevelTracker
from anbao.core.bus import InProcessBus
from anbao.core.time import utcnow
from anbao.sensing.models import Reading
from anbao.sensing.state import LEVEL_CODES, zone_states

log = logging.getLogger("anbao.alert")


@dataclass
class Watch:
    """State kept between passes: one tracker per (event, zone), the last zone states sent."""

    trackers: dict[tuple[int, int], LevelTracker] = field(default_factory=dict)
    last_sent: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict)


def evaluate(*, db: Session, event_id: int, now: datetime, watch: Watch) -> list[tuple[str, dict[str, Any]]]:
    """One pass for one event; returns the (topic, payload) messages to publish after commit."""
    out: list[tuple[str, dict[str, Any]]] = []
    changed: list[dict[str, Any]] = []
    for s in zone_states(db=db, event_id=event_id, now=now):
        snapshot = (s.count, s.density, s.level, s.sensors_stale)
        if watch.last_sent.get((event_id, s.zone_id)) != snapshot:
            watch.last_sent[(event_id, s.zone_id)] = snapshot
            changed.append({"zone_id": s.zone_id, "code": s.code, "count": s.count, "density": s.density,
                            "level": s.level, "source": s.source, "stale": list(s.sensors_stale)})
        tracker = watch.trackers.setdefault((event_id, s.zone_id), LevelTracker(DEFAULT_DENSITY))
        t = tracker.step(s.density, now.timestamp())
        if t is None:
            continue
        key = f"density:zone:{s.zone_id}"
        if t.after == Level.NONE:
            w = service.release(db=db, event_id=event_id, key=key, now=now,
                                reason=f"自动解除：{s.name} 密度回落至 {s.density} 人/㎡")
        else:
            level = LEVEL_CODES[t.after]
            w = service.raise_level(
                db=db, event_id=event_id, key=key, kind="density", level=level, now=now, zone_id=s.zone_id,
                value=s.density, forecast=t.forecast,
                message=f"{s.name} 人群密度 {s.density} 人/㎡（约 {round(s.count or 0)} 人），"
                        f"{service.LEVEL_ZH[level]}预警。{t.reason}")
        if w is not None:
            out.append((f"event/{event_id}/warning", service.payload(w)))
    if changed:
        out.insert(0, (f"event/{event_id}/zone-state", {"at": now.isoformat(), "zones": changed}))
    return out


def events_with_fresh_readings(*, db: Session, now: datetime, window_s: float = 600) -> list[int]:
    since = now - timedelta(seconds=window_s)
    return list(db.execute(select(Reading.event_id).where(Reading.at > since).distinct()).scalars())


class Watcher:
    """Runs :func:`evaluate` every ``interval_s`` seconds for every event with fresh readings."""

    def __init__(self, sessions: sessionmaker[Session], bus: InProcessBus, interval_s: float) -> None:
        self.sessions, self.bus, self.interval_s = sessions, bus, interval_s
        self.watch = Watch()

    def run_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        published = 0
        with self.sessions() as db:
            db.info["actor"] = "system:warnings"
            event_ids = events_with_fresh_readings(db=db, now=now)
        for event_id in event_ids:
            with self.sessions() as db:
                db.info["actor"] = "system:warnings"
                messages = evaluate(db=db, event_id=event_id, now=now, watch=self.watch)
                db.commit()
            for topic, payload in messages:
                self.bus.publish(topic, payload)
                published += 1
        return published

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # a bad pass must not stop the watcher; it is logged and retried
                log.exception("warning pass failed")
            await asyncio.sleep(self.interval_s)
