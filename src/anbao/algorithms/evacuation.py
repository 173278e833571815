"""Evacuation of a venue on a zone network: a fast macroscopic model for planning (疏散模拟).

Pure and deterministic (no I/O); numpy arrays in the results are read-only. Units: persons (a
continuous quantity: the model moves fractions of people), seconds, metres, persons/s for link
capacities, persons/m2 for densities, m/s for speeds. Times are seconds from the alarm (t = 0).

Inputs
------
* :class:`EvacNode` a zone (区域): ``population`` persons in it at t = 0, ``area_m2`` for the density,
  ``length_m`` the typical walk across it (from where people stand, or from where they come in, to
  its passages).
* :class:`EvacLink` a one-way passage from ``source`` to ``target`` (``None``: out to safety, 安全区域),
  with a flow capacity in persons/s (``None``: an open boundary without limit; ``0``: closed). Use
  :func:`anbao.algorithms.crowdnet.width_capacity` for the Green Guide figure of a door or gate
  (82 persons per metre width per minute on the level = 1.367 persons/(m s); 66 on stairs).
  ``length_m`` is the walk along the passage itself (a tunnel, a stairway), taken at free speed;
  ``name`` is the exit or gate code (links with the same name are one exit in the result).

The model (step of ``dt_s`` seconds)
------------------------------------
Each zone holds people **walking** towards its passages, **deciding** at them, and **queuing** at
one of its outgoing links. People move as a fluid (fractions of persons). In every step:

1. **Speed.** A queue stands at ``queue_density`` (4 persons/m2, G. Keith Still's critical density)
   near its passage and takes that much of the zone's area (at most 95 %); the walkers share the
   rest, at density ``rho_w``, and walk at Weidmann's speed ``v(min(rho_w, rho_c))``
   (:func:`anbao.algorithms.crowdnet.walking_speed`: 1.34 m/s free, 0 at the jam density 5.4
   persons/m2, floored at ``min_speed``). ``rho_c`` = 1.75 persons/m2 is the density of Weidmann's
   maximum flow (0.70 m/s, 1.22 persons/(m s)): beyond it the speed is held, so that the flow limits
   stay where the planner puts them, in the links' capacities, and a crowded zone never chokes its
   own walkers (no capacity drop; give a narrow corridor a link with the capacity of its width).
2. **Estimates.** Every zone's estimated time to safety is updated (route choice).
3. **Walk.** Walkers cover ``v * dt`` metres of the zone's ``length_m`` less the part its queues
   fill (they walk to the back of the queue). All walkers of a zone move at its speed, so the model
   keeps them on a conveyor: persons by the odometer reading at which they reach the passages, no
   numerical diffusion (``bins`` bins per zone length; at t = 0 the population is spread evenly over
   ``[0, length_m]``, people who come in start at ``length_m``). Those who arrive join the deciding.
4. **Choose.** The deciding join the queue of a link (route choice).
5. **Pass.** A link passes at most ``capacity * dt`` of its queue; a zone accepts at most its free
   space ``jam_density * area - persons in it - persons on the way in``, and all links into a full
   zone are scaled down by the same factor (spill-back: the queue stays upstream).
6. **Along the link.** People who passed walk the link's ``length_m`` at free speed (a delay of
   whole steps), then enter the target zone at its far side, or reach safety.

All flows of a step are computed from the state at its start. People are conserved exactly:
``evacuated + remaining == total`` up to float rounding.

Route choice (选择出口) is in :mod:`anbao.algorithms.evacuation_routes`: people choose a link at
the passages of their zone by its estimated time to safety, so that flows spread over exits as people
do. The results and the "last person" rule are in :mod:`anbao.algorithms.evacuation_results`; the
inputs and the network's arrays in :mod:`anbao.algorithms.evacuation_network`. This module holds the
step loop and :func:`evacuate`; every public name of the model can be imported from here.

Resolution and limits: a zone has one density, so the front of a crowd entering a long zone walks
as slowly as its bulk (split long corridors into several zones); within a bin of the conveyor the
walkers are taken as evenly spread; every zone crossed costs at least one step. People do not
remember where they came from (the aggregate model cannot stop a rare step back through a zone when
a queue grows by more than the detour in one step); pre-movement time, groups, smoke and
counter-flow are not modelled.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from anbao.algorithms.crowdnet import (
    FREE_SPEED,
    JAM_DENSITY,
    FloatArray,
    IntArray,
    walking_speed,
)
from anbao.algorithms.evacuation_network import EvacLink, EvacNode, EvacuationError, Net, check_number, prepare
from anbao.algorithms.evacuation_results import (
    DONE_PERSONS,
    HALF_PERSON,
    EvacResult,
    ExitResult,
    LinkResult,
    NodeResult,
    RunRecord,
    collect,
)
from anbao.algorithms.evacuation_routes import choose, times_to_safety

__all__ = [
    "EvacLink", "EvacNode", "EvacResult", "EvacuationError", "ExitResult", "LinkResult", "NodeResult",
    "critical_density", "evacuate",
]

#: persons/s: the least service rate assumed at a link blocked by a full zone (its wait stays finite)
MIN_SERVICE = 1e-3
#: persons/m2 of a queue standing at a passage (G. Keith Still's critical density, DOMAIN.md section 3)
QUEUE_DENSITY = 4.0
#: the largest share of a zone's area its queues may take (walkers keep the rest)
MAX_QUEUE_AREA = 0.95


@dataclass(eq=False)
class _Conveyor:
    """The walkers of every zone on a conveyor (Lagrangian: no numerical diffusion).

    All walkers of a zone move at the zone's speed, so their order and spacing never change: each zone
    keeps an odometer ``x`` (metres walked so far) and the persons by the odometer reading at which
    they reach the passages, in bins of ``w = max(length, free_speed * dt) / bins`` metres on a ring
    of ``2 * bins + 3`` bins (more than one zone length plus one step ahead). Persons entering at
    reading ``x`` arrive at ``x + length``; at t = 0 the population is spread evenly over ``[0, length]``.
    Within a bin the persons are taken as spread evenly over its part not yet passed.
    """

    x: FloatArray  # (zones,): metres walked
    w: FloatArray  # (zones,): bin width, metres
    length: FloatArray  # (zones,)
    ring: FloatArray  # (zones, slots): persons per bin
    slot: IntArray  # (slots,)

    @classmethod
    def start(cls, length: FloatArray, population: FloatArray, step_m: float, bins: int) -> _Conveyor:
        w = np.maximum(length, step_m) / bins
        slots = 2 * bins + 3
        ring = np.zeros((len(length), slots))
        edges = np.arange(slots + 1)[None, :] * w[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(length[:, None] > 0,
                             np.clip(np.minimum(edges[:, 1:], length[:, None]) - edges[:, :-1], 0, None)
                             / length[:, None], 0.0)
        share[length == 0, 0] = 1.0
        ring[:] = population[:, None] * share
        return cls(np.zeros(len(length)), w, length, ring, np.arange(slots))

    def walkers(self) -> FloatArray:
        out: FloatArray = self.ring.sum(axis=1)
        return out

    def walk(self, metres: FloatArray) -> FloatArray:
        """Advance each zone's odometer by ``metres``; returns the persons who reached the passages."""
        slots = len(self.slot)
        first = np.floor(self.x / self.w)
        number = first[:, None] + np.mod(self.slot[None, :] - first[:, None], slots)  # bin number in each slot
        low = np.maximum(self.x[:, None], number * self.w[:, None])
        high = (number + 1) * self.w[:, None]
        end = (self.x + metres)[:, None]
        frac = np.clip((end - low) / (high - low), 0.0, 1.0)
        out = self.ring * frac
        self.ring -= out
        self.x = self.x + metres
        arrived: FloatArray = out.sum(axis=1)
        return arrived

    def enter(self, persons: FloatArray) -> None:
        """``persons`` per zone come in at the far side of the zone."""
        slot = np.mod(np.floor((self.x + self.length) / self.w), len(self.slot)).astype(np.int64)
        self.ring[np.arange(len(persons)), slot] += persons


@functools.lru_cache(maxsize=16)
def critical_density(free_speed: float = FREE_SPEED, jam_density: float = JAM_DENSITY) -> float:
    """The density of maximum flow ``rho * v(rho)`` of Weidmann's relation, persons/m2 (1.75 with the
    defaults: 0.70 m/s, 1.22 persons/(m s)), to 0.001 persons/m2."""
    rho = np.linspace(0.01, jam_density, max(100, round(jam_density * 1000)))
    flow = rho * walking_speed(rho, free_speed=free_speed, jam_density=jam_density, min_speed=0.0)
    return float(rho[int(np.argmax(flow))])


# --------------------------------------------------------------------------- the model

def _run(net: Net, *, dt_s: float, max_s: float, sample_s: float, free_speed: float, jam_density: float,
         min_speed: float, queue_density: float, bins: int) -> RunRecord:
    """The step loop of the module docstring (callers silence numpy's 0/0 and x/inf warnings)."""
    n, m = net.n, len(net.src)
    crowded = critical_density(free_speed, jam_density)
    conveyor = _Conveyor.start(net.length, net.population, free_speed * dt_s, bins)
    deciding = np.zeros(n)
    queue = np.zeros(m)
    service = np.array(net.cap)
    t_in = np.full(n + 1, math.inf)
    t_in[n] = 0.0
    span = int(net.delay.max()) + 1 if m else 1
    ring = np.zeros((m, span))
    into = net.tgt < n
    into_zone = net.tgt[into]
    link_rows = np.arange(m)
    holding = jam_density * net.area
    exit_links = net.exit_of >= 0
    n_exits = len(net.exit_names)

    max_steps = max(1, math.ceil(max_s / dt_s - 1e-9))
    every = max(1, round(sample_s / dt_s))
    occupancy = net.population.copy()
    max_rho = occupancy / net.area
    max_rho_t = np.zeros(n)
    clear = np.where(occupancy < HALF_PERSON, 0.0, math.nan)
    exit_flow: list[FloatArray] = []
    passed = np.zeros(m)
    max_queue = np.zeros(m)
    sample_t, sample_pop, sample_evac = [0.0], [occupancy.copy()], [0.0]
    evacuated = 0.0
    remaining = float(net.population.sum())
    steps = 0
    while steps < max_steps and remaining > DONE_PERSONS:
        # 1-2: speeds (queues stand at queue_density; walkers share the rest of the zone) and T estimates
        queued = deciding + np.bincount(net.src, weights=queue, minlength=n)
        free_part = 1.0 - np.minimum(queued / (queue_density * net.area), MAX_QUEUE_AREA)
        walkers = occupancy - queued
        speed = walking_speed(np.minimum(walkers / (net.area * free_part), crowded), free_speed=free_speed,
                              jam_density=jam_density, min_speed=min_speed)
        cost, marginal = times_to_safety(net, queue, service, net.length * free_part / speed,
                                         walkers + deciding, free_speed, t_in)
        # 3-4: walk to the back of the queues, choose a link
        deciding += conveyor.walk(speed * dt_s / free_part)
        add, deciding = choose(net, deciding, cost, marginal)
        queue += add
        # 5: pass the links, at most capacity * dt, scaled down where the target zone is full
        flow = np.minimum(queue, net.cap * dt_s)
        on_way = np.bincount(into_zone, weights=ring[into].sum(axis=1), minlength=n)
        free = np.maximum(holding - occupancy - on_way, 0.0)
        asked = np.bincount(into_zone, weights=flow[into], minlength=n)
        factor = np.where(asked > free, free / asked, 1.0)
        flow[into] *= factor[into_zone]
        blocked = np.zeros(m, dtype=bool)
        blocked[into] = factor[into_zone] < 1.0
        service = np.where(blocked, np.maximum(flow / dt_s, MIN_SERVICE), net.cap)
        queue = np.maximum(queue - flow, 0.0)
        passed += flow
        np.maximum(max_queue, queue, out=max_queue)
        # 6: along the links, into the next zone or to safety
        slot = steps % span
        ring[link_rows, (slot + net.delay) % span] += flow
        out = ring[:, slot].copy()
        ring[:, slot] = 0.0
        conveyor.enter(np.bincount(into_zone, weights=out[into], minlength=n).astype(np.float64))
        safe = np.bincount(net.exit_of[exit_links], weights=out[exit_links], minlength=n_exits).astype(np.float64)
        exit_flow.append(safe)
        evacuated += float(safe.sum())
        t0 = steps * dt_s
        steps += 1
        t1 = steps * dt_s
        # records
        before = occupancy
        occupancy = conveyor.walkers() + deciding + np.bincount(net.src, weights=queue, minlength=n)
        remaining = float(occupancy.sum() + ring.sum())
        rho = occupancy / net.area
        higher = rho > max_rho
        max_rho = np.where(higher, rho, max_rho)
        max_rho_t = np.where(higher, t1, max_rho_t)
        down = (before >= HALF_PERSON) & (occupancy < HALF_PERSON)
        cross = t0 + dt_s * (before - HALF_PERSON) / (before - occupancy)
        clear = np.where(down, cross, np.where(occupancy >= HALF_PERSON, math.nan, clear))
        if steps % every == 0 or steps == max_steps or remaining <= DONE_PERSONS:
            sample_t.append(t1)
            sample_pop.append(occupancy.copy())
            sample_evac.append(evacuated)
    return RunRecord(steps=steps, evacuated=evacuated, remaining=remaining,
                     exit_flow=np.array(exit_flow, dtype=np.float64).reshape(steps, n_exits), passed=passed,
                     max_queue=max_queue, clear=clear, max_rho=max_rho, max_rho_t=max_rho_t, sample_t=sample_t,
                     sample_pop=sample_pop, sample_evac=sample_evac)


def evacuate(nodes: Sequence[EvacNode], links: Sequence[EvacLink], *, dt_s: float = 1.0, max_s: float = 3600.0,
             sample_s: float = 10.0, free_speed: float = FREE_SPEED, jam_density: float = JAM_DENSITY,
             min_speed: float = 0.1, queue_density: float = QUEUE_DENSITY, bins: int = 40) -> EvacResult:
    """Evacuate ``nodes`` through ``links`` (the model in the module docstring; route choice and result rules
    in those of :mod:`anbao.algorithms.evacuation_routes` and :mod:`anbao.algorithms.evacuation_results`).

    dt_s: step, seconds; max_s: time cap, seconds (the partial result is returned with a warning);
    sample_s: interval of the time series, seconds; free_speed (m/s), jam_density (persons/m2) and
    min_speed (m/s): the speed-density relation; queue_density: persons/m2 of the queues at passages;
    bins: distance bins per zone length (the walkers' resolution).

    Raises :class:`EvacuationError` (a ValueError) for duplicate zone codes, links naming unknown
    zones, negative or non-finite values, or a zone holding people with no route to safety
    ("zone Z7 has no exit: ...").
    """
    for what, value in (("dt_s", dt_s), ("max_s", max_s), ("sample_s", sample_s), ("free_speed", free_speed),
                        ("jam_density", jam_density), ("min_speed", min_speed), ("queue_density", queue_density)):
        check_number(what, value, positive=True)
    if not isinstance(bins, int) or bins < 1:
        raise EvacuationError(f"bins must be an integer >= 1, got {bins!r}")
    net = prepare(nodes, links, dt_s, free_speed)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        run = _run(net, dt_s=dt_s, max_s=max_s, sample_s=sample_s, free_speed=free_speed, jam_density=jam_density,
                   min_speed=min_speed, queue_density=queue_density, bins=bins)
    return collect(nodes, links, net, run, dt_s=dt_s, max_s=max_s, jam_density=jam_density)
