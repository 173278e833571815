"""Results of the evacuation model: per exit, zone and link, the time series, and the "last person" rule.

The model is a fluid: a person counts as through when the cumulative flow passes their half-way
mark, so the ``k``-th person passes when the count reaches ``k - 0.5`` (linear within a step).
``clearance_s`` is when the evacuated count reaches ``total - 0.5``; an exit's ``first_s`` and
``last_s`` when its count reaches 0.5 and its final total minus 0.5 (half its total for an exit
that carries less than one person); ``mean_per_s = (persons - 1) / (last_s - first_s)``, the flow
between the first and the last person (as for measured passage times); ``peak_per_s`` the highest
flow over one second (one step if ``dt_s > 1``); a zone's ``clear_s`` when it last fell below half a
person. The run stops when fewer than 1e-6 persons remain or at ``max_s``: then the partial result is
returned with ``finished = False`` and a Chinese ``warning``.

Units: persons, seconds, persons/s, persons/m2. :func:`collect` turns what the step loop of
:mod:`anbao.algorithms.evacuation` recorded (:class:`RunRecord`) into an :class:`EvacResult`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from anbao.algorithms.crowdnet import FloatArray, frozen_array
from anbao.algorithms.evacuation_network import EvacLink, EvacNode, Net

__all__ = ["DONE_PERSONS", "HALF_PERSON", "EvacResult", "ExitResult", "LinkResult", "NodeResult", "RunRecord",
           "collect", "exit_results", "half", "reach_time"]

#: half a person: the fluid's rounding threshold for "the last person" (module docstring)
HALF_PERSON = 0.5
#: the run stops when fewer persons than this remain
DONE_PERSONS = 1e-6


@dataclass(frozen=True)
class ExitResult:
    """Persons out through one exit (the links to safety with this name).

    persons: total; peak_per_s: the highest flow over one second, persons/s; mean_per_s: persons/s
    between the first and the last person (None for fewer than two persons); first_s, last_s: when the
    first and the last person passed, seconds (None: nobody, or the run did not finish).
    """

    name: str
    persons: float
    peak_per_s: float
    mean_per_s: float | None
    first_s: float | None
    last_s: float | None


@dataclass(frozen=True)
class NodeResult:
    """One zone: ``clear_s`` when it emptied (0.0 if it never held half a person, None if it did not
    empty), ``max_density`` persons/m2 and the time of it, ``max_density_s`` seconds."""

    code: str
    population: float
    clear_s: float | None
    max_density: float
    max_density_s: float


@dataclass(frozen=True)
class LinkResult:
    """One link, in input order: persons who passed it, the longest queue at it (persons, at the end
    of a step) and that queue's wait at the link's capacity (seconds; 0 for open links)."""

    source: str
    target: str | None
    name: str
    persons: float
    max_queue: float
    max_wait_s: float


@dataclass(frozen=True, eq=False)
class EvacResult:
    """What :func:`evacuate` found.

    finished: everybody (to half a person) reached safety within ``max_s``; clearance_s: when the last
    person did (None if not finished); total, evacuated, remaining: persons, ``evacuated + remaining ==
    total``; warning: Chinese text when the time cap was hit or a zone starts above the jam density.
    exits: per exit in order of first appearance; nodes: per zone in input order; links: per link in
    input order. times_s (samples,), populations (samples, zones) and evacuated_series (samples,):
    the time series every ``sample_s`` for charts (read-only arrays; the last sample is the end).
    """

    finished: bool
    clearance_s: float | None
    total: float
    evacuated: float
    remaining: float
    warning: str | None
    exits: tuple[ExitResult, ...]
    nodes: tuple[NodeResult, ...]
    links: tuple[LinkResult, ...]
    times_s: FloatArray
    populations: FloatArray
    evacuated_series: FloatArray
    dt_s: float
    steps: int

    def exit(self, name: str) -> ExitResult:
        for e in self.exits:
            if e.name == name:
                return e
        raise KeyError(name)

    def node(self, code: str) -> NodeResult:
        for n in self.nodes:
            if n.code == code:
                return n
        raise KeyError(code)


class RunRecord(NamedTuple):
    """What the step loop of :mod:`anbao.algorithms.evacuation` recorded."""

    steps: int
    evacuated: float
    remaining: float
    exit_flow: FloatArray  # (steps, exits): persons reaching safety per step
    passed: FloatArray  # (links,) sorted: persons through each link
    max_queue: FloatArray  # (links,) sorted
    clear: FloatArray  # (zones,): when each emptied, nan if it holds people
    max_rho: FloatArray  # (zones,)
    max_rho_t: FloatArray  # (zones,)
    sample_t: list[float]
    sample_pop: list[FloatArray]
    sample_evac: list[float]


def reach_time(cum: FloatArray, threshold: float, dt_s: float) -> float | None:
    """When the cumulative series ``cum`` (value at the end of each step) first reaches ``threshold``,
    interpolated linearly within the step; None if it never does."""
    hit = np.flatnonzero(cum >= threshold - 1e-9)
    if len(hit) == 0:
        return None
    k = int(hit[0])
    before = float(cum[k - 1]) if k > 0 else 0.0
    step = float(cum[k]) - before
    frac = 1.0 if step <= 0 else min(max((threshold - before) / step, 0.0), 1.0)
    return (k + frac) * dt_s


def half(total: float) -> float:
    """The threshold of "the last person" for ``total`` persons: half a person, or half of less than one."""
    return min(HALF_PERSON, total / 2.0)


def exit_results(net: Net, run: RunRecord, dt_s: float, finished: bool) -> tuple[ExitResult, ...]:
    """Persons, peak and mean flow, first and last passage of each exit (``last_s`` only if ``finished``)."""
    window = min(max(1, round(1.0 / dt_s)), run.steps)
    exits = []
    for e, name in enumerate(net.exit_names):
        cum = np.cumsum(run.exit_flow[:, e])
        persons = float(cum[-1]) if run.steps else 0.0
        padded = np.concatenate([[0.0], cum])
        peak = float((padded[window:] - padded[:-window]).max() / (window * dt_s)) if run.steps else 0.0
        first = reach_time(cum, half(persons), dt_s) if persons > 0 else None
        last = reach_time(cum, persons - half(persons), dt_s) if persons > 0 and finished else None
        mean = None
        if first is not None and last is not None and last > first and persons >= 2:
            mean = (persons - 1.0) / (last - first)
        exits.append(ExitResult(name=name, persons=persons, peak_per_s=peak, mean_per_s=mean, first_s=first,
                                last_s=last))
    return tuple(exits)


def collect(nodes: Sequence[EvacNode], links: Sequence[EvacLink], net: Net, run: RunRecord, *, dt_s: float,
            max_s: float, jam_density: float) -> EvacResult:
    """The :class:`EvacResult` of a run of ``dt_s`` second steps (rules in the module docstring), with a
    Chinese warning when it hit ``max_s`` seconds or a zone starts above ``jam_density`` persons/m2."""
    total = float(net.population.sum())
    cum_all = np.cumsum(run.exit_flow.sum(axis=1))
    clearance = 0.0 if total < 1e-12 else reach_time(cum_all, total - half(total), dt_s)
    finished = clearance is not None and run.remaining <= half(total) + DONE_PERSONS
    node_results = tuple(
        NodeResult(code=nd.code, population=float(nd.population),
                   clear_s=None if math.isnan(run.clear[i]) else float(run.clear[i]),
                   max_density=float(run.max_rho[i]), max_density_s=float(run.max_rho_t[i]))
        for i, nd in enumerate(nodes))
    sorted_at = np.empty(len(links), dtype=np.int64)
    sorted_at[net.order] = np.arange(len(links))
    link_results = []
    for i, lk in enumerate(links):
        j = int(sorted_at[i])
        cap, longest = float(net.cap[j]), float(run.max_queue[j])
        wait = 0.0 if math.isinf(cap) or longest == 0 else longest / cap if cap > 0 else math.inf
        link_results.append(LinkResult(source=lk.source, target=lk.target, name=lk.label,
                                       persons=float(run.passed[j]), max_queue=longest, max_wait_s=wait))
    warnings = []
    if not finished:
        warnings.append(f"模拟在 {max_s:g} 秒内未完成：仍有 {round(run.remaining)} 人未疏散")
    crowded = [f"{nd.code} {nd.population / nd.area_m2:.1f} 人/㎡" for nd in nodes
               if nd.population / nd.area_m2 > jam_density]
    if crowded:
        warnings.append(f"以下区域初始密度超过阻塞密度 {jam_density:g} 人/㎡：{'，'.join(crowded)}")
    samples = len(run.sample_t)
    return EvacResult(
        finished=finished, clearance_s=clearance if finished else None, total=total, evacuated=run.evacuated,
        remaining=run.remaining, warning="；".join(warnings) or None, exits=exit_results(net, run, dt_s, finished),
        nodes=node_results, links=tuple(link_results), times_s=frozen_array(run.sample_t),
        populations=frozen_array(np.array(run.sample_pop).reshape(samples, net.n)),
        evacuated_series=frozen_array(run.sample_evac), dt_s=dt_s, steps=run.steps)
