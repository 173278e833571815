"""Several hosts on one machine: network namespaces joined by a bridge, each running AnBao processes
started from the shipped systemd units, against a PostgreSQL, a Mosquitto and an nginx of their own.

Used by ``tests/scale/test_multihost.py`` and ``bench/faults.py``. Needs root (``ip netns``), the
PostgreSQL server binaries (initdb, pg_ctl), mosquitto and nginx. Nothing here touches the services
the rest of the suite uses: every server listens on the bridge's own address and on free ports, in a
temporary folder that is removed at the end.

Layout (``10.X.Y.0/24``, X.Y random per run so that runs side by side do not meet)::

    root namespace: bridge .1  - PostgreSQL, Mosquitto, nginx (the reverse proxy), the load
    namespace app1: .11        - anbao-web@1.service   (an API replica)
    namespace app2: .12        - anbao-web@2.service
    namespace ing1: .21        - anbao-worker@1.service (an MQTT ingest worker)
    namespace ing2: .22        - anbao-worker@2.service
"""

from __future__ import annotations

import configparser
import json
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent
#: the demo's login (README)
DEMO_USER, DEMO_PASSWORD = "demo", "anbao-demo-2026"
#: the sensor gateway the load posts readings as
GATEWAY_USER, GATEWAY_PASSWORD = "gateway-load", "Load-gateway-7f3Qx-2026"


def missing_tools() -> list[str]:
    """What this machine lacks for a cluster; empty when a cluster can run."""
    lacks = []
    if os.geteuid() != 0:
        lacks.append("root (ip netns)")
    for tool in ("ip", "initdb", "pg_ctl", "mosquitto", "nginx", "runuser"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            lacks.append(tool)
    return lacks


def _run(*argv: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True, **kw)


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with suppress(Exception):
            if cond():
                return
        time.sleep(every_s)
    raise TimeoutError(f"{what}: not within {timeout_s:g} s")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


# -- the network -------------------------------------------------------------------------------------

@dataclass
class Net:
    """A bridge in the root namespace and namespaces hanging off it."""

    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    net: str = field(default_factory=lambda: f"10.{random.randint(100, 250)}.{random.randint(1, 250)}")
    hosts: dict[str, str] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"anbr{self.tag}"

    @property
    def gateway(self) -> str:
        return f"{self.net}.1"

    def up(self) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")

    def ns(self, name: str) -> str:
        return f"anb{self.tag}{name}"

    def add_host(self, name: str, last_octet: int) -> str:
        ns, n = self.ns(name), len(self.hosts)
        outer, inner = f"anv{self.tag}{n}a", f"anv{self.tag}{n}b"
        ip = f"{self.net}.{last_octet}"
        _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        _run("ip", "link", "set", inner, "netns", ns)
        _run("ip", "link", "set", outer, "master", self.bridge)
        _run("ip", "link", "set", outer, "up")
        for cmd in (["ip", "addr", "add", f"{ip}/24", "dev", inner], ["ip", "link", "set", inner, "up"],
                    ["ip", "link", "set", "lo", "up"]):
            _run("ip", "netns", "exec", ns, *cmd)
        self.hosts[name] = ip
        return ip

    def down(self) -> None:
        for name in self.hosts:
            _run("ip", "netns", "del", self.ns(name), check=False)
        _run("ip", "link", "del", self.bridge, check=False)


# -- servers of the cluster's own --------------------------------------------------------------------

def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    root: Path
    host: str
    port: int = 0
    proc_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data = self.root / "pg"
        self.proc_log = self.root / "pg.log"
        self.port = self.port or free_port(self.host)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/anbao"

    def _pg(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run("runuser", "-u", "postgres", "--", *argv, check=check)

    def init(self) -> None:
        self.data.mkdir(parents=True)
        shutil.chown(self.root, "postgres")
        shutil.chown(self.data, "postgres")
        self.data.chmod(0o700)
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        with (self.data / "pg_hba.conf").open("a") as f:
            f.write(f"host all all {self.host.rsplit('.', 1)[0]}.0/24 trust\n")
        with (self.data / "postgresql.conf").open("a") as f:
            f.write(f"listen_addresses = '{self.host}'\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                    "max_connections = 200\nshared_buffers = 128MB\n")
        self.start()
        _run("psql", "-h", self.host, "-p", str(self.port), "-U", "postgres", "-c", "CREATE DATABASE anbao")

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.proc_log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.proc_log), "-m", "fast", "-w", "-t", "60",
                 "restart")


@dataclass
class Mosquitto:
    root: Path
    host: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.dir = self.root / "mosquitto"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def write_config(self) -> Path:
        """The shipped broker settings (deploy/mosquitto/mosquitto.conf) with this cluster's listener."""
        self.dir.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.dir, "mosquitto")
        shipped = DEPLOY / "mosquitto" / "mosquitto.conf"
        keep = []
        for line in shipped.read_text().splitlines() if shipped.exists() else []:
            word = line.split("#", 1)[0].strip().split(" ", 1)[0]
            if word in {"listener", "persistence_location", "log_dest", "pid_file", "user", "include_dir",
                        "password_file", "acl_file", "allow_anonymous"}:
                continue
            keep.append(line)
        conf = self.dir / "mosquitto.conf"
        conf.write_text("\n".join([
            f"listener {self.port} {self.host}", "allow_anonymous true", "persistence true",
            f"persistence_location {self.dir}/", f"log_dest file {self.dir}/mosquitto.log", *keep, ""]))
        return conf

    def start(self) -> None:
        conf = self.dir / "mosquitto.conf"
        if not conf.exists():
            self.write_config()
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(lambda: _port_open(self.host, self.port), 10, "mosquitto listening")

    def stop(self) -> None:
        """A clean stop: the broker writes its persistence file (sessions, queued messages) first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Nginx:
    root: Path
    host: str
    upstreams: list[str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port(self.host)
        self.dir = self.root / "nginx"

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """nginx with the shipped site (deploy/nginx/anbao.conf), its upstream and listener filled in."""
        self.dir.mkdir(parents=True, exist_ok=True)
        site = (DEPLOY / "nginx" / "anbao.conf").read_text()
        servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=2s;" for u in self.upstreams)
        site = site.replace("    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;", servers)
        site = site.replace("listen 80;", f"listen {self.host}:{self.port};")
        site = site.replace("/var/log/nginx/", f"{self.dir}/")
        temp = "\n".join(f"    {k}_temp_path {self.dir}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                         "scgi"))
        (self.dir / "nginx.conf").write_text(
            f"daemon off;\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\nuser root;\n"
            f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}\n    access_log off;\n{site}\n}}\n")
        self.proc = subprocess.Popen(["nginx", "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _port_open(self.host, self.port), 10, "nginx listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# -- AnBao processes from the systemd units ----------------------------------------------------------

def unit_command(unit: str, instance: str) -> tuple[list[str], dict[str, str]]:
    """ExecStart and Environment= of a shipped unit (``deploy/systemd/<unit>``), ``%i`` filled in and the
    install prefix /opt/anbao/venv/bin pointed at this checkout's virtual environment."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / unit)
    service = parser["Service"]
    exec_start = service["ExecStart"].replace("%i", instance).replace("/opt/anbao/venv/bin/", f"{VENV_BIN}/")
    env: dict[str, str] = {}
    for item in shlex.split(service.get("Environment", "")):
        key, _, value = item.partition("=")
        env[key] = value.replace("%i", instance)
    return shlex.split(exec_start), env


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    ns: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *self.argv], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    restarts: int = 0
    supervised: bool = True

    def exited(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def kill9(self) -> None:
        """kill -9 of the process and its children (as a host losing power would)."""
        if self.proc is not None and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.supervised = False
        if self.proc is not None and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Cluster:
    root: Path
    net: Net
    pg: Postgres
    broker: Mosquitto
    proxy: Nginx
    env: dict[str, str]
    web: dict[str, Proc] = field(default_factory=dict)
    workers: dict[str, Proc] = field(default_factory=dict)
    event_id: int = 0

    def http(self, host: str) -> str:
        return f"http://{self.net.hosts[host]}:8000"

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(f"host={self.pg.host} port={self.pg.port} user=postgres dbname=anbao",
                             connect_timeout=5) as conn:
            return list(conn.execute(query).fetchall())

    def anbao(self, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return _run(str(VENV_BIN / "anbao"), *args, env=self.env, timeout=timeout_s)


def _env(root: Path, pg: Postgres, broker: Mosquitto) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANBAO_")}
    # what deploy/anbao.env.example asks every process of an installation to share
    env.update({"ANBAO_DATABASE_URL": pg.url, "ANBAO_MQTT_URL": broker.url, "ANBAO_SECRET_KEY": secrets.token_hex(32),
                "ANBAO_AUDIT_KEY": secrets.token_urlsafe(32), "ANBAO_TRUSTED_PROXIES": pg.host,
                "ANBAO_VAR_DIR": str(root / "var"), "PYTHONUNBUFFERED": "1"})
    return env


@contextmanager
def cluster(*, replicas: int = 2, workers: int = 2, log: Callable[[str], None] = lambda _m: None,
            ) -> Iterator[Cluster]:
    """The whole cluster, started, with the demo event loaded; everything removed on exit."""
    root = Path(tempfile.mkdtemp(prefix="anbao-cluster-"))
    root.chmod(0o755)
    net = Net()
    net.up()
    procs: list[Proc] = []
    pg = Postgres(root, net.gateway)
    broker = Mosquitto(root, net.gateway)
    proxy = Nginx(root, net.gateway, [f"{net.net}.{11 + i}:8000" for i in range(replicas)])
    try:
        log("network and servers")
        for i in range(replicas):
            net.add_host(f"app{i + 1}", 11 + i)
        for i in range(workers):
            net.add_host(f"ing{i + 1}", 21 + i)
        pg.init()
        broker.start()
        env = _env(root, pg, broker)
        c = Cluster(root=root, net=net, pg=pg, broker=broker, proxy=proxy, env=env)
        log("schema and demo event")
        c.anbao("db", "upgrade")
        done = c.anbao("demo", "--no-serve")
        c.event_id = int(c.sql("SELECT id FROM event ORDER BY id LIMIT 1")[0][0])
        c.anbao("users", "add", GATEWAY_USER, "--role", "gateway", "--password", GATEWAY_PASSWORD)
        log(done.stdout.strip().splitlines()[0] if done.stdout.strip() else "demo loaded")
        for i in range(replicas):
            name = f"app{i + 1}"
            argv, unit_env = unit_command("anbao-web@.service", str(i + 1))
            p = Proc(name, argv, {**env, **unit_env, "ANBAO_HOST": net.hosts[name], "ANBAO_PORT": "8000",
                                  "ANBAO_VAR_DIR": str(root / name)}, net.ns(name), root / f"{name}.log")
            c.web[name] = p
            procs.append(p)
        for i in range(workers):
            name = f"ing{i + 1}"
            argv, unit_env = unit_command("anbao-worker@.service", str(i + 1))
            p = Proc(name, argv, {**env, **unit_env, "ANBAO_VAR_DIR": str(root / name)}, net.ns(name),
                     root / f"{name}.log")
            c.workers[name] = p
            procs.append(p)
        for p in procs:
            p.start()
        stop_supervisor = threading.Event()
        supervisor = threading.Thread(target=_supervise, args=(procs, stop_supervisor), daemon=True)
        supervisor.start()
        for name in c.web:
            wait_for(lambda n=name: _healthy(c.http(n)), 90, f"{name} healthy")
        proxy.start()
        log("cluster up")
        yield c
    finally:
        for p in procs:
            p.supervised = False
        for p in procs:
            p.stop()
        proxy.stop()
        broker.stop()
        pg.stop("immediate")
        net.down()
        if os.environ.get("ANBAO_TEST_KEEP_CLUSTER"):
            print(f"cluster files kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def _supervise(procs: list[Proc], stop: threading.Event, restart_s: float = 1.0) -> None:
    """What systemd does with Restart=always: start a process again ``restart_s`` after it exited."""
    while not stop.wait(0.2):
        for p in procs:
            if p.supervised and p.exited():
                time.sleep(restart_s)
                if p.supervised:
                    p.restarts += 1
                    p.start()


def _healthy(base: str) -> bool:
    import httpx

    return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200


# -- the load -----------------------------------------------------------------------------------------

@dataclass
class Tally:
    """Readings the load sent and those the cluster acknowledged (a broker PUBACK, an HTTP 2xx)."""

    sent: int = 0
    acknowledged: int = 0
    http_sent: int = 0
    http_acknowledged: int = 0
    http_errors: int = 0
    last_http_error: str = ""
    #: index ranges [start, end) of the readings acknowledged
    acked: list[tuple[int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, start: int, n: int, http: bool = False) -> None:
        with self.lock:
            self.acknowledged += n
            self.acked.append((start, start + n))
            if http:
                self.http_acknowledged += n

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "acknowledged": self.acknowledged, "http_sent": self.http_sent,
                "http_acknowledged": self.http_acknowledged, "http_errors": self.http_errors,
                "last_http_error": self.last_http_error}


def sensors(c: Cluster) -> list[str]:
    return [r[0] for r in c.sql(f"SELECT code FROM device WHERE event_id = {c.event_id} AND kind NOT IN "
                                "('camera') ORDER BY code")]


#: readings are stamped 100 µs apart: at 10,000 a second their times keep up with the clock
STEP = timedelta(microseconds=100)


class Load:
    """Readings at ``rate_per_s``: over MQTT in gateway messages of ``per_message`` (QoS 1, one
    publisher keeping a broker session across broker restarts) and ``http_share`` of them over HTTP
    through the proxy in batches, each with an idempotency key, retried until acknowledged."""

    def __init__(self, c: Cluster, *, rate_per_s: int = 10_000, per_message: int = 100, http_share: float = 0.1,
                 value: Callable[[str, int], float] | None = None) -> None:
        self.c, self.rate, self.per_message, self.http_share = c, rate_per_s, per_message, http_share
        self.codes = sensors(c)
        self.value = value or (lambda _code, i: float(i % 50))
        self.tally = Tally()
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = datetime.now(UTC)
        self._seq = 0
        self._seq_lock = threading.Lock()

    @property
    def sent_readings(self) -> int:
        with self._seq_lock:
            return self._seq

    def index(self, at: datetime) -> int:
        """The load's number of the reading stamped ``at``."""
        return (at - self._t0) // STEP

    def _batch(self, n: int, keyed: bool) -> tuple[int, list[dict[str, Any]]]:
        with self._seq_lock:
            start, self._seq = self._seq, self._seq + n
        out = []
        for i in range(start, start + n):
            code = self.codes[i % len(self.codes)]
            item: dict[str, Any] = {"sensor": code, "at": (self._t0 + i * STEP).isoformat(),
                                    "value": self.value(code, i)}
            if keyed:
                item["idempotency_key"] = f"load-{i}"
            out.append(item)
        return start, out

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._mqtt, name="load-mqtt", daemon=True),
                         threading.Thread(target=self._http, name="load-http", daemon=True)]
        for t in self._threads:
            t.start()

    def finish(self) -> dict[str, int]:
        self.stop.set()
        for t in self._threads:
            t.join(60)
        return self.tally.as_dict()

    def _mqtt(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        pending: dict[int, tuple[int, int]] = {}
        lock = threading.Lock()

        early: set[int] = set()  # acknowledged before publish() returned its message id

        def on_publish(_client: Any, _userdata: Any, mid: int, rc: Any, _props: Any) -> None:
            if getattr(rc, "is_failure", False):
                return
            with lock:
                start, n = pending.pop(mid, (0, 0))
                if not n:
                    early.add(mid)
            if n:
                self.tally.ack(start, n)

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"anbao-load-{self.c.net.tag}",
                             protocol=mqtt.MQTTv5)
        client.on_publish = on_publish
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(0.2, 2)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 600
        host, port = self.c.broker.host, self.c.broker.port
        client.connect(host, port, keepalive=10, clean_start=False, properties=props)
        client.loop_start()
        topic = f"anbao/v1/{self.c.event_id}/readings/load"
        per_s = int(self.rate * (1 - self.http_share))
        msgs_per_tick = max(1, per_s // self.per_message // 20)  # 20 ticks a second
        next_at = time.monotonic()
        while not self.stop.is_set():
            for _ in range(msgs_per_tick):
                start, items = self._batch(self.per_message, keyed=False)
                info = client.publish(topic, json.dumps(items), qos=1)
                with lock:
                    if info.mid in early:
                        early.discard(info.mid)
                        acked_now = True
                    else:
                        pending[info.mid] = (start, len(items))
                        acked_now = False
                if acked_now:
                    self.tally.ack(start, len(items))
                with self.tally.lock:
                    self.tally.sent += len(items)
            next_at += 0.05
            time.sleep(max(0.0, next_at - time.monotonic()))
        wait_for(lambda: not pending, 60, "the broker acknowledging every message published", every_s=0.2)
        client.loop_stop()
        client.disconnect()

    def _http(self) -> None:
        import httpx

        base = self.c.proxy.base
        with httpx.Client(timeout=10) as http:
            token = ""
            per_s = int(self.rate * self.http_share)
            batch = max(1, per_s // 10)
            next_at = time.monotonic()
            while not self.stop.is_set():
                start, items = self._batch(batch, keyed=True)
                with self.tally.lock:
                    self.tally.sent += len(items)
                    self.tally.http_sent += len(items)
                for _attempt in range(200):  # until acknowledged: the keys make a retry harmless
                    try:
                        if not token:
                            r = http.post(f"{base}/api/v1/auth/login",
                                          json={"username": GATEWAY_USER, "password": GATEWAY_PASSWORD})
                            r.raise_for_status()
                            token = r.json()["access_token"]
                        r = http.post(f"{base}/api/v1/events/{self.c.event_id}/readings", json=items,
                                      headers={"Authorization": f"Bearer {token}"})
                        if r.status_code == 401:
                            token = ""
                            continue
                        if r.status_code < 300:
                            self.tally.ack(start, len(items), http=True)
                            break
                        error = f"{r.status_code} {r.text[:200]}"
                        if r.status_code < 500 and r.status_code != 429:  # refused: no retry helps
                            with self.tally.lock:
                                self.tally.http_errors += 1
                                self.tally.last_http_error = error
                            break
                    except httpx.HTTPError as exc:
                        error = repr(exc)
                    with self.tally.lock:
                        self.tally.http_errors += 1
                        self.tally.last_http_error = error
                    time.sleep(0.2)
                next_at += 0.1
                time.sleep(max(0.0, next_at - time.monotonic()))


def stored_counts(c: Cluster, load: Load) -> dict[str, int]:
    """Readings of the load stored, how many of them repeat an earlier one (same sensor and time), and
    how many acknowledged readings are not stored (lost)."""
    rows = c.sql(f"SELECT at, count(*) FROM reading WHERE event_id = {c.event_id} GROUP BY device_id, at")
    ours = [(load.index(at), int(n)) for at, n in rows if 0 <= load.index(at) < load.sent_readings]
    stored = {i for i, _n in ours}
    duplicates = sum(n - 1 for _i, n in ours)
    with load.tally.lock:
        acked = [i for a, b in load.tally.acked for i in range(a, b)]
    lost = sum(1 for i in acked if i not in stored)
    return {"stored": len(stored), "duplicates": duplicates, "lost": lost}


FAULTS = ("replica", "worker", "broker", "postgresql")


def fault_run(c: Cluster, *, seconds: float = 20.0, rate_per_s: int = 10_000, drain_s: float = 90.0,
              faults: tuple[str, ...] = FAULTS, log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Readings at ``rate_per_s`` for ``seconds`` while, one after the other, a replica and a worker
    are killed with -9 (and started again, as systemd would), the broker is restarted and PostgreSQL
    is restarted; then wait until every acknowledged reading is stored or ``drain_s`` passes."""
    # the zones' video counters report a crowd far above any zone's capacity: each of those zones must
    # get exactly one open warning, whatever dies meanwhile
    # a level must hold for min_hold_s of reading time before it warns: 3 s instead of 30 s fits the run
    c.sql(f"UPDATE warning_rule SET min_hold_s = 3 WHERE event_id = {c.event_id} RETURNING id")
    crowd = {code: 7.0 * float(area) for code, area in c.sql(  # 7 persons/m²: red, short of the 12 refused
        f"SELECT d.code, z.area_m2 FROM device d JOIN zone z ON z.id = d.zone_id WHERE d.event_id = {c.event_id} "
        "AND d.code LIKE 'VC-%'")}
    load = Load(c, rate_per_s=rate_per_s, value=lambda code, i: crowd.get(code, float(i % 50)))
    load.start()
    t0 = time.monotonic()
    step = seconds / 2 / len(faults)  # faults in the first half; the second half shows the cluster recovered
    done: list[dict[str, Any]] = []

    def at(k: int) -> None:
        time.sleep(max(0.0, t0 + step * (k + 0.5) - time.monotonic()))

    for k, fault in enumerate(faults):
        at(k)
        f0 = time.monotonic()
        if fault in ("replica", "worker"):  # the supervisor starts it again, as systemd would
            victim = next(iter(c.web.values() if fault == "replica" else c.workers.values()))
            victim.kill9()
        elif fault == "broker":
            c.broker.restart()
        elif fault == "postgresql":
            c.pg.restart()
        done.append({"fault": fault, "at_s": round(f0 - t0, 1), "took_s": round(time.monotonic() - f0, 1)})
        log(f"{fault} at {f0 - t0:.1f} s")
    time.sleep(max(0.0, t0 + seconds - time.monotonic()))
    tally = load.finish()
    log(f"load stopped: {tally}")
    d0 = time.monotonic()
    last = -1
    while time.monotonic() - d0 < drain_s:
        counts = stored_counts(c, load)
        if counts["lost"] == 0 or counts["stored"] == last and time.monotonic() - d0 > 20:
            break
        last = counts["stored"]
        time.sleep(1.0)
    counts = stored_counts(c, load)
    return {"sent": tally["sent"], "acknowledged": tally["acknowledged"], "stored": counts["stored"],
            "lost": counts["lost"], "duplicates": counts["duplicates"], "http_acknowledged": tally["http_acknowledged"],
            "http_retries": tally["http_errors"], "drain_s": round(time.monotonic() - d0, 1),
            "warnings": int(c.sql(f"SELECT count(*) FROM warning WHERE event_id = {c.event_id}")[0][0]),
            "duplicate_open_warnings": duplicate_warnings(c), "zones_without_warning": zones_without_warning(c),
            "faults": done,
            "restarts": {p.name: p.restarts for p in (*c.web.values(), *c.workers.values())}, "rate_per_s": rate_per_s,
            "seconds": seconds}


def zones_without_warning(c: Cluster) -> list[str]:
    """Zones whose video counter reported an overcrowd and that have no open warning."""
    rows = c.sql("SELECT DISTINCT z.code FROM device d JOIN zone z ON z.id = d.zone_id "
                 f"WHERE d.event_id = {c.event_id} AND d.code LIKE 'VC-%' AND NOT EXISTS ("
                 "SELECT 1 FROM warning w WHERE w.event_id = d.event_id AND w.zone_id = z.id "
                 "AND w.status <> 'closed') ORDER BY z.code")
    return [r[0] for r in rows]


def duplicate_warnings(c: Cluster) -> int:
    rows = c.sql(f"SELECT key, count(*) FROM warning WHERE event_id = {c.event_id} AND status <> 'closed' "
                 "GROUP BY key HAVING count(*) > 1")
    return len(rows)
