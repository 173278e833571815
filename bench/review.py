"""Review statistics at the size of a long event (issue 15 item 8).

    python bench/review.py [--readings 1000000] [--incidents 5000] [--timeline 20000] [--dbs sqlite,postgresql]
                           [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each database: a fresh database (a SQLite file, or a PostgreSQL schema of its own dropped at the end), one
event with a session of 12 hours, 100 zones with 4 cameras each (and 100 gas detectors), ``--readings`` readings
spread over the session (the cameras every few seconds, the detectors with silent stretches), ``--incidents``
incidents with dispatch, arrival and resolution times, 500 warnings with their acknowledgement and closing
times and ``--timeline`` timeline entries, all stored in bulk. Then the review statistics and findings of the
event (:func:`anbao.review.service.review_with_findings`, 60 s steps) are timed.

Prints one JSON line: readings, incidents, timeline, and per database the seconds of the statistics
(``sqlite_stats_s``, ``pg_stats_s``) and of the report (``sqlite_report_s``, ``pg_report_s``: null until the
安保工作总结 document exists). Target: each <= 15 s on the 2-core machine. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scale import PG_URL, database  # a fresh SQLite file or PostgreSQL schema (bench/scale.py)

ZONES, CAMERAS = 100, 4
SESSION = timedelta(hours=12)
CHUNK = 20_000
console = Console(stderr=True)


def fill(url: str, args: argparse.Namespace) -> int:
    """Store the event and its record in bulk; returns the event id."""
    from sqlalchemy import insert, select

    from anbao.alert.models import EarlyWarning
    from anbao.core.db import make_engine, make_sessionmaker
    from anbao.core.migrate import upgrade
    from anbao.core.timeline import TimelineEntry
    from anbao.event.models import Event, EventSession
    from anbao.incident.models import Incident
    from anbao.sensing.models import Reading
    from anbao.venue.models import Device, Venue, Zone

    rng = random.Random(7)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    square = {"type": "Polygon", "coordinates": [[[0, 0], [40, 0], [40, 40], [0, 40], [0, 0]]]}
    with sessions() as db:
        ev = Event(code="BIG", name="大型活动", kind="concert", approved_attendance=150_000)
        db.add(ev)
        db.flush()
        db.add(EventSession(event_id=ev.id, label="全天", start=start, end=start + SESSION))
        v = Venue(event_id=ev.id, code="V", name="场馆")
        db.add(v)
        db.flush()
        db.execute(insert(Zone), [{"event_id": ev.id, "venue_id": v.id, "code": f"Z{z:03d}", "name": f"区域{z}",
                                   "kind": "standing", "ring": 2, "geometry": square, "area_m2": 1600.0}
                                  for z in range(ZONES)])
        zone_ids = [i for (i,) in db.execute(select(Zone.id).where(Zone.event_id == ev.id).order_by(Zone.code))]
        db.execute(insert(Device), [{"event_id": ev.id, "venue_id": v.id, "code": f"C{z:03d}-{k}", "name": "摄像机",
                                     "kind": "video_count", "lon": 0.0, "lat": 0.0, "zone_id": zone_ids[z],
                                     "properties": {}} for z in range(ZONES) for k in range(CAMERAS)]
                   + [{"event_id": ev.id, "venue_id": v.id, "code": f"G{z:03d}", "name": "燃气", "kind": "gas",
                       "lon": 0.0, "lat": 0.0, "zone_id": zone_ids[z], "properties": {}} for z in range(ZONES)])
        devices = list(db.execute(select(Device.id, Device.zone_id, Device.kind).where(Device.event_id == ev.id)))
        db.commit()
        event_id = ev.id
    span = SESSION.total_seconds()
    per_device = args.readings // len(devices)
    step = span / per_device
    rows: list[dict[str, Any]] = []
    done = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        bar = progress.add_task("readings", total=len(devices))
        for device_id, zone_id, kind in devices:
            for k in range(per_device):
                at = start + timedelta(seconds=k * step + rng.random())
                if kind == "gas" and (k * step) % 3600 < 600:
                    continue  # ten silent minutes an hour
                value = 1.0 if kind == "gas" else float(int(1600 * (1 + 3 * abs(((k * step) % 7200) / 3600 - 1))))
                rows.append({"event_id": event_id, "device_id": device_id, "zone_id": zone_id, "at": at,
                             "value": value, "received_at": at, "source": "bench"})
                if len(rows) >= CHUNK:
                    done += _flush(sessions, Reading, rows)
            progress.advance(bar)
        done += _flush(sessions, Reading, rows)
    with sessions() as db:
        db.execute(insert(Incident), [{
            "event_id": event_id, "client_key": f"b{i}", "type": rng.choice(["纠纷", "走失儿童", "医疗救助", "盗窃"]),
            "grade": "ordinary", "source": "officer", "status": "closed", "text": "", "zone_id": rng.choice(zone_ids),
            "reported_by": "bench", "reported_at": (t := start + timedelta(seconds=rng.random() * span)),
            "police_type": "public_order", "dispatched_at": t + timedelta(seconds=30 + rng.random() * 120),
            "on_scene_at": t + timedelta(seconds=200 + rng.random() * 400),
            "resolved_at": t + timedelta(seconds=900 + rng.random() * 1800)} for i in range(args.incidents)])
        db.execute(insert(EarlyWarning), [{
            "event_id": event_id, "key": f"density:zone:{zone_ids[i % ZONES]}", "kind": "density",
            "zone_id": zone_ids[i % ZONES], "level": "orange", "peak_level": rng.choice(["blue", "yellow", "orange"]),
            "status": "closed", "value": 4.1, "message": "", "forecast": False, "exercise": False,
            "started_at": (t := start + timedelta(seconds=rng.random() * span)),
            "changed_at": t, "acknowledged_at": t + timedelta(seconds=rng.random() * 900),
            "closed_at": t + timedelta(seconds=1200), "comment": "", "escalations": 0, "escalated_to": ""}
            for i in range(500)])
        db.commit()
    entries = [{"event_id": event_id, "at": start + timedelta(seconds=rng.random() * span), "kind": "task.done",
                "subject": f"task:{i}", "text": "", "actor": "bench"} for i in range(args.timeline)]
    _flush(sessions, TimelineEntry, entries)
    engine.dispose()
    console.print(f"stored {done:,} readings, {args.incidents:,} incidents, {args.timeline:,} timeline entries")
    return event_id


def _flush(sessions: Any, model: Any, rows: list[dict[str, Any]]) -> int:
    from sqlalchemy import insert

    n = len(rows)
    if n:
        with sessions() as db:
            db.execute(insert(model), rows)
            db.commit()
        rows.clear()
    return n


def measure(url: str, event_id: int) -> float:
    from anbao.core.db import make_engine, make_sessionmaker
    from anbao.review import service

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            t0 = time.perf_counter()
            got = service.review_with_findings(db=db, event_id=event_id, now=datetime(2026, 12, 2, tzinfo=UTC))
            took = time.perf_counter() - t0
        console.print(f"statistics in {took:.1f} s: {got['statistics']['warnings']['total']} warnings, "
                      f"{got['statistics']['incidents']['total']} incidents, {len(got['findings'])} findings")
        return round(took, 2)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=5_000)
    parser.add_argument("--timeline", type=int, default=20_000)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--pg", default=PG_URL)
    args = parser.parse_args()
    out: dict[str, Any] = {"readings": args.readings, "incidents": args.incidents, "timeline": args.timeline}
    for kind in args.dbs.split(","):
        key = "pg" if kind == "postgresql" else kind
        with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp), args.pg) as url:
            console.print(f"[bold]{kind}[/]: storing the record")
            event_id = fill(url, args)
            out[f"{key}_stats_s"] = measure(url, event_id)
            out[f"{key}_report_s"] = None  # the 安保工作总结 document is not built yet
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
