"""Warning noise over a whole simulated event day of the demo (issue 13: "the demo shows none of the noise").

Loads the demo into a fresh SQLite file, plays its session from the start of the arrival window (150 minutes
before the show) until everybody has gone home, with the simulator's default scenario (arrival curve,
screening slowdown, crowd surge, smoke-detector fault, sensor drop-outs), and after every tick runs one pass
of the real warning engine. The wall clock is virtual (it starts far enough in the past that the whole day
fits before now), so a 6-hour day runs in minutes. Prints one JSON line:

- ``warnings``: how many were raised, by kind and level; ``forecast``: how many of them were forecasts;
- ``reopened``: warnings raised again for a key within 10 minutes of its closing (flapping: the field trial
  saw six blue warnings around 2.0 persons/m2 after the surge);
- ``level_reversals``: level changes that undo the previous one within 5 minutes (up-down-up);
- ``seated_density``: density warnings on seated stands (the trial saw blue forecasts at 1.5-1.65 persons/m2
  on a full stand: they must warn on occupancy);
- ``queue_per_place_max``: the most open queue warnings of one kind at one place (one 安检区) at once;
- ``top_zone_changes_per_hour``: how often the wall's busiest zone changes, with the wall's stable ranking
  (a zone passes another only by 0.2 persons/m2, ``web/js/ranking.js``) and, for comparison, without it.

Device-silence warnings are not measured here: silence is counted from the real time a reading arrived,
which a virtual clock cannot move.

    python bench/noise_day.py [--speed 10] [--tick 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from anbao.alert.flows import Watcher
from anbao.alert.models import EarlyWarning
from anbao.core.bus import InProcessBus
from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.core.migrate import upgrade
from anbao.core.time import utcnow
from anbao.core.timeline import TimelineEntry
from anbao.crowd.state import seats_of, zone_states
from anbao.demo.build import load_demo
from anbao.sim.live import Simulator
from anbao.venue.layout import load_site
from anbao.venue.models import Zone

RANK_MARGIN = 0.2  # web/js/ranking.js RANK_MARGIN
ARRIVAL_LEAD = timedelta(minutes=150)


def stable_top(states: dict[int, float], previous: list[int], margin: float) -> list[int]:
    """The wall's ranking (web/js/ranking.js stableRanking): keep the previous order, pass only by ``margin``."""
    before = {zid: i for i, zid in enumerate(previous)}
    live = sorted(states, key=lambda z: (before.get(z, len(previous)), -states[z]))
    for i in range(1, len(live)):
        j = i
        while j > 0 and states[live[j]] > states[live[j - 1]] + margin:
            live[j - 1], live[j] = live[j], live[j - 1]
            j -= 1
    return live


def measure(speed: float, tick_s: float, dump: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/noise.db")
        upgrade(engine)
        bus = InProcessBus()
        sessions = make_sessionmaker(engine, info={"bus": bus})
        with transaction(sessions, actor="bench") as db:
            event_id = load_demo(db=db, var_dir=Path(tmp)).event_id
        with sessions() as db:
            site = load_site(db=db, event_id=event_id)
            start = site.show_start - ARRIVAL_LEAD
            day_s = (site.show_end - start).total_seconds() + 3 * 3600  # egress: the simulator stops when all left
            zones = db.execute(select(Zone).where(Zone.event_id == event_id)).scalars().all()
            seated = {z.id for z in zones if seats_of(z.seated_capacity, z.standing_capacity) is not None}
        watcher = Watcher(sessions, bus, interval_s=3600.0)
        watcher.paused = True
        sim = Simulator(sessions, event_id, speed=speed, start=start, max_catch_up_s=tick_s * speed)
        wall = utcnow() - timedelta(seconds=day_s / speed + 600)
        wall0 = wall
        open_queue: dict[tuple[str, int | None, str], set[int]] = defaultdict(set)
        queue_max = 0
        rank_stable: list[int] = []
        top_stable: list[int | None] = []
        top_raw: list[int | None] = []
        ticks = 0
        began = time.perf_counter()
        sim.tick(wall)
        while not sim.finished and (wall - wall0).total_seconds() * speed < day_s:
            wall += timedelta(seconds=tick_s)
            sim.tick(wall)
            watcher.run_once(now=wall)
            ticks += 1
            with sessions() as db:
                states = {s.zone_id: float(s.density) for s in zone_states(db=db, event_id=event_id, now=wall)
                          if s.density is not None}
                for w in db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id,
                                                               EarlyWarning.kind.in_(("queue_wait", "queue_length"))))\
                        .scalars():
                    place = (w.kind, w.zone_id, "")
                    if w.status == "closed":
                        open_queue[place].discard(w.id)
                    else:
                        open_queue[place].add(w.id)
                queue_max = max([queue_max, *(len(v) for v in open_queue.values())])
            rank_stable = stable_top(states, rank_stable, RANK_MARGIN)
            top_stable.append(rank_stable[0] if rank_stable else None)
            top_raw.append(max(states, key=lambda z: states[z]) if states else None)
        elapsed = time.perf_counter() - began
        hours = ticks * tick_s * speed / 3600.0
        with sessions() as db:
            warnings = db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id)).scalars().all()
            steps = db.execute(select(TimelineEntry).where(TimelineEntry.event_id == event_id,
                                                           TimelineEntry.kind.like("warning.%"))
                               .order_by(TimelineEntry.at, TimelineEntry.id)).scalars().all()
            if dump:  # every warning and step, to read what made noise (stderr)
                for w in sorted(warnings, key=lambda w: (w.key, w.started_at)):
                    print(w.id, w.key, w.level, "forecast" if w.forecast else "", f"{w.started_at:%H:%M:%S}",
                          f"{w.closed_at:%H:%M:%S}" if w.closed_at else "-", w.message, file=sys.stderr)
                for st in steps:
                    print("  ", f"{st.at:%H:%M:%S}", st.subject, st.kind, st.text, file=sys.stderr)
        engine.dispose()
    by_kind = Counter(f"{w.kind}:{w.level}" for w in warnings)
    reopened = _reopened(warnings, speed)
    reversals = _reversals(steps, speed)
    seated_density = sum(1 for w in warnings if w.kind == "density" and w.zone_id in seated)

    def changes(tops: list[int | None]) -> float:
        n = sum(1 for a, b in zip(tops, tops[1:], strict=False) if a != b)
        return round(n / hours, 2) if hours else 0.0

    return {"bench": "noise_day", "simulated_h": round(hours, 2), "ticks": ticks, "wall_s": round(elapsed, 1),
            "warnings": len(warnings), "by_kind_level": dict(sorted(by_kind.items())),
            "forecast": sum(1 for w in warnings if w.forecast), "reopened": reopened,
            "level_reversals": reversals, "seated_density": seated_density, "queue_per_place_max": queue_max,
            "top_zone_changes_per_hour": {"stable": changes(top_stable), "raw": changes(top_raw)}}


def _reopened(warnings: list[EarlyWarning], speed: float) -> int:
    """Warnings whose key had a warning closed less than 10 simulated minutes before they started."""
    by_key: dict[str, list[EarlyWarning]] = defaultdict(list)
    for w in warnings:
        by_key[w.key].append(w)
    gap = timedelta(minutes=10) / speed
    n = 0
    for ws in by_key.values():
        ws.sort(key=lambda w: w.started_at)
        for a, b in zip(ws, ws[1:], strict=False):
            if a.closed_at is not None and b.started_at - a.closed_at < gap:
                n += 1
    return n


def _reversals(steps: list[Any], speed: float) -> int:
    """Level changes of one warning that undo its previous change within 5 simulated minutes."""
    last: dict[str, tuple[datetime, str]] = {}
    n = 0
    for s in steps:
        if s.kind != "warning.level":
            continue
        direction = "up" if "升级" in (s.text or "") else "down"
        prev = last.get(s.subject)
        if prev is not None and prev[1] != direction and s.at - prev[0] < timedelta(minutes=5) / speed:
            n += 1
        last[s.subject] = (s.at, direction)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--speed", type=float, default=10.0, help="simulated seconds per (virtual) wall second")
    ap.add_argument("--tick", type=float, default=3.0, help="virtual wall seconds between ticks")
    ap.add_argument("--dump", action="store_true", help="print every warning and step to stderr")
    args = ap.parse_args()
    print(json.dumps(measure(args.speed, args.tick, args.dump), ensure_ascii=False))


if __name__ == "__main__":
    main()
