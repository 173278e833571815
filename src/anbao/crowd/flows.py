"""Evacuation runs 疏散推演任务: prepared in the request (bad input is a 422 at once), computed in a worker
thread, polled for progress. Runs live in memory, the latest :data:`KEEP` per process: a result is a
planning aid to look at and export, not a record (the inputs are).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from anbao.crowd import evacuation

KEEP = 20


@dataclass
class Run:
    id: str
    event_id: int
    model: str
    zone: str | None
    status: str = "running"  # running | done | failed
    progress: float = 0.0
    started: float = field(default_factory=time.time)
    result: dict[str, Any] | None = None
    error: str | None = None
    png: bytes | None = None

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "progress": round(self.progress, 3), "model": self.model,
                "zone": self.zone, "result": self.result, "error": self.error}


class Runs:
    """The runs of one app, computed one at a time (JuPedSim takes the cores it gets)."""

    def __init__(self) -> None:
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anbao-evacuation")

    def start(self, event_id: int, job: evacuation.Job) -> Run:
        run = Run(id=uuid.uuid4().hex[:12], event_id=event_id, model=job.model, zone=job.zone)
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > KEEP:
                self._runs.popitem(last=False)
        self._pool.submit(self._work, run, job)
        return run

    def _work(self, run: Run, job: evacuation.Job) -> None:
        def progress(p: float) -> None:
            run.progress = max(run.progress, min(float(p), 1.0))

        try:
            result, png = evacuation.run(job, progress=progress)
            if png is not None:
                result["heatmap_url"] = f"/api/v1/events/{run.event_id}/evacuation-runs/{run.id}/heatmap.png"
            run.result, run.png, run.progress, run.status = result, png, 1.0, "done"
        except Exception as exc:  # a failed run is reported to its poller, never lost
            run.error, run.status = f"{type(exc).__name__}: {exc}", "failed"

    def get(self, event_id: int, run_id: str) -> Run | None:
        run = self._runs.get(run_id)
        return run if run is not None and run.event_id == event_id else None

    def wait(self, run: Run, timeout_s: float) -> Run:
        end = time.monotonic() + timeout_s
        while run.status == "running" and time.monotonic() < end:
            time.sleep(0.02)
        return run

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
