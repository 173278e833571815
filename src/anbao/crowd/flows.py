"""Evacuation runs 疏散推演任务: prepared in the request (bad input is a 422 at once), computed in the
background, polled for progress. Runs live in memory, the latest :data:`KEEP` per process: a result is a
planning aid to look at and export, not a record (the inputs are).

Runs are computed one at a time, in order. A macro run (a flow network of a few dozen zones: milliseconds)
is computed in a worker thread; a JuPedSim run is computed in a child process of its own, at a lower
priority, so that its seconds of C++ work never hold the API's interpreter lock: /health and every other
request keep answering while it runs. The queue is bounded (docs/limits.md): at most
:data:`MAX_PER_EVENT` runs queued or running per event and :data:`MAX_PER_USER` per user; beyond that
a start is refused with 429 naming the limit.

The child is started with multiprocessing's ``spawn`` (never a fork of a threaded server): like every
program that spawns, a script that runs the app must guard its body with ``if __name__ == "__main__"``
(the ``anbao`` command, uvicorn and pytest do).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from anbao.core.errors import TooManyRequests
from anbao.crowd import evacuation

KEEP = 20
#: runs queued or running at once, per event and per user (the next one is refused with 429)
MAX_PER_EVENT = 3
MAX_PER_USER = 2
#: niceness of a JuPedSim child process: the API's requests come first
CHILD_NICE = 5


@dataclass
class Run:
    id: str
    event_id: int
    model: str
    zone: str | None
    status: str = "running"  # running (queued or computing) | done | failed
    user: str = ""
    progress: float = 0.0
    started: float = field(default_factory=time.time)
    result: dict[str, Any] | None = None
    error: str | None = None
    png: bytes | None = None

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "progress": round(self.progress, 3), "model": self.model,
                "zone": self.zone, "result": self.result, "error": self.error}


def _child(job: evacuation.Job, conn: Connection) -> None:
    """The JuPedSim run in its own process: progress and then the result go back through ``conn``."""
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICE)
    last = -1.0

    def progress(p: float) -> None:
        nonlocal last
        if p - last >= 0.01:
            last = p
            conn.send(("progress", float(p)))

    try:
        result, png = evacuation.run(job, progress=progress)
        conn.send(("done", result, png))
    except Exception as exc:  # reported to the poller
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Runs:
    """The runs of one app, computed one at a time in order, at most so many waiting (see the module)."""

    def __init__(self, *, per_event: int = MAX_PER_EVENT, per_user: int = MAX_PER_USER) -> None:
        self.per_event, self.per_user = per_event, per_user
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anbao-evacuation")
        self._children: set[multiprocessing.process.BaseProcess] = set()
        self._closed = False

    def start(self, event_id: int, job: evacuation.Job, *, user: str = "") -> Run:
        """Queue a run; :class:`TooManyRequests` when the event or the user has too many waiting."""
        with self._lock:
            active = [r for r in self._runs.values() if r.status == "running"]
            if sum(r.event_id == event_id for r in active) >= self.per_event:
                raise TooManyRequests(f"event {event_id} already has {self.per_event} evacuation runs queued or "
                                      f"running (limit {self.per_event} per event); wait for one to finish")
            if user and sum(r.user == user for r in active) >= self.per_user:
                raise TooManyRequests(f"{user} already has {self.per_user} evacuation runs queued or running "
                                      f"(limit {self.per_user} per user); wait for one to finish")
            run = Run(id=uuid.uuid4().hex[:12], event_id=event_id, model=job.model, zone=job.zone, user=user)
            self._runs[run.id] = run
            while len(self._runs) > KEEP:
                oldest = next((k for k, r in self._runs.items() if r.status != "running"), None)
                if oldest is None:
                    break
                del self._runs[oldest]
        self._pool.submit(self._work, run, job)
        return run

    def _work(self, run: Run, job: evacuation.Job) -> None:
        def progress(p: float) -> None:
            run.progress = max(run.progress, min(float(p), 1.0))

        try:
            if self._closed:
                raise RuntimeError("the server is stopping")
            if job.model == "macro":
                result, png = evacuation.run(job, progress=progress)
            else:
                result, png = self._in_child(job, progress)
            if png is not None:
                result["heatmap_url"] = f"/api/v1/events/{run.event_id}/evacuation-runs/{run.id}/heatmap.png"
            run.result, run.png, run.progress, run.status = result, png, 1.0, "done"
        except Exception as exc:  # a failed run is reported to its poller, never lost
            run.error, run.status = f"{type(exc).__name__}: {exc}", "failed"

    def _in_child(self, job: evacuation.Job, progress: evacuation.Progress) -> tuple[dict[str, Any], bytes | None]:
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded server
        here, there = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(job, there), name="anbao-evacuation-run", daemon=True)
        child.start()
        there.close()
        self._children.add(child)
        try:
            while True:
                try:
                    message = here.recv()
                except EOFError:
                    raise RuntimeError(f"the simulation process ended without a result "
                                       f"(exit code {child.exitcode})") from None
                if message[0] == "progress":
                    progress(message[1])
                elif message[0] == "done":
                    return message[1], message[2]
                else:
                    raise RuntimeError(message[1])
        finally:
            here.close()
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
            self._children.discard(child)

    def get(self, event_id: int, run_id: str) -> Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.event_id == event_id else None

    def wait(self, run: Run, timeout_s: float) -> Run:
        end = time.monotonic() + timeout_s
        while run.status == "running" and time.monotonic() < end:
            time.sleep(0.02)
        return run

    def shutdown(self) -> None:
        """Drop the queued runs and end a running simulation process."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        for child in list(self._children):
            child.kill()
