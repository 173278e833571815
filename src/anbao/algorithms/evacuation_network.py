"""The evacuation model's inputs and the arrays it runs on (疏散模拟: zones, passages, network).

:class:`EvacNode` (a zone) and :class:`EvacLink` (a one-way passage) are described in
:mod:`anbao.algorithms.evacuation`; each checks its own numbers when it is made. :func:`prepare`
checks a whole network (unique zone codes, links between known zones, a chain of passages with
capacity > 0 from every zone holding people to safety) and turns it into the arrays of :class:`Net`
that the step loop and the route choice work on. Units: persons, square metres, metres, persons/s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from anbao.algorithms.crowdnet import FloatArray, IntArray, frozen_array

__all__ = ["BoolArray", "EvacLink", "EvacNode", "EvacuationError", "Net", "check_number", "prepare"]

BoolArray = NDArray[np.bool_]


class EvacuationError(ValueError):
    """An input the model cannot run: the message names the zone or link and the field."""


def check_number(what: str, value: float, *, positive: bool = False) -> None:
    """Raise :class:`EvacuationError` unless ``value`` is a finite number >= 0 (> 0 if ``positive``)."""
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0 or (positive and value <= 0):
        bound = "> 0" if positive else ">= 0"
        raise EvacuationError(f"{what} must be a finite number {bound}, got {value!r}")


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class EvacNode:
    """A zone: ``population`` persons at t = 0, ``area_m2`` square metres, ``length_m`` the typical walk
    across it in metres (0: people are at its passages at once)."""

    code: str
    population: float
    area_m2: float
    length_m: float

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise EvacuationError(f"zone code must be a non-empty string, got {self.code!r}")
        check_number(f"zone {self.code}: population", self.population)
        check_number(f"zone {self.code}: area_m2", self.area_m2, positive=True)
        check_number(f"zone {self.code}: length_m", self.length_m)


@dataclass(frozen=True)
class EvacLink:
    """A one-way passage from zone ``source`` to zone ``target`` (``None``: to safety).

    capacity_per_s: persons/s (``None``: open, no limit; 0: closed); length_m: the walk along the
    passage, metres, at free speed; name: the exit or gate code (links to safety with the same name
    are one exit in the result).
    """

    source: str
    target: str | None
    capacity_per_s: float | None
    length_m: float = 0.0
    name: str = ""

    @property
    def label(self) -> str:
        """``name``, or ``source->target`` (``source->safe`` for an exit) when it has none."""
        return self.name or f"{self.source}->{self.target if self.target is not None else 'safe'}"

    def __post_init__(self) -> None:
        if self.source == self.target:
            raise EvacuationError(f"link {self.label}: joins zone {self.source} to itself")
        if self.capacity_per_s is not None:
            check_number(f"link {self.label}: capacity_per_s", self.capacity_per_s)
        check_number(f"link {self.label}: length_m", self.length_m)



# --------------------------------------------------------------------------- arrays

@dataclass(frozen=True, eq=False)
class Net:
    """Arrays of the network; links sorted by source zone (``order``: sorted position -> input index)."""

    n: int
    population: FloatArray
    area: FloatArray
    length: FloatArray
    order: IntArray
    src: IntArray  # (links,)
    tgt: IntArray  # (links,): the target zone, n for safety
    cap: FloatArray  # (links,): persons/s, inf = open
    link_len: FloatArray  # (links,): metres
    delay: IntArray  # (links,): whole steps in transit
    starts: IntArray  # (groups,): the first sorted link of each zone that has links
    group_node: IntArray  # (groups,): the zone of each group
    group_of: IntArray  # (links,): the group of each sorted link
    group_last: BoolArray  # (links,): the last link of its group
    group_first: IntArray  # (links,): the first sorted link of each link's group
    next_in_group: IntArray  # (links,): the next sorted link (itself for the last one)
    link_no: IntArray  # (links,): 0 .. links - 1
    exit_of: IntArray  # (links,): exit index, -1 for links between zones
    exit_names: tuple[str, ...]


def _reachable(n: int, links: Sequence[EvacLink], index: dict[str, int]) -> list[bool]:
    """Zones from which a chain of links with capacity > 0 leads to safety."""
    ok = [False] * n
    incoming: list[list[int]] = [[] for _ in range(n)]
    frontier: list[int] = []
    for lk in links:
        if lk.capacity_per_s == 0:
            continue
        s = index[lk.source]
        if lk.target is None:
            if not ok[s]:
                ok[s] = True
                frontier.append(s)
        else:
            incoming[index[lk.target]].append(s)
    while frontier:
        j = frontier.pop()
        for s in incoming[j]:
            if not ok[s]:
                ok[s] = True
                frontier.append(s)
    return ok


def prepare(nodes: Sequence[EvacNode], links: Sequence[EvacLink], dt_s: float, free_speed: float) -> Net:
    """The network as arrays, links sorted by source zone; ``delay``: whole steps of ``dt_s`` seconds to walk
    each link at ``free_speed`` m/s. Raises :class:`EvacuationError` naming the zone or link at fault."""
    if not nodes:
        raise EvacuationError("no zones given")
    index: dict[str, int] = {}
    for node in nodes:
        if not isinstance(node, EvacNode):
            raise EvacuationError(f"zones must be EvacNode, got {type(node).__name__}")
        if node.code in index:
            raise EvacuationError(f"duplicate zone code {node.code!r}")
        index[node.code] = len(index)
    for lk in links:
        if not isinstance(lk, EvacLink):
            raise EvacuationError(f"links must be EvacLink, got {type(lk).__name__}")
        for end in (lk.source, lk.target):
            if end is not None and end not in index:
                raise EvacuationError(f"link {lk.label}: unknown zone {end!r}")
    ok = _reachable(len(nodes), links, index)
    stuck = [nd.code for nd, reach in zip(nodes, ok, strict=True) if nd.population > 0 and not reach]
    if stuck:
        more = f" (also: {', '.join(stuck[1:])})" if len(stuck) > 1 else ""
        raise EvacuationError(f"zone {stuck[0]} has no exit: no chain of passages with capacity > 0 leads from it "
                              f"to safety (a link with target None){more}")
    n = len(nodes)
    src_in = np.array([index[lk.source] for lk in links], dtype=np.int64)
    order = np.argsort(src_in, kind="stable").astype(np.int64)
    ordered = [links[int(i)] for i in order]
    src = src_in[order]
    m = len(ordered)
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = src[1:] != src[:-1]
    group_last = np.ones(m, dtype=bool)
    group_last[:-1] = new_group[1:]
    starts = np.flatnonzero(new_group)
    exits: dict[str, int] = {}
    for lk in links:  # input order: exits are numbered by first appearance
        if lk.target is None:
            exits.setdefault(lk.label, len(exits))
    fa = frozen_array
    return Net(
        n=n, population=fa([nd.population for nd in nodes]), area=fa([nd.area_m2 for nd in nodes]),
        length=fa([nd.length_m for nd in nodes]), order=fa(order, np.int64), src=fa(src, np.int64),
        tgt=fa([n if lk.target is None else index[lk.target] for lk in ordered], np.int64),
        cap=fa([math.inf if lk.capacity_per_s is None else lk.capacity_per_s for lk in ordered]),
        link_len=fa([lk.length_m for lk in ordered]),
        delay=fa([round(lk.length_m / (free_speed * dt_s)) for lk in ordered], np.int64),
        starts=fa(starts, np.int64), group_node=fa(src[starts], np.int64),
        group_of=fa(np.cumsum(new_group) - 1, np.int64), group_last=fa(group_last, np.bool_),
        group_first=fa(starts[np.cumsum(new_group) - 1], np.int64),
        next_in_group=fa(np.minimum(np.arange(m) + 1, max(m - 1, 0)), np.int64), link_no=fa(np.arange(m), np.int64),
        exit_of=fa([exits[lk.label] if lk.target is None else -1 for lk in ordered], np.int64),
        exit_names=tuple(exits))
