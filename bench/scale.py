"""Scale: S, M and L venues under one reading per sensor per second, with warning latency (issue 14).

    python bench/scale.py [--sizes S,M,L] [--dbs sqlite,postgresql] [--seconds 60]
                          [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--try-every 3] [--clients N]

For each size and database: a grid of 20 m x 20 m standing zones (local metres), one gate per zone (gate,
checkpoint or exit in turn) and ``video_count`` cameras in every zone (each camera counts the persons of its
whole zone; the fusion takes the largest count), imported through ``POST .../venue-import`` in chunks of
1,000 features. S = 52 zones x 2 cameras, M = 500 x 10, L = 2,000 x 10. The real app (``create_app``, warning
watcher running) is served by uvicorn in a subprocess of its own, on a temporary SQLite file or on PostgreSQL
in a schema of its own (created empty, dropped at the end, as tests/conftest.py and bench/ingest.py do).

Load: every second each camera offers one reading (its zone at a low density, 0.5-1.5 persons/m2, a few
persons of jitter), in requests of up to 1,000 readings sent by ``--clients`` threads; readings are built
on the fly. Every ``--try-every`` seconds (after a warm-up) a *warning try*: a zone that has been at low
density gets 4.5 persons/m2 on all its cameras (one POST; the load keeps it there from then on), and the
time from sending that POST until an orange (or red) density warning of the zone shows in
``GET .../warnings?status=open`` is measured, polling every 50 ms; after 10 s the try counts as missed,
and what ``warnings`` and ``zone-states`` said about the zone then goes to ``missed_detail`` (at most 5).
``--fresh-zones K`` keeps K zones silent until their try (a zone "from nothing", as bench/ingest.py's latency
rounds do it); tries then take fresh and low-density zones in turns (``from`` in ``missed_detail``).
A few times during the load ``GET .../zone-states`` and what a command-map screen asks for are timed (median):
the static map ``GET .../map?live=false`` (``map_ms``, ``map_bytes``: loaded once, at the first probe), the same
with its ETag (``map_304_ms``: every reload after), ``GET .../map-status?since=`` the previous answer
(``map_status_ms``, ``map_status_bytes``: every 5 s); after the load, once, the whole map with its live fields as
every screen loaded it before issue 14 (``map_full_ms``, ``map_full_bytes``). The server's resident memory
(VmRSS, the largest seen) is read from /proc.

Prints one JSON line per size and database: size, db, zones, sensors, offered_per_s (readings sent per
second of the load window), accepted_per_s (readings the server accepted per second), warning_p50_ms,
warning_p99_ms, warnings_tried, warnings_missed, zone_states_ms, map_ms, map_bytes, map_304_ms, map_status_ms,
map_status_bytes, map_full_ms, map_full_bytes, rss_mb, missed_detail,
and target_per_s, http_errors, server_errors (error lines in the server's log), import_s, wall_s.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SIZES = {"S": (52, 2), "M": (500, 10), "L": (2000, 10)}  # zones, cameras per zone
SIDE, GAP = 20.0, 2.0  # zone side and aisle, metres
AREA = SIDE * SIDE
BATCH = 1000  # readings per request
CHUNK = 1000  # features per venue-import request
TRY_DENSITY = 4.5
WANTED = ("orange", "red")
POLL_S, GIVE_UP_S = 0.05, 10.0
PASSWORD = "password-123"

console = Console(stderr=True)


def log(msg: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {msg}", soft_wrap=True)


# -- the venue ---------------------------------------------------------------------------------------


@dataclass
class Venue:
    zones: list[str]
    sensors: list[tuple[str, int]]  # (code, zone index)
    base: list[float]  # low density per zone, persons/m2

    def features(self) -> Iterator[dict[str, Any]]:
        cols = math.ceil(math.sqrt(len(self.zones)))
        per_zone: dict[int, list[str]] = {}
        for code, z in self.sensors:
            per_zone.setdefault(z, []).append(code)
        for z, code in enumerate(self.zones):
            x, y = (z % cols) * (SIDE + GAP), (z // cols) * (SIDE + GAP)
            ring = [[x, y], [x + SIDE, y], [x + SIDE, y + SIDE], [x, y + SIDE], [x, y]]
            yield {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                   "properties": {"kind": "zone", "code": code, "name": f"站席{code}", "zone_kind": "standing",
                                  "ring": 1, "standing_capacity": int(AREA * 2)}}
        for z, code in enumerate(self.zones):
            x, y = (z % cols) * (SIDE + GAP), (z // cols) * (SIDE + GAP)
            kind = ("gate", "checkpoint", "exit")[z % 3]
            props: dict[str, Any] = {"kind": kind, "code": f"{code}-G", "name": f"{code}门", "zone": code,
                                     "width_m": 4.0, "lanes": 2 if kind == "checkpoint" else 1}
            if kind == "exit":
                props["direction"] = "out"
            yield {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x + SIDE / 2, y]},
                   "properties": props}
        for z, code in enumerate(self.zones):
            x, y = (z % cols) * (SIDE + GAP), (z // cols) * (SIDE + GAP)
            cams = per_zone.get(z, [])
            for k, cam in enumerate(cams):
                px = x + SIDE * (k + 1) / (len(cams) + 1)
                yield {"type": "Feature", "geometry": {"type": "Point", "coordinates": [px, y + SIDE / 2]},
                       "properties": {"kind": "video_count", "code": cam, "name": f"{cam}计数", "zone": code}}


def make_venue(size: str) -> Venue:
    n_zones, per_zone = SIZES[size]
    zones = [f"Z{z:04d}" for z in range(n_zones)]
    sensors = [(f"{zones[z]}-C{k:02d}", z) for z in range(n_zones) for k in range(per_zone)]
    base = [0.5 + (z * 7 % 11) / 10 for z in range(n_zones)]  # 0.5 ... 1.5 persons/m2
    return Venue(zones, sensors, base)


# -- the server --------------------------------------------------------------------------------------


def serve(port: int, db_url: str, var_dir: str) -> None:
    """The app as `anbao serve` runs it (watcher running), served by uvicorn (run in a subprocess)."""
    import uvicorn

    from anbao.app import create_app
    from anbao.config import Settings

    app = create_app(Settings(database_url=db_url, var_dir=Path(var_dir), secret_key="s" * 32))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def prepare(db_url: str, audit_key: str) -> None:
    """Migrate the empty database and create the bench's users (admin, gateway) through the service layer."""
    from anbao.account import service as accounts
    from anbao.account.schemas import UserCreate
    from anbao.core import audit
    from anbao.core.db import make_engine, make_sessionmaker, transaction
    from anbao.core.migrate import upgrade

    audit.use_keys([audit_key])  # the server signs with the same key (ANBAO_AUDIT_KEY)
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine), actor="bench") as db:
        for role in ("admin", "gateway"):
            accounts.create(db=db, data=UserCreate(username=f"bench-{role}", password=PASSWORD, role=role))
    engine.dispose()


def start_server(db_url: str, var_dir: Path, audit_key: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = var_dir / "server.log"
    env = {**os.environ, "ANBAO_AUDIT_KEY": audit_key}
    with log_path.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-W", "ignore", __file__, "--serve", str(port), "--db", db_url,
                                 "--var", str(var_dir)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base, log_path
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"bench server did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def server_errors(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [ln for ln in lines if "Traceback" in ln or "ERROR" in ln or ln.startswith("Exception")]


@contextlib.contextmanager
def database(kind: str, tmp: Path, pg_url: str) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own dropped at the end."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'scale.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, connect_args={"connect_timeout": 3})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- the run -----------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))], 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Load:
    """Shared state of one run: the density each zone is at now, and the counters."""

    venue: Venue
    density: list[float | None]  # None: a fresh zone, whose cameras have not read yet
    sent: int = 0
    accepted: int = 0
    requests: int = 0
    http_errors: int = 0
    error_sample: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, lo: int, hi: int, tick: int) -> tuple[bytes, int]:
        """Readings of sensors lo..hi-1, stamped now, each at its zone's density (a few persons of jitter)."""
        at = _now()  # stamped before the densities are read: a try's readings are never overtaken by older ones
        dens, sensors = self.density, self.venue.sensors
        parts = []
        for i in range(lo, hi):
            code, z = sensors[i]
            d = dens[z]
            if d is None:
                continue
            v = round(d * AREA) + (i + tick) % 7 - 3
            parts.append(f'{{"sensor":"{code}","at":"{at}","value":{max(v, 0)}}}')
        return ("[" + ",".join(parts) + "]").encode(), len(parts)

    def count(self, n: int, r: httpx.Response | None, err: str = "") -> None:
        with self.lock:
            self.sent += n
            self.requests += 1
            if r is not None and r.status_code == 200:
                self.accepted += int(r.json().get("accepted", 0))
            else:
                self.http_errors += 1
                if len(self.error_sample) < 3:
                    self.error_sample.append(err or f"{r.status_code if r else '?'} {r.text[:200] if r else ''}")


def post_worker(base: str, headers: dict[str, str], eid: int, load: Load, jobs: queue.Queue[Any],
                stop: threading.Event) -> None:
    url = f"/api/v1/events/{eid}/readings"
    with httpx.Client(base_url=base, headers={**headers, "Content-Type": "application/json"}, timeout=60) as c:
        while True:
            job = jobs.get()
            if job is None or stop.is_set():
                return
            body, n = load.body(*job)
            if not n:
                continue
            try:
                load.count(n, c.post(url, content=body))
            except httpx.HTTPError as exc:
                load.count(n, None, f"{exc.__class__.__name__}: {exc}")


@dataclass
class Tries:
    latencies: list[float] = field(default_factory=list)
    tried: int = 0
    missed: int = 0
    detail: list[dict[str, Any]] = field(default_factory=list)


def _zone_detail(c: httpx.Client, eid: int, zone_id: int, code: str, t0: float) -> dict[str, Any]:
    """What the server says about a zone whose warning did not come: its warnings and its zone state."""
    out: dict[str, Any] = {"zone": code, "zone_id": zone_id, "waited_s": round(time.perf_counter() - t0, 2)}
    try:
        ws = c.get(f"/api/v1/events/{eid}/warnings", params={"limit": 5000}).json()
        out["warnings"] = [{k: w.get(k) for k in ("id", "key", "kind", "level", "peak_level", "status", "value",
                                                  "forecast", "started_at", "changed_at", "message")}
                           for w in ws if w.get("zone_id") == zone_id]
        for s in c.get(f"/api/v1/events/{eid}/zone-states").json():
            if s.get("zone_id") == zone_id:
                out["zone_state"] = {"level": s.get("level"), "density": s.get("density"), "count": s.get("count"),
                                     "source": s.get("source"), "at": s.get("at"),
                                     "sensors_used": len(s.get("sensors_used") or []),
                                     "sensors_stale": s.get("sensors_stale"),
                                     "forecast_density": s.get("forecast_density"),
                                     "trend_per_min": s.get("trend_per_min")}
    except (httpx.HTTPError, ValueError) as exc:
        out["error"] = f"{exc.__class__.__name__}: {exc}"
    return out


def warning_tries(base: str, headers: dict[str, str], gw_headers: dict[str, str], eid: int, load: Load,
                  zone_ids: dict[str, int], start: float, until: float, every_s: float, out: Tries,
                  rng: random.Random) -> None:
    venue = load.venue
    cams: dict[int, list[str]] = {}
    for code, z in venue.sensors:
        cams.setdefault(z, []).append(code)
    low = [z for z in range(len(venue.zones)) if z in cams and load.density[z] is not None]
    fresh = [z for z in range(len(venue.zones)) if z in cams and load.density[z] is None]
    rng.shuffle(low)
    untried = []  # fresh and low zones in turns, the first try taken last
    while low or fresh:
        untried.extend(q.pop() for q in (low, fresh) if q)
    untried.reverse()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c, \
            httpx.Client(base_url=base, headers=gw_headers, timeout=30) as gw:
        next_at = start
        while untried:
            time.sleep(max(0.0, next_at - time.perf_counter()))
            if time.perf_counter() > until:
                return
            z = untried.pop()
            code, zone_id = venue.zones[z], zone_ids[venue.zones[z]]
            was = "fresh" if load.density[z] is None else "low"
            load.density[z] = TRY_DENSITY  # the load keeps the zone there from now on
            value = round(TRY_DENSITY * AREA)
            items = [{"sensor": s, "at": _now(), "value": value} for s in cams[z]]
            t0 = time.perf_counter()
            r = gw.post(f"/api/v1/events/{eid}/readings", json=items)
            out.tried += 1
            if r.status_code != 200 or r.json().get("accepted") != len(items):
                log(f"[red]try {code}: POST answered {r.status_code} {r.text[:200]}")
            seen = False
            while time.perf_counter() - t0 < GIVE_UP_S:
                try:
                    ws = c.get(f"/api/v1/events/{eid}/warnings", params={"status": "open", "limit": 5000}).json()
                except (httpx.HTTPError, ValueError):
                    ws = []
                if any(w.get("zone_id") == zone_id and w.get("kind") == "density" and w.get("level") in WANTED
                       for w in ws):
                    out.latencies.append((time.perf_counter() - t0) * 1000)
                    seen = True
                    break
                time.sleep(POLL_S)
            if not seen:
                out.missed += 1
                detail = {"from": was, **_zone_detail(c, eid, zone_id, code, t0)}
                log(f"[yellow]missed warning try {code}: {json.dumps(detail, ensure_ascii=False)}")
                if len(out.detail) < 5:
                    out.detail.append(detail)
            next_at = max(next_at + every_s, time.perf_counter())


@dataclass
class Probes:
    zone_states_ms: list[float] = field(default_factory=list)
    map_ms: list[float] = field(default_factory=list)  # the static map, first load (no tag)
    map_bytes: int | None = None
    map_304_ms: list[float] = field(default_factory=list)  # the static map asked again with its ETag
    status_ms: list[float] = field(default_factory=list)  # map-status?since= the previous answer's at
    status_bytes: list[int] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)  # the whole map with live fields (before issue 14)
    full_bytes: int | None = None


def probe(base: str, headers: dict[str, str], eid: int, times: list[float], out: Probes) -> None:
    """At the given moments (perf_counter), timed: GET zone-states; what a command-map screen asks for (the static
    map, first without and then with its ETag, and map-status since its previous answer); and the whole map with
    its live fields, as every screen loaded it before (for comparison)."""
    url = f"/api/v1/events/{eid}"
    since: str | None = None
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        def timed(into: list[float], path: str, **kw: Any) -> httpx.Response:
            t0 = time.perf_counter()
            r = c.get(path, **kw)
            if r.status_code in (200, 304):
                into.append((time.perf_counter() - t0) * 1000)
            return r

        tag = ""
        for k, t in enumerate(times):
            time.sleep(max(0.0, t - time.perf_counter()))
            timed(out.zone_states_ms, f"{url}/zone-states")
            if k == 0:  # a screen loads the static map once, then asks again with its ETag
                r = timed(out.map_ms, f"{url}/map", params={"live": "false"})
                if r.status_code == 200:
                    out.map_bytes, tag = len(r.content), r.headers.get("etag", "")
            else:
                again = timed(out.map_304_ms, f"{url}/map", params={"live": "false"}, headers={"If-None-Match": tag})
                if again.status_code != 304:
                    log(f"[red]map with its ETag answered {again.status_code}, not 304")
            r = timed(out.status_ms, f"{url}/map-status", params={"since": since} if since else None)
            if r.status_code == 200:
                if since is not None:
                    out.status_bytes.append(len(r.content))
                since = r.json()["at"]


def probe_full_map(base: str, headers: dict[str, str], eid: int, out: Probes) -> None:
    """The whole map with its live fields, as every screen loaded it before issue 14: timed once, after the load
    (at L it costs seconds of the server's time, which would come off the load being measured)."""
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        t0 = time.perf_counter()
        r = c.get(f"/api/v1/events/{eid}/map")
        if r.status_code == 200:
            out.full_ms.append((time.perf_counter() - t0) * 1000)
            out.full_bytes = len(r.content)


def login(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=60)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def run(size: str, db: str, args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    venue = make_venue(size)
    n_sensors = len(venue.sensors)
    result: dict[str, Any] = {"size": size, "db": db, "zones": len(venue.zones), "sensors": n_sensors}
    audit_key = secrets.token_hex(24)
    with tempfile.TemporaryDirectory(prefix="anbao-scale-") as tmp_name, \
            database(db, Path(tmp_name), args.pg) as url:
        tmp = Path(tmp_name)
        log(f"{size}/{db}: preparing the database")
        prepare(url, audit_key)
        server, base, log_path = start_server(url, tmp, audit_key)
        try:
            admin, gw = login(base, "bench-admin"), login(base, "bench-gateway")
            with httpx.Client(base_url=base, headers=admin, timeout=600) as c:
                r = c.post("/api/v1/events", json={"code": f"SCALE-{size}", "name": f"规模测试 {size}",
                                                   "kind": "concert", "expected_attendance": 100_000})
                r.raise_for_status()
                eid = r.json()["id"]
                t_import = time.perf_counter()
                feats = list(venue.features())
                for k in range(0, len(feats), CHUNK):
                    r = c.post(f"/api/v1/events/{eid}/venue-import", json={
                        "type": "FeatureCollection", "features": feats[k:k + CHUNK],
                        "venue": {"code": "GRID", "name": f"网格场馆 {size}", "crs": "local"}})
                    if r.status_code != 200:
                        raise RuntimeError(f"venue import answered {r.status_code}: {r.text[:500]}")
                    log(f"{size}/{db}: imported {min(k + CHUNK, len(feats))}/{len(feats)} features")
                del feats
                result["import_s"] = round(time.perf_counter() - t_import, 1)
                zone_ids = {s["code"]: s["zone_id"] for s in c.get(f"/api/v1/events/{eid}/zone-states").json()}
            missing = [z for z in venue.zones if z not in zone_ids]
            if missing:
                raise RuntimeError(f"zone-states lacks {len(missing)} zones, e.g. {missing[:3]}")
            result.update(load_phase(base, admin, gw, eid, venue, zone_ids, server.pid, args))
        finally:
            stop_server(server)
        errors = server_errors(log_path)
        result["server_errors"] = len(errors)
        if errors:
            log(f"[red]{size}/{db}: {len(errors)} error lines in the server log, e.g. {errors[:3]}")
            with contextlib.suppress(OSError):
                keep = Path(tempfile.gettempdir()) / f"anbao-scale-{size}-{db}-server.log"
                keep.write_bytes(log_path.read_bytes())
                log(f"server log kept at {keep}")
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result


def load_phase(base: str, admin: dict[str, str], gw: dict[str, str], eid: int, venue: Venue,
               zone_ids: dict[str, int], pid: int, args: argparse.Namespace) -> dict[str, Any]:
    n = len(venue.sensors)
    chunks = [(lo, min(lo + BATCH, n)) for lo in range(0, n, BATCH)]
    clients = args.clients or max(2, min(8, len(chunks) // 2 + 1))
    density: list[float | None] = list(venue.base)
    for z in random.Random(args.seed + 1).sample(range(len(density)), min(args.fresh_zones, len(density))):
        density[z] = None  # silent until its warning try
    load = Load(venue, density)
    jobs: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    workers = [threading.Thread(target=post_worker, args=(base, gw, eid, load, jobs, stop), daemon=True)
               for _ in range(clients)]
    for w in workers:
        w.start()
    seconds = args.seconds
    warmup = min(5.0, max(2.0, seconds / 6))
    t0 = time.perf_counter()
    deadline = t0 + seconds
    tries, probes = Tries(), Probes()
    rng = random.Random(args.seed)
    try_thread = threading.Thread(target=warning_tries, daemon=True, args=(
        base, admin, gw, eid, load, zone_ids, t0 + warmup, deadline - 1.0, args.try_every, tries, rng))
    try_thread.start()
    samples = max(3, args.probes)
    probe_times = [t0 + warmup + (seconds - warmup) * (k + 0.5) / samples for k in range(samples)]
    probe_thread = threading.Thread(target=probe, args=(base, admin, eid, probe_times, probes), daemon=True)
    probe_thread.start()
    log(f"load: {n} readings/s in {len(chunks)} requests/s from {clients} clients for {seconds:g} s")
    rss: list[float] = []
    tick = 0
    backlog_max = 0
    while (now := time.perf_counter()) < deadline:
        due = t0 + tick
        if now >= due:
            backlog_max = max(backlog_max, jobs.qsize())  # requests of earlier seconds not yet sent
            for lo, hi in chunks:
                jobs.put((lo, hi, tick))
            tick += 1
            m = rss_mb(pid)
            if m is not None:
                rss.append(m)
            if tick % 5 == 0:
                log(f"t={tick:3d}s sent {load.sent:>9,} accepted {load.accepted:>9,} "
                            f"backlog {jobs.qsize():>4} requests  tries {tries.tried} missed {tries.missed} "
                            f"rss {m or 0:.0f} MB")
        time.sleep(min(0.05, max(0.0, t0 + tick - time.perf_counter())))
    stop.set()
    dropped = 0
    with contextlib.suppress(queue.Empty):
        while True:
            if jobs.get_nowait() is not None:
                dropped += 1
    for _ in workers:
        jobs.put(None)
    for w in workers:
        w.join(120)
    window = time.perf_counter() - t0
    try_thread.join(GIVE_UP_S + 30)
    probe_thread.join(300)
    probe_full_map(base, admin, eid, probes)
    m = rss_mb(pid)
    if m is not None:
        rss.append(m)
    if load.error_sample:
        log(f"[red]HTTP errors: {load.http_errors}, e.g. {load.error_sample}")
    if dropped:
        log(f"[yellow]{dropped} requests still queued at the end were not sent (the clients fell behind)")
    return {
        "target_per_s": n, "offered_per_s": round(load.sent / window), "accepted_per_s": round(load.accepted / window),
        "warning_p50_ms": _pct(tries.latencies, 0.5), "warning_p99_ms": _pct(tries.latencies, 0.99),
        "warnings_tried": tries.tried, "warnings_missed": tries.missed,
        "zone_states_ms": round(statistics.median(probes.zone_states_ms), 1) if probes.zone_states_ms else None,
        "map_ms": _median(probes.map_ms), "map_bytes": probes.map_bytes, "map_304_ms": _median(probes.map_304_ms),
        "map_status_ms": _median(probes.status_ms),
        "map_status_bytes": round(statistics.median(probes.status_bytes)) if probes.status_bytes else None,
        "map_full_ms": _median(probes.full_ms), "map_full_bytes": probes.full_bytes,
        "rss_mb": round(max(rss), 1) if rss else None,
        "http_errors": load.http_errors, "backlog_max": backlog_max, "missed_detail": tries.detail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pg", default=os.environ.get("ANBAO_BENCH_PG_URL", PG_URL))
    parser.add_argument("--try-every", type=float, default=3.0, help="seconds between warning tries")
    parser.add_argument("--clients", type=int, default=0, help="posting threads (default: by size, 2-8)")
    parser.add_argument("--probes", type=int, default=5, help="zone-states and map samples")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--fresh-zones", type=int, default=0,
                        help="zones kept silent until their warning try (tried in turns with low-density zones)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.db, args.var)
        return
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    dbs = [d.strip().lower() for d in args.dbs.split(",") if d.strip()]
    for bad in [s for s in sizes if s not in SIZES] + [d for d in dbs if d not in ("sqlite", "postgresql")]:
        parser.error(f"unknown size or database {bad!r}")
    for size in sizes:
        for db in dbs:
            try:
                result = run(size, db, args)
            except Exception as exc:  # one failed combination is reported; the others still run
                console.print_exception(max_frames=5)
                result = {"size": size, "db": db, "error": f"{exc.__class__.__name__}: {exc}".splitlines()[0]}
            print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
