"""A password-spraying flood against a served app while /health is polled. Prints one JSON line.

    python bench/login_flood.py [--logins 400] [--connections 40] [--before-src DIR]

The app runs as ``anbao serve`` does (uvicorn in a subprocess, on a free port) on a temporary SQLite file,
with the production password hashing (argon2id, argon2-cffi's defaults). ``--logins`` wrong logins, each
with a user name of its own, go over ``--connections`` keep-alive connections at once from one address,
while one more connection polls ``GET /api/v1/health`` every 20 ms. Figures:

- health_p99_ms, health_max_ms, health_polls: the health answers' latency during the flood
  (health_p99_ms_idle: the same polling just before it, what the machine gives without a flood)
- server_errors: answers >= 500 to either (before issue 12: 500 "database is locked")
- limited: 429 answers (the per-address limit across names, ANBAO_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE);
  unauthorized: 401 answers (wrong password, before the limit); flood_s: the flood's duration

Targets: health_p99_ms <= 200, server_errors 0, and the flood limited once it passes the per-address limit.
``--before-src DIR`` runs the same flood first against another tree's ``src`` (e.g. a ``git worktree`` of
an older commit) and adds its figures as ``before_*``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

SRC = Path(__file__).resolve().parent.parent / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(src: Path, folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANBAO_")}
    env.update(PYTHONPATH=str(src), ANBAO_DATABASE_URL=f"sqlite:///{folder / 'anbao.db'}",
               ANBAO_VAR_DIR=str(folder / "var"))
    code = "from anbao.cli.main import app; app()"
    return subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(folder / "serve.log", "wb"))


def _wait_up(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not answer /health in time")


def _p99(ordered: list[float]) -> float | None:
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] if ordered else None


def flood(src: Path, logins: int, connections: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="anbao-flood-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(src, folder, port)
    try:
        _wait_up(url, proc)
        idle: list[float] = []  # the same polling before the flood: what the machine gives without it
        with httpx.Client(base_url=url, timeout=120) as c:
            for _ in range(100):
                t0 = time.perf_counter()
                c.get("/api/v1/health")
                idle.append((time.perf_counter() - t0) * 1000)
                time.sleep(0.02)
        statuses: list[int] = []
        health: list[float] = []
        health_errors: list[int] = []
        lock = threading.Lock()
        done = threading.Event()
        per_conn = [logins // connections + (1 if i < logins % connections else 0) for i in range(connections)]
        barrier = threading.Barrier(connections + 1)

        def poll() -> None:
            with httpx.Client(base_url=url, timeout=120) as c:
                barrier.wait()
                while not done.is_set():
                    t0 = time.perf_counter()
                    r = c.get("/api/v1/health")
                    health.append((time.perf_counter() - t0) * 1000)
                    if r.status_code >= 500:
                        health_errors.append(r.status_code)
                    time.sleep(0.02)

        def spray(conn: int) -> None:
            with httpx.Client(base_url=url, timeout=120) as c:
                barrier.wait()
                for j in range(per_conn[conn]):
                    try:
                        body = {"username": f"spray-{conn}-{j}", "password": "Wrong-password-42"}
                        code = c.post("/api/v1/auth/login", json=body).status_code
                    except httpx.HTTPError:
                        code = 599  # no answer at all counts as a server error
                    with lock:
                        statuses.append(code)

        poller = threading.Thread(target=poll)
        poller.start()
        threads = [threading.Thread(target=spray, args=(i,)) for i in range(connections)]
        for t in threads:
            t.start()
        started = time.perf_counter()
        for t in threads:
            t.join()
        flood_s = time.perf_counter() - started
        done.set()
        poller.join()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    ordered = sorted(health)
    p99 = _p99(ordered)
    return {
        "health_p99_ms": round(p99, 1) if p99 is not None else None,
        "health_p99_ms_idle": round(_p99(sorted(idle)) or 0, 1),
        "health_p50_ms": round(statistics.median(ordered), 1) if ordered else None,
        "health_max_ms": round(ordered[-1], 1) if ordered else None,
        "health_polls": len(ordered),
        "server_errors": sum(1 for s in statuses if s >= 500) + len(health_errors),
        "limited": statuses.count(429),
        "unauthorized": statuses.count(401),
        "flood_s": round(flood_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=400)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--before-src", type=Path, default=None,
                        help="src folder of an older tree to measure first (before_* keys)")
    args = parser.parse_args()
    out: dict[str, Any] = {"bench": "login_flood", "logins": args.logins, "connections": args.connections,
                           "database": "sqlite"}
    if args.before_src is not None:
        out.update({f"before_{k}": v for k, v in flood(args.before_src, args.logins, args.connections).items()})
    out.update(flood(SRC, args.logins, args.connections))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
