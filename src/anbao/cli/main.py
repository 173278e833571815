"""The ``anbao`` command: serve, demo, db, import, export, users, audit, events.

Exit codes: 0 success, 1 a check failed (audit verify), 2 bad input (one-line reason on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from anbao.cli import plan as plan_cli
from anbao.cli import review as review_cli
from anbao.cli.common import (
    DEMO_PASSWORD,
    DEMO_USER,
    database,
    err,
    event_or_fail,
    fail,
    load_settings,
    out,
    parse,
    read_json,
    session,
)
from anbao.cli.dispatch import app as roads_app
from anbao.core.errors import AnBaoError

app = typer.Typer(help="AnBao 安保: command platform for police security of large public events.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema 数据库", no_args_is_help=True)
import_app = typer.Typer(help="Import data 导入", no_args_is_help=True)
export_app = typer.Typer(help="Export data 导出", no_args_is_help=True)
users_app = typer.Typer(help="Local users 用户", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log 审计", no_args_is_help=True)
events_app = typer.Typer(help="Events 活动", no_args_is_help=True)
sim_app = typer.Typer(help="Simulation and replay 仿真", no_args_is_help=True)
for sub, name in ((db_app, "db"), (import_app, "import"), (export_app, "export"), (users_app, "users"),
                  (audit_app, "audit"), (events_app, "events"), (sim_app, "sim"), (roads_app, "roads"),
                  (plan_cli.app, "plan"), (review_cli.app, "review")):
    app.add_typer(sub, name=name)

app.command("capacity")(plan_cli.capacity)
app.command("evacuate")(plan_cli.evacuate)

def _serve(host: str, port: int, simulate: tuple[int, float] | None = None) -> None:
    import uvicorn

    from anbao.app import create_app

    # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app believes it only from
    # ANBAO_TRUSTED_PROXIES (anbao.core.auth.TrustedProxies)
    uvicorn.run(create_app(load_settings(), simulate=simulate), host=host, port=port, log_level="info",
                proxy_headers=False)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Listen address (ANBAO_HOST)")] = None,
          port: Annotated[int | None, typer.Option(help="Port (ANBAO_PORT)")] = None) -> None:
    """Upgrade the database and serve the app 启动服务."""
    settings = load_settings()
    with session():
        pass
    _serve(host or settings.host, port or settings.port)


@app.command()
def demo(port: Annotated[int | None, typer.Option(help="Port to serve on")] = None,
         host: Annotated[str | None, typer.Option(help="Listen address")] = None,
         no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the demo data and exit")] = False,
         speed: Annotated[float, typer.Option(help="Simulation speed (x real time)", min=0.1, max=1000)] = 10.0,
         ) -> None:
    """Load the demo event once (idempotent) and serve it 演示."""
    from anbao.account import service as accounts
    from anbao.account.schemas import UserCreate
    from anbao.demo.build import load_demo
    from anbao.demo.people import ensure_demo_logins

    settings = load_settings()
    with session() as db:
        summary = load_demo(db=db)
        if accounts.get_by_username(db=db, username=DEMO_USER) is None:
            accounts.create(db=db, data=UserCreate(username=DEMO_USER, display_name="演示指挥长",
                                                   password=DEMO_PASSWORD, role="commander"))
        officers = ensure_demo_logins(db=db, event_id=summary.event_id, password=DEMO_PASSWORD)
    state = "created" if summary.created else "already present"
    out.print(f"[bold]演示活动 demo event[/] #{summary.event_id} {state}: {summary.zones} zones, "
              f"{summary.gates} gates, {summary.posts} posts, {summary.sensors} sensors, {summary.cameras} cameras, "
              f"{summary.units} units, {summary.persons} people")
    h, p = host or settings.host, port or settings.port
    out.print(f"URL: http://{h}:{p}/   登录 login: {DEMO_USER} / {DEMO_PASSWORD}")
    out.print("一线民警 field logins (phone /m/, own unit's tasks only): "
              + ", ".join(f"{name} ({unit})" for name, unit in officers) + f" / {DEMO_PASSWORD}")
    if not no_serve:
        out.print(f"实时仿真 live simulation at {speed:g}x: readings flow through the ingest path at once")
        _serve(h, p, simulate=(summary.event_id, speed))


@app.command()
def worker(group: Annotated[str, typer.Option(help="Shared-subscription group; workers in one group split the load")]
           = "anbao-ingest",
           worker_id: Annotated[int, typer.Option("--id", hidden=True,
                                                  help="Ignored: workers take consumer slots by themselves")] = 0
           ) -> None:
    """Run an MQTT ingest worker 接入进程 (needs ANBAO_MQTT_URL); start as many as needed, anywhere.

    The workers (and `anbao serve`) share ANBAO_MQTT_SLOTS fixed broker sessions: each takes a share,
    and takes over the share of a worker that died, so every message the broker accepted is stored
    (docs/mqtt.md).
    """
    import signal
    import threading

    from anbao.core.db import make_sessionmaker
    from anbao.core.mqtt import MQTTError
    from anbao.sensing.mqtt_ingest import TOPIC_FILTER, consume

    settings = load_settings()
    if not settings.mqtt_url:
        fail("ANBAO_MQTT_URL is not set; e.g. export ANBAO_MQTT_URL=mqtt://127.0.0.1:1883")
    stats: dict[str, int] = {}
    with database() as engine:
        try:
            pool = consume(url=settings.mqtt_url, engine=engine, sessions=make_sessionmaker(engine),
                           prefix=settings.mqtt_client_id, slots=settings.mqtt_slots,
                           session_expiry_s=settings.mqtt_session_expiry_s, var_dir=settings.var_dir,
                           group=group, stats=stats)
        except (OSError, MQTTError, ValueError) as exc:
            fail(f"MQTT broker {settings.mqtt_url}: {exc}")
        out.print(f"worker subscribed to $share/{group}/{TOPIC_FILTER} at {settings.mqtt_url} "
                  f"(slots {pool.held()} of {settings.mqtt_slots}); Ctrl+C stops")
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        try:
            while not done.wait(10):
                out.print(f"slots {pool.held()}  stored messages: {pool.stored}  readings: {stats}")
        except KeyboardInterrupt:
            pass
        pool.stop()


@app.command()
def simulate(event: Annotated[int, typer.Option("--event", help="Event id")],
             speed: Annotated[float, typer.Option(help="Simulated seconds per real second", min=0.1, max=1000)] = 10.0,
             minutes: Annotated[float | None, typer.Option(help="Stop after this many real minutes")] = None,
             seed: Annotated[int, typer.Option(help="Random seed")] = 20261219) -> None:
    """Play a live event day through the real ingest path 实时仿真 (arrivals, queues, surge, faults)."""
    import threading

    from rich.progress import BarColumn, Progress, TextColumn

    from anbao.core.db import make_sessionmaker
    from anbao.sim.live import Tick, run

    with database() as engine:
        sessions = make_sessionmaker(engine)
        with sessions() as db:
            event_or_fail(db, event)
        stop = threading.Event()
        if minutes is not None:
            threading.Timer(minutes * 60, stop.set).start()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                      console=err) as progress:
            task = progress.add_task("仿真 simulating", total=None, info="")

            def on_tick(t: Tick) -> None:
                s = t.summary()
                progress.update(task, description=f"仿真 {s['sim_time'][11:19]} {s['phase']}",
                                info=f"在场 {s['present']:,} 待入 {s['pending']:,} 离场 {s['departed']:,} "
                                     f"读数 {s['readings']} ({s['ms']} ms)")

            try:
                run(sessions, event, speed=speed, on_tick=on_tick, stop=stop, seed=seed)
            except KeyboardInterrupt:
                stop.set()
            except AnBaoError as exc:
                fail(exc.message)
        stop.set()


@sim_app.command("trajectories")
def sim_trajectories(file: Annotated[Path, typer.Argument(help="Trajectory file: id frame x y z per line")],
                     zone_geojson: Annotated[Path, typer.Option("--zone-geojson",
                                                                help="Zones in local metres (properties.code)")],
                     unit: Annotated[str, typer.Option(help="Unit of x and y: m, cm or mm")] = "cm",
                     fps: Annotated[float, typer.Option(help="Frames per second")] = 16.0,
                     event: Annotated[int | None, typer.Option("--event", help="Event to replay into "
                                                               "(default: a new replay event)")] = None) -> None:
    """Replay measured trajectories as an overhead camera per zone through the ingest path; CSV to stdout."""
    import csv
    from datetime import timedelta

    from anbao.algorithms import trajectories as tr
    from anbao.core.time import utcnow
    from anbao.crowd import pedestrian_io
    from anbao.sensing import service as ingest
    from anbao.venue import flows as venue_flows

    if not file.exists():
        fail(f"{file}: no such file")
    try:
        traj = pedestrian_io.load_trajectories(file, unit=unit, fps=fps)
        zones = pedestrian_io.zone_polygons_from_geojson(read_json(zone_geojson))
        counts = tr.count_per_zone(traj, zones, step_s=1.0)
    except ValueError as exc:
        fail(str(exc))
    fc = read_json(zone_geojson)
    cameras = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": list(zones[c].centroid.coords[0])},
                "properties": {"kind": "video_count", "code": f"CAM-{c}"[:40], "name": f"俯视相机 {c}", "zone": c}}
               for c in zones]
    collection = {"type": "FeatureCollection", "venue": {"code": "TRAJ", "name": f"轨迹回放 {file.stem}",
                                                         "crs": "local"},
                  "features": [{**f, "properties": {"kind": "zone", "zone_kind": "passage", "ring": 1,
                                                    "name": f["properties"].get("name", f["properties"]["code"]),
                                                    "code": f["properties"]["code"]}}
                               for f in fc["features"]] + cameras}
    with session() as db:
        from anbao.event import service as events
        from anbao.event.schemas import EventCreate

        if event is None:
            code = f"TRAJ-{file.stem}"[:40]
            existing = events.get_by_code(db=db, code=code)
            event = existing.id if existing else events.create(db=db, data=EventCreate(
                code=code, name=f"轨迹回放 {file.name}", kind="other")).id
        else:
            event_or_fail(db, event)
        venue_flows.import_venue(db=db, event_id=event, collection=collection)
        base = utcnow() - timedelta(seconds=max((c.time_s for c in counts), default=0) + 60)
        items = [{"sensor": f"CAM-{c.zone}"[:40], "at": (base + timedelta(seconds=c.time_s)).isoformat(),
                  "value": c.count, "idempotency_key": f"traj:{file.name}:{c.zone}:{c.time_s:.3f}"} for c in counts]
        result = ingest.ingest(db=db, event_id=event, items=items, source="trajectory-replay")
        if result.rejected:
            fail(f"{len(result.rejected)} readings rejected, first: {result.rejected[0]['msg']}")
    writer = csv.writer(sys.stdout)
    writer.writerows(pedestrian_io.to_csv_rows(counts))
    err.print(f"event {event}: {result.accepted} readings stored ({result.duplicates} already there), "
              f"{len(zones)} zones, {len(traj.persons)} persons")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations 升级数据库."""
    from anbao.core.migrate import current

    with database() as engine:
        out.print(f"database at revision {current(engine)}")


@import_app.command("venue")
def import_venue(file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection")],
                 event: Annotated[int, typer.Option("--event", help="Event id")]) -> None:
    """Import a venue (zones, gates, exits, posts, devices) from GeoJSON; all or nothing."""
    from anbao.venue.flows import import_venue as do_import

    collection = read_json(file)
    with session() as db:
        event_or_fail(db, event)
        result = do_import(db=db, event_id=event, collection=collection)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


@export_app.command("venue")
def export_venue(event: Annotated[int, typer.Option("--event", help="Event id")],
                 venue: Annotated[str | None, typer.Option(help="Venue code (default: the first)")] = None,
                 output: Annotated[Path | None, typer.Option("--out", help="File (default: stdout)")] = None) -> None:
    """Export a venue as a GeoJSON FeatureCollection."""
    from anbao.core import crud
    from anbao.venue import service
    from anbao.venue.flows import export_venue as do_export

    with session() as db:
        event_or_fail(db, event)
        venues = crud.list_rows(db=db, kind=service.VENUES, event_id=event)
        chosen = [v for v in venues if venue is None or v.code == venue]
        if not chosen:
            fail(f"event {event} has no venue" + (f" with code {venue!r}" if venue else ""))
        data = do_export(db=db, event_id=event, venue_id=chosen[0].id)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output} ({len(data['features'])} features)")


@users_app.command("add")
def users_add(username: Annotated[str, typer.Argument(help="Login name")],
              role: Annotated[str, typer.Option(help="commander planner dispatcher officer analyst partner "
                                                     "auditor admin")],
              password: Annotated[str | None, typer.Option(help="Password (default: ask)")] = None,
              agency: Annotated[str | None, typer.Option(help="Agency, required for partner users")] = None,
              display_name: Annotated[str, typer.Option(help="Name shown in the UI")] = "") -> None:
    """Create a local user 新增用户 (the password policy applies: docs/security.md)."""
    from anbao.account import service as accounts
    from anbao.account.schemas import UserCreate

    password = _ask_password(password)
    data = parse(UserCreate, {"username": username, "password": password, "role": role, "agency": agency,
                               "display_name": display_name})
    with session() as db:
        user = accounts.create(db=db, data=data)
        out.print(f"user {user.username} ({user.role}) created, id {user.id}")


def _ask_password(password: str | None) -> str:
    if password is not None:
        return password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("password")
def users_password(username: Annotated[str, typer.Argument(help="Login name")],
                   password: Annotated[str | None, typer.Option(help="New password (default: ask)")] = None) -> None:
    """Reset a user's password 重置密码: the policy applies and the user's earlier logins are revoked."""
    from anbao.account import service as accounts

    password = _ask_password(password)
    with session() as db:
        user = accounts.get_by_username(db=db, username=username)
        if user is None:
            fail(f"no user {username!r}")
        accounts.set_password(user=user, password=password)
        db.flush()
        out.print(f"password of {user.username} changed; their earlier logins are revoked")


@audit_app.command("verify")
def audit_verify(checkpoint: Annotated[Path | None, typer.Option(
        help="A signed checkpoint file (anbao audit checkpoint): the chain must still pass through its head")] = None,
                 ) -> None:
    """Check the audit chain: keyed rows (HMAC), unkeyed older rows, the first broken row; exit 1 when broken."""
    from anbao.core import audit

    cp = read_json(checkpoint) if checkpoint is not None else None
    with session() as db:
        result = audit.verify(db, checkpoint=cp)
    counts = f"{result.keyed} rows verified with a key, {result.unkeyed} unkeyed rows"
    if not result.ok:
        where = f"at row {result.broken_id}" if result.broken_id is not None else "before the first row"
        err.print(f"audit chain BROKEN {where}: {result.reason} ({counts} good before it)", markup=False)
        raise typer.Exit(1)
    pinned = f"; matches the checkpoint at row {result.checkpoint_id}" if result.checkpoint_id is not None else ""
    out.print(f"audit chain OK: {result.checked} rows ({counts}){pinned}", markup=False)


@audit_app.command("checkpoint")
def audit_checkpoint(out_file: Annotated[Path, typer.Option("--out", help="File to write (keep it off the database "
                                                                          "machine)")]) -> None:
    """Write the chain's head (last id and hash) signed with the audit key 审计检查点."""
    from anbao.core import audit

    with session() as db:
        cp = audit.checkpoint(db)
    out_file.write_text(json.dumps(cp, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.print(f"checkpoint of row {cp['last_id']} written to {out_file}", markup=False)


@events_app.command("add")
def events_add(code: Annotated[str, typer.Option(help="Unique short code, e.g. HZ-2026-CONCERT")],
               name: Annotated[str, typer.Option(help="活动名称")],
               kind: Annotated[str, typer.Option(help="sports/体育赛事 concert/演唱会 expo/展会 festival/节庆 "
                                                      "marathon/马拉松 other/其他")],
               expected: Annotated[int, typer.Option(help="预计人数 expected attendance")] = 0,
               approved: Annotated[int | None, typer.Option(help="核定人数 approved attendance")] = None,
               organiser: Annotated[str, typer.Option(help="承办单位")] = "",
               start: Annotated[str | None, typer.Option(help="Session start, ISO 8601 with offset")] = None,
               end: Annotated[str | None, typer.Option(help="Session end, ISO 8601 with offset")] = None,
               label: Annotated[str, typer.Option(help="Session label, e.g. 第一场")] = "",
               share: Annotated[list[str] | None, typer.Option(help="Partner agency to share with (repeat)")] = None,
               ) -> None:
    """Create an event 新建活动 (one session when --start/--end are given); prints its id."""
    from anbao.event import service as events
    from anbao.event.schemas import EventCreate

    body: dict[str, Any] = {"code": code, "name": name, "kind": kind, "expected_attendance": expected,
                            "approved_attendance": approved, "organiser": organiser,
                            "shared_agencies": share or []}
    if start or end:
        body["sessions"] = [{"label": label, "start": start, "end": end}]
    data = parse(EventCreate, body)
    with session() as db:
        event = events.create(db=db, data=data)
        out.print(f"event {event.id} {event.code} created")


@events_app.command("list")
def events_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False) -> None:
    """List events 活动列表."""
    from anbao.core.vocab import EVENT_KINDS, EVENT_STATUSES
    from anbao.event import service as events
    from anbao.event.schemas import EventOut

    with session() as db:
        rows = [EventOut.model_validate(e) for e in events.list_events(db=db)]
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False) + "\n")
        return
    table = Table("id", "代码 code", "名称 name", "类型 kind", "预计人数", "状态 status")
    for r in rows:
        table.add_row(str(r.id), r.code, r.name, EVENT_KINDS[r.kind][0], f"{r.expected_attendance:,}",
                      EVENT_STATUSES[r.status][0])
    out.print(table)


@app.command()
def timeline(event: Annotated[int, typer.Option("--event", help="Event id")],
             kind: Annotated[str | None, typer.Option(help="Kind or prefix: warning, plan, task ...")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="JSON lines, one step per line")] = False) -> None:
    """The event timeline 时间线: warnings, plan activations and tasks, oldest first."""
    from anbao.review import service as review
    from anbao.review.schemas import TimelineOut

    with session() as db:
        event_or_fail(db, event)
        rows = [TimelineOut.model_validate(e) for e in review.entries(db=db, event_id=event, kind=kind, limit=100_000)]
    if as_json:
        for r in rows:
            line = {**r.model_dump(mode="json"), "kind_zh": review.KIND_ZH.get(r.kind, r.kind)}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    from zoneinfo import ZoneInfo

    zone = load_settings().timezone  # the display zone (ANBAO_TIMEZONE), as the screens show times; --json stays UTC
    tz = ZoneInfo(zone)
    table = Table(f"时间 time ({zone})", "类别 kind", "对象 subject", "内容 text", "操作人 actor")
    for r in rows:
        table.add_row(r.at.astimezone(tz).strftime("%m-%d %H:%M:%S"), review.KIND_ZH.get(r.kind, r.kind), r.subject,
                      r.text, r.actor)
    out.print(table)


def main() -> None:
    app()
