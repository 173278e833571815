"""The live simulator: a crowd-flow model of an event's venue that feeds readings through the real ingest.

:class:`Simulator` reads the event's zones, gates and devices from the database, builds the
network of :mod:`anbao.algorithms.crowdflow` with :func:`~anbao.venue.network.build_network`, and on every :meth:`tick
<Simulator.tick>` advances the model and posts one reading per device through
:func:`anbao.sensing.service.ingest` (one transaction per tick), exactly as real sensors do.

Clocks
------
Two clocks run side by side:

* the **scenario clock** (simulated, event time): ``sim_time = show_start + t_s``. It starts at
  ``start`` (default: 75 minutes before the first session of the event, when about a quarter of the
  crowd is in and the arrival peak is still ahead) and runs ``speed`` times faster than real time.
  The model begins at the start of the arrival window (150 min before the show, nobody there, or
  at ``start`` if that is earlier) and is fast-forwarded to ``start`` without writing readings.
  One simulator plays one session: the first that has not ended by ``start``.
* the **wall clock**: every reading is stamped with the real time of the tick that produced it, so
  ingest (which refuses readings more than 5 minutes in the future), zone-state freshness (60 s) and
  the warning watcher behave as with real sensors. The scenario clock only decides what the
  readings say. With ``speed=10`` the 2.5 h ingress plays in 15 minutes.

One tick advances the scenario clock by ``speed`` x the real seconds since the previous tick
(nothing on the first tick; at most ``max_catch_up_s`` simulated seconds, so a stalled thread does
not jump an hour). :func:`run` ticks every ``tick_sim_s / speed`` real seconds (30 simulated
seconds by default, clamped to 0.5-20 real seconds so that readings never go stale).

The venue's network comes from :func:`anbao.venue.network.build_network` (its docstring gives the
heuristic), the site from :func:`anbao.venue.layout.load_site`, the scripted incidents from
:mod:`anbao.sim.scenario`.

Sensor readings per tick
------------------------
Every reporting device sends one reading per tick. ``video_count`` and ``camera`` (those with person
analytics): the zone's model count, +-5 % noise; ``wifi_probe`` and ``bluetooth``: count / 0.6
devices (the fusion's persons-per-device ratio), +-5 % noise; ``temperature``: ambient + crowd
heat; ``gas`` (CO ppm) and ``smoke`` (obscuration %/m): near zero. Drones and cameras with only
vehicle or intrusion analytics send nothing.

``gate_counter``: its gate is ``properties.gate``, else the nearest gate in its zone. ``value`` is
``in + out`` and ``values`` holds:

========  ==================================================================================
in        persons through the gate into its zone since the previous tick (0 on the first)
out       persons through the gate out of its zone since the previous tick
queue     persons queuing at the gate now, in its busier direction: the gate's capacity share
          of the model's queue at its link (:meth:`~anbao.algorithms.crowdflow.FlowState.queue`:
          the people held back by the link's capacity), +-5 % noise, whole persons
wait_s    expected wait in seconds for someone joining the queue now: ``queue`` / the gate's
          current service rate (persons/s through it in the last model step), or / its capacity
          rate when nobody passes; 0 without a queue, at most 6 h (``MAX_WAIT_S``)
========  ==================================================================================

The warning engine compares ``queue`` with the queue-length rule (persons) and ``wait_s`` / 60
with the queue-wait rule (minutes).

Scripted incidents (:class:`~anbao.sim.scenario.Scenario`, default :func:`default_scenario`):
sensor drop-outs (silent), a smoke detector fault (alarm values), a crowd surge on the standing
floor, and a screening slowdown (安检拥堵) at the busiest entry checkpoint over the arrival peak,
whose queue and wait build up to tens of minutes; a gas leak (CO rising to about 120 ppm) can be
scripted (``GasLeak``, or ``default_scenario(gas_leak=True)``) and is off in the default.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from anbao.algorithms.crowdflow import FlowState, Slowdown, Surge, advance, initial_state
from anbao.core.errors import Invalid
from anbao.core.time import utcnow
from anbao.sensing.service import ingest
from anbao.sim.calls import DEMO_CALLS, Call, Calls
from anbao.sim.patrol import Patrols
from anbao.sim.scenario import (
    CrowdSurge,
    Dropout,
    GasLeak,
    Scenario,
    ScreeningSlowdown,
    SmokeFault,
    default_scenario,
    screening_slowdown,
)
from anbao.venue.layout import (
    COUNT_KINDS,
    DEFAULT_LEAD,
    DESTINATION_KINDS,
    PERSON_ANALYTICS,
    STAFF_KINDS,
    DeviceSite,
    GateSite,
    Site,
    ZoneSite,
    counts_people,
    load_site,
)
from anbao.venue.network import (
    FENCED_KINDS,
    KIND_RANK,
    MIN_SHARED_M,
    ORIGIN_SHARES,
    TOUCH_M,
    TRANSIT_HEADWAY_S,
    add_incidents,
    build_network,
    depth,
)

__all__ = [
    "COUNT_KINDS", "DEFAULT_LEAD", "DESTINATION_KINDS", "FENCED_KINDS", "KIND_RANK", "MAX_WAIT_S", "MIN_SHARED_M",
    "NOISE", "ORIGIN_SHARES", "PERSON_ANALYTICS", "PROBE_RATIO", "STAFF_KINDS", "TOUCH_M", "TRANSIT_HEADWAY_S",
    "CrowdSurge", "DeviceSite", "Dropout", "GasLeak", "GateSite", "Scenario", "ScreeningSlowdown", "Simulator", "Site",
    "SmokeFault", "Tick", "ZoneSite", "add_incidents", "build_network", "counts_people", "default_scenario", "depth",
    "load_site", "run", "run_async", "screening_slowdown",
]

log = logging.getLogger("anbao.sim")

#: persons per detected WiFi/Bluetooth device assumed by the zone-state fusion
PROBE_RATIO = 0.6
NOISE = 0.05
#: expected waits are capped here (seconds): a gate that serves nobody has no finite wait
MAX_WAIT_S = 6 * 3600.0


# --------------------------------------------------------------------------- the simulator

@dataclass(frozen=True)
class Tick:
    """What one tick did. ``expected`` is the noise-free value behind each reading sent."""

    number: int
    at: datetime  # wall clock: the readings' time stamp
    sim_time: datetime  # scenario clock
    phase: str  # before | ingress | show | egress | over
    accepted: int
    rejected: int
    sent: dict[str, float]
    expected: dict[str, float]
    silent: tuple[str, ...]
    counts: dict[str, float]  # model persons per zone code (containers: sum of their children)
    pending: float
    present: float
    departed: float
    model_ms: float
    total_ms: float
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # the ``values`` sent, by device code

    @property
    def longest_queue(self) -> tuple[str, float, float] | None:
        """The gate counter with the longest queue sent: (device code, persons, wait in seconds), or None."""
        queues = [(v["queue"], v["wait_s"], code) for code, v in self.values.items() if v.get("queue", 0) > 0]
        if not queues:
            return None
        persons, wait, code = max(queues)
        return code, persons, wait

    def summary(self) -> dict[str, Any]:
        """A small JSON-able digest (for the bus or a progress line)."""
        return {"tick": self.number, "at": self.at.isoformat(), "sim_time": self.sim_time.isoformat(),
                "phase": self.phase, "readings": self.accepted, "rejected": self.rejected,
                "silent": list(self.silent), "present": round(self.present), "pending": round(self.pending),
                "departed": round(self.departed), "ms": round(self.total_ms, 1),
                "longest_queue": None if (q := self.longest_queue) is None else
                {"sensor": q[0], "persons": q[1], "wait_min": round(q[2] / 60, 1)}}


class Simulator:
    """A live crowd simulation of one event, fed into ingest. See the module docstring.

    ``start`` is the scenario-clock instant the simulation begins at (default 75 minutes before
    the show); ``scenario`` the scripted incidents (default :func:`default_scenario`; pass
    ``Scenario()`` for none). Construction reads the venue (one short session) and fast-forwards
    the model to ``start``.
    """

    def __init__(self, sessions: sessionmaker[Session], event_id: int, *, speed: float = 10.0,
                 start: datetime | None = None, seed: int = 20261219, scenario: Scenario | None = None,
                 tick_sim_s: float = 30.0, max_catch_up_s: float | None = None, ambient_c: float = 12.0,
                 source: str = "simulator", calls: tuple[Call, ...] | None = None) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise Invalid(f"speed must be > 0, got {speed}")
        if not (math.isfinite(tick_sim_s) and tick_sim_s > 0):
            raise Invalid(f"tick_sim_s must be > 0, got {tick_sim_s}")
        self.sessions, self.event_id, self.speed, self.seed = sessions, event_id, float(speed), seed
        self.tick_sim_s, self.ambient_c, self.source = tick_sim_s, ambient_c, source
        if max_catch_up_s is None:
            max_catch_up_s = max(600.0, 10 * self.speed * self.period_s)
        self.max_catch_up_s = max_catch_up_s
        with sessions() as db:
            self.site = load_site(db=db, event_id=event_id, start=start)
        self.show_start = self.site.show_start
        show_end_s = (self.site.show_end - self.show_start).total_seconds()
        self.start = start or self.show_start - DEFAULT_LEAD
        start_s = (self.start - self.show_start).total_seconds()
        plain = build_network(self.site.zones, self.site.gates, attendance=self.site.attendance,
                              show_end_s=show_end_s, seed=seed)
        self.scenario = scenario if scenario is not None else default_scenario(
            zones=self.site.zones, devices=self.site.devices, start_s=start_s, speed=self.speed,
            show_end_s=show_end_s, seed=seed, network=plain, gates=self.site.gates)
        standing = tuple(z.code for z in self.site.zones if z.kind == "standing")
        surges = tuple(Surge(s.zone, s.start_s, s.end_s, s.fraction, tuple(c for c in standing if c != s.zone))
                       for s in self.scenario.surges)
        slowdowns = tuple(Slowdown(s.gate, s.start_s, s.end_s, s.factor) for s in self.scenario.slowdowns)
        self.network = add_incidents(plain, surges=surges, slowdowns=slowdowns)
        # the day starts empty at the start of the arrival window (or at ``start`` if earlier); a start
        # long after the show skips the empty hours after everybody has gone
        state = initial_state(self.network, min(start_s, -self.network.arrival.window_s))
        warm_until = min(start_s, show_end_s + 7200.0)
        state = advance(state, warm_until - state.t_s, max_dt_s=5.0)
        self.state: FlowState = replace(state, t_s=start_s) if warm_until < start_s else state
        self.rng = np.random.default_rng(seed)
        self.ticks = 0
        self._last_real: datetime | None = None
        self._gate_sent: dict[str, tuple[int, int]] = {}
        self._prepare()
        with sessions() as db:
            self.patrols = Patrols(db, event_id, seed=seed)
            self.calls = Calls(db, event_id, start_s, calls=DEMO_CALLS if calls is None else calls, seed=seed)

    # ----------------------------------------------------------------- static lookups

    def _prepare(self) -> None:
        zones = {z.code: z for z in self.site.zones}
        node_index = self.network.index.node
        children: dict[str, list[str]] = {}
        for z in self.site.zones:
            if z.parent:
                children.setdefault(z.parent, []).append(z.code)

        def members(code: str) -> list[int]:
            if code in node_index:
                return [node_index[code]]
            return [i for c in children.get(code, []) for i in members(c)]

        self._members = {code: np.array(members(code), dtype=np.int64) for code in zones}
        self._area = {code: z.area_m2 for code, z in zones.items()}
        self._zone_kind = {code: z.kind for code, z in zones.items()}
        gates_by_zone: dict[str, list[GateSite]] = {}
        for g in self.site.gates:
            gates_by_zone.setdefault(g.zone or "", []).append(g)
        self._gate_of: dict[str, str] = {}
        for d in self.site.devices:
            if d.kind != "gate_counter":
                continue
            named = d.properties.get("gate")
            if named and any(g.code == named for g in self.site.gates):
                self._gate_of[d.code] = str(named)
            elif gates_by_zone.get(d.zone or ""):
                near = min(gates_by_zone[d.zone or ""], key=lambda g: ((g.x - d.x) ** 2 + (g.y - d.y) ** 2, g.code))
                self._gate_of[d.code] = near.code
        self._reporting = [d for d in self.site.devices
                         if (d.kind in COUNT_KINDS and counts_people(d) and d.zone is not None
                             and (d.kind != "gate_counter" or d.code in self._gate_of))
                         or d.kind in ("temperature", "gas", "smoke")]

    # ----------------------------------------------------------------- clocks

    @property
    def t_s(self) -> float:
        """Scenario clock in seconds after the show start."""
        return self.state.t_s

    @property
    def sim_time(self) -> datetime:
        return self.show_start + timedelta(seconds=self.state.t_s)

    @property
    def phase(self) -> str:
        s = self.state
        if s.egress:
            return "over" if s.present < 0.5 and s.pending < 0.5 else "egress"
        if s.t_s >= 0:
            return "show"
        return "ingress" if s.pending < self.network.attendance else "before"

    @property
    def reporting(self) -> tuple[str, ...]:
        """Codes of the devices that send readings (drones and vehicle-only cameras do not)."""
        return tuple(d.code for d in self._reporting)

    @property
    def finished(self) -> bool:
        return self.phase == "over"

    def counts(self) -> dict[str, float]:
        """Model persons per zone code (containers: the sum of their children)."""
        per_node = self.state.occupancy.sum(axis=1)
        return {code: float(per_node[idx].sum()) for code, idx in self._members.items()}

    # ----------------------------------------------------------------- ticks

    def advance_to(self, now: datetime) -> float:
        """Move the scenario clock by ``speed`` x the real seconds since the last call; returns the seconds."""
        if self._last_real is None:
            self._last_real = now
            return 0.0
        real = (now - self._last_real).total_seconds()
        self._last_real = max(now, self._last_real)
        sim = min(max(0.0, real * self.speed), self.max_catch_up_s)
        self.state = advance(self.state, sim)
        return sim

    def silent(self) -> tuple[str, ...]:
        t = self.state.t_s
        return tuple(sorted({c for d in self.scenario.dropouts if d.start_s <= t < d.end_s for c in d.sensors}))

    def readings(self, now: datetime) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """The readings of every live device at the current model state, stamped ``now``.

        Returns the ingest items and the noise-free value behind each one (by device code).
        """
        counts = self.counts()
        silent = set(self.silent())
        t = self.state.t_s
        flows = self.state.gate_flows()
        queues = self.state.gate_queues()
        at = now.isoformat()
        items: list[dict[str, Any]] = []
        expected: dict[str, float] = {}
        noise = self.rng.uniform(-NOISE, NOISE, size=len(self._reporting))
        normal = self.rng.normal(0.0, 1.0, size=len(self._reporting))
        for d, u, z in zip(self._reporting, noise, normal, strict=True):
            if d.code in silent:
                continue
            count = counts.get(d.zone or "", 0.0)
            value: float
            values: dict[str, float] | None = None
            if d.kind in ("video_count", "camera"):
                expected[d.code] = count
                value = float(round(count * (1 + u)))
            elif d.kind in ("wifi_probe", "bluetooth"):
                expected[d.code] = count / PROBE_RATIO
                value = float(round(count / PROBE_RATIO * (1 + u)))
            elif d.kind == "gate_counter":
                inward, outward = flows.get(self._gate_of[d.code], (0.0, 0.0))
                last_in, last_out = self._gate_sent.get(d.code, (round(inward), round(outward)))
                now_in, now_out = round(inward), round(outward)
                self._gate_sent[d.code] = (now_in, now_out)
                values = {"in": float(now_in - last_in), "out": float(now_out - last_out)}
                value = values["in"] + values["out"]
                expected[d.code] = value
                q = queues.get(self._gate_of[d.code])
                persons, wait = (q.persons, min(q.wait_s, MAX_WAIT_S)) if q is not None else (0.0, 0.0)
                values["queue"] = float(round(max(0.0, persons * (1 + u))))
                values["wait_s"] = float(round(max(0.0, wait * (1 + u)))) if values["queue"] > 0 else 0.0
            elif d.kind == "temperature":
                density = count / self._area[d.zone] if d.zone and self._area.get(d.zone) else 0.0
                warm = 8.0 if self._zone_kind.get(d.zone or "") in STAFF_KINDS else 0.0
                expected[d.code] = self.ambient_c + warm + 1.2 * density
                value = round(expected[d.code] + 0.2 * float(z), 1)
            elif d.kind == "gas":
                base = 3.0 if self._zone_kind.get(d.zone or "") in STAFF_KINDS else 1.0
                leak = next((ppm for g in self.scenario.gas_leaks if g.sensor == d.code
                             and (ppm := g.ppm_at(t, base)) is not None), None)
                expected[d.code] = base if leak is None else leak
                spread = 0.4 if leak is None else max(0.4, 0.03 * leak)
                value = round(max(0.0, expected[d.code] + spread * float(z)), 1)
            else:  # smoke
                fault = next((f for f in self.scenario.smoke_faults if f.sensor == d.code and f.start_s <= t < f.end_s),
                             None)
                if fault is not None:
                    alarm = float(d.properties.get("alarm_obscuration", 4.0))
                    expected[d.code] = fault.value if fault.value is not None else 1.5 * alarm
                    value = round(expected[d.code] * (1 + 0.1 * u / NOISE), 2)
                else:
                    expected[d.code] = 0.05
                    value = round(max(0.0, 0.05 + 0.02 * float(z)), 2)
            item: dict[str, Any] = {"sensor": d.code, "at": at, "value": value}
            if values is not None:
                item["values"] = values
            items.append(item)
        return items, expected

    def tick(self, now: datetime | None = None) -> Tick:
        """Advance the model to ``now`` (wall clock), send the readings through ingest and commit."""
        started = time.perf_counter()
        now = now or utcnow()
        if now.tzinfo is None or now.utcoffset() is None:
            raise Invalid("tick(now): now must be timezone-aware")
        self.advance_to(now)
        items, expected = self.readings(now)
        model_ms = (time.perf_counter() - started) * 1000
        with self.sessions() as db:
            db.info["actor"] = f"system:{self.source}"
            outcome = ingest(db=db, event_id=self.event_id, items=items, source=self.source)
            self.patrols.report(db, now, self.t_s)
            self.calls.report(db, now, self.t_s)
            db.commit()
        if outcome.rejected:
            log.warning("simulator: %d readings rejected, first: %s", len(outcome.rejected), outcome.rejected[0])
        self.ticks += 1
        s = self.state
        return Tick(number=self.ticks, at=now, sim_time=self.sim_time, phase=self.phase, accepted=outcome.accepted,
                    rejected=len(outcome.rejected), sent={i["sensor"]: float(i["value"]) for i in items},
                    expected=expected, silent=self.silent(), counts=self.counts(), pending=s.pending,
                    present=s.present, departed=s.departed, model_ms=model_ms,
                    total_ms=(time.perf_counter() - started) * 1000,
                    values={i["sensor"]: i["values"] for i in items if "values" in i})

    @property
    def period_s(self) -> float:
        """Real seconds between ticks in :func:`run`: ``tick_sim_s / speed`` clamped to 0.5-20 s."""
        return min(20.0, max(0.5, self.tick_sim_s / self.speed))


def _done(sim: Simulator, duration_s: float | None) -> bool:
    if sim.finished:
        return True
    return duration_s is not None and (sim.sim_time - sim.start).total_seconds() >= duration_s


def run(sessions: sessionmaker[Session], event_id: int, speed: float = 10.0, start: datetime | None = None,
        duration_s: float | None = None, on_tick: Callable[[Tick], Any] | None = None, *,
        stop: threading.Event | None = None, **options: Any) -> Simulator:
    """Run a simulation in this thread until ``stop`` is set, ``duration_s`` simulated seconds have
    passed since ``start``, or everybody has gone home. Returns the simulator.

    ``options`` go to :class:`Simulator` (``seed``, ``scenario``, ``tick_sim_s``...). A failing tick
    is logged and the next one tried. ``on_tick`` is called in this thread after each commit.
    """
    sim = Simulator(sessions, event_id, speed=speed, start=start, **options)
    stop = stop or threading.Event()
    while not stop.is_set():
        began = time.monotonic()
        try:
            report = sim.tick()
            if on_tick is not None:
                on_tick(report)
        except Exception:  # a bad tick (database busy...) must not stop the simulation
            log.exception("simulator tick failed")
        if _done(sim, duration_s):
            break
        stop.wait(max(0.0, sim.period_s - (time.monotonic() - began)))
    return sim


async def run_async(sessions: sessionmaker[Session], event_id: int, speed: float = 10.0,
                    start: datetime | None = None, duration_s: float | None = None,
                    on_tick: Callable[[Tick], Any] | None = None, **options: Any) -> Simulator:
    """:func:`run` as an asyncio task: ticks run in a worker thread, ``on_tick`` in the event loop.

    Cancel the task to stop it.
    """
    sim = await asyncio.to_thread(Simulator, sessions, event_id, speed=speed, start=start, **options)
    while True:
        began = time.monotonic()
        try:
            report = await asyncio.to_thread(sim.tick)
            if on_tick is not None:
                on_tick(report)
        except Exception:  # as in run(): log and go on
            log.exception("simulator tick failed")
        if _done(sim, duration_s):
            return sim
        await asyncio.sleep(max(0.0, sim.period_s - (time.monotonic() - began)))
