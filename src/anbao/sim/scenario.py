"""Scripted incidents of a simulation (:class:`Scenario`) and the default demo script.

Times are seconds after the show start (negative: before it), on the scenario clock.

==================  ======================================================================
incident            what the sensors show
==================  ======================================================================
Dropout             the devices send nothing (their zone's state marks them stale)
SmokeFault          a smoke detector reports alarm obscuration (1.5 x its alarm level)
GasLeak             a gas detector's CO rises to ``ppm`` (default 120) over ``rise_s``, holds,
                    and falls back to the background at the end of the window
CrowdSurge          a standing zone fills towards jam density (the people of the others rush in)
ScreeningSlowdown   安检拥堵: an entry gate serves at ``factor`` (default 30 %) of its capacity, so
                    its queue and expected wait (gate counter ``values.queue``, ``values.wait_s``)
                    build up, and fall after the window as the gate catches up
==================  ======================================================================
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from anbao.algorithms.crowdflow import Network
from anbao.venue.layout import DeviceSite, GateSite, ZoneSite, counts_people


@dataclass(frozen=True)
class Dropout:
    """``sensors`` (device codes) send nothing from ``start_s`` to ``end_s`` (seconds after the show start)."""

    sensors: tuple[str, ...]
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SmokeFault:
    """A smoke detector reports alarm values (``value`` %/m; default 1.5 x its alarm level) in the window."""

    sensor: str
    start_s: float
    end_s: float
    value: float | None = None


@dataclass(frozen=True)
class GasLeak:
    """A gas detector's CO reading rises linearly to ``ppm`` over ``rise_s`` from ``start_s``, stays
    there until ``end_s``, then drops back to the background."""

    sensor: str
    start_s: float
    end_s: float
    ppm: float = 120.0
    rise_s: float = 120.0

    def __post_init__(self) -> None:
        if not self.start_s < self.end_s:
            raise ValueError(f"gas leak window must have start_s < end_s, got {self.start_s} >= {self.end_s}")
        if not (self.ppm >= 0 and self.rise_s >= 0):
            raise ValueError("ppm and rise_s must be >= 0")

    def ppm_at(self, t_s: float, background: float) -> float | None:
        """The CO level at ``t_s`` (ppm), or None outside the window."""
        if not self.start_s <= t_s < self.end_s:
            return None
        ramp = 1.0 if self.rise_s <= 0 else min(1.0, (t_s - self.start_s) / self.rise_s)
        return background + (self.ppm - background) * ramp


@dataclass(frozen=True)
class ScreeningSlowdown:
    """安检拥堵: ``gate`` (a gate or checkpoint code) serves at ``factor`` of its capacity in the window."""

    gate: str
    start_s: float
    end_s: float
    factor: float = 0.3

    def __post_init__(self) -> None:
        if not self.start_s < self.end_s:
            raise ValueError(f"slowdown window must have start_s < end_s, got {self.start_s} >= {self.end_s}")
        if not 0 < self.factor <= 1:
            raise ValueError(f"factor must be in (0, 1], got {self.factor}")


@dataclass(frozen=True)
class CrowdSurge:
    """``fraction`` of the people bound for the other standing zones rush into ``zone`` in the window."""

    zone: str
    start_s: float
    end_s: float
    fraction: float = 0.35


@dataclass(frozen=True)
class Scenario:
    """Scripted incidents; times in seconds after the show start (negative: before it)."""

    dropouts: tuple[Dropout, ...] = ()
    smoke_faults: tuple[SmokeFault, ...] = ()
    surges: tuple[CrowdSurge, ...] = ()
    slowdowns: tuple[ScreeningSlowdown, ...] = ()
    gas_leaks: tuple[GasLeak, ...] = ()


def default_scenario(*, zones: Sequence[ZoneSite], devices: Sequence[DeviceSite], start_s: float, speed: float,
                     show_end_s: float, seed: int, network: Network | None = None, gates: Sequence[GateSite] = (),
                     gas_leak: bool = False) -> Scenario:
    """Incidents placed so that a demo launched at ``start_s`` shows each of them within minutes.

    Windows last long enough in real time to be seen (a drop-out at least 3 real minutes, beyond the
    60 s freshness window): their simulated length grows with ``speed``.
    * drop-outs 5 simulated minutes after the start: one camera or video counter, one WiFi or
      Bluetooth probe, one gate counter (picked with ``seed``);
    * a smoke detector fault 15 simulated minutes after the start;
    * a surge 10 minutes after the show start (when the floor is full) into the standing zone
      nearest to the stage (or the first standing zone), from the other standing zones;
    * with the venue's ``network`` (and its ``gates``): a screening slowdown at the busiest entry
      checkpoint, over the arrival peak (:func:`screening_slowdown`);
    * with ``gas_leak``: a gas leak at one gas detector 10 simulated minutes after the start (off
      by default).
    """
    rng = random.Random(seed)
    groups = (("video_count", "camera"), ("wifi_probe", "bluetooth"), ("gate_counter",))
    silent = []
    for kinds in groups:
        cands = sorted(d.code for d in devices if d.kind in kinds and d.zone is not None and counts_people(d))
        if cands:
            silent.append(rng.choice(cands))
    drop_len = max(600.0, 180.0 * speed)
    dropouts = (Dropout(tuple(silent), start_s + 300.0, start_s + 300.0 + drop_len),) if silent else ()
    smokes = sorted(d.code for d in devices if d.kind == "smoke")
    smoke_len = max(480.0, 120.0 * speed)
    faults = (SmokeFault(rng.choice(smokes), start_s + 900.0, start_s + 900.0 + smoke_len),) if smokes else ()
    standing = sorted((z for z in zones if z.kind == "standing" and z.capacity > 0), key=lambda z: z.code)
    stages = [z.shape for z in zones if z.kind == "stage"]
    surges: tuple[CrowdSurge, ...] = ()
    if len(standing) >= 2:
        target = standing[0]
        if stages:
            stage = shapely.union_all(stages)
            target = min(standing, key=lambda z: (round(z.shape.distance(stage), 1), z.code))
        begin = max(600.0, start_s + 300.0)
        length = max(900.0, 180.0 * speed)
        if begin + length < show_end_s:
            surges = (CrowdSurge(target.code, begin, begin + length),)
    leaks: tuple[GasLeak, ...] = ()
    gases = sorted(d.code for d in devices if d.kind == "gas")
    if gas_leak and gases:
        gas_len = max(480.0, 120.0 * speed)
        leaks = (GasLeak(rng.choice(gases), start_s + 600.0, start_s + 600.0 + gas_len, rise_s=gas_len / 3),)
    counted = {str(d.properties["gate"]) for d in devices if d.kind == "gate_counter" and d.properties.get("gate")}
    slowdowns = () if network is None else screening_slowdown(network, gates, start_s=start_s, speed=speed,
                                                               counted=counted)
    return Scenario(dropouts=dropouts, smoke_faults=faults, surges=surges, slowdowns=slowdowns, gas_leaks=leaks)


def planned_load(network: Network) -> dict[int, float]:
    """Share of the attendance each link carries on the way in (by the routes and the origin and
    destination shares), by link index; links nobody is routed through are left out."""
    idx = network.index
    share: dict[int, float] = {}
    for o in np.flatnonzero(idx.origin_share):
        for k, d_share in enumerate(idx.dest_share):
            i = int(o)
            for _ in range(len(network.nodes)):
                hop = int(idx.next_hop[i, k])
                if hop < 0:
                    break
                share[hop] = share.get(hop, 0.0) + float(idx.origin_share[o] * d_share)
                i = int(idx.link_target[hop])
    return share


def screening_slowdown(network: Network, gates: Sequence[GateSite], *, start_s: float, speed: float,
                       factor: float = 0.3, counted: Collection[str] = ()) -> tuple[ScreeningSlowdown, ...]:
    """A slowdown to ``factor`` of the busiest entry checkpoint, centred on the arrival peak.

    The busiest is the checkpoint (else any entry gate) on the link with the highest planned load
    per capacity (:func:`planned_load`), the first by code among equals; gates with a gate counter
    (``counted``: gate codes), whose queue the warning rules see, come first. The window lasts
    ``max(30 min, 2 real minutes)``, at most 45 minutes, and starts at least 5 minutes after
    ``start_s``; none when less than 10 minutes of arrivals would be left.
    """
    kinds = {g.code: g.kind for g in gates}
    load = planned_load(network)
    scored = []
    for li, link in enumerate(network.links):
        if link.capacity_pps is None or link.capacity_pps <= 0 or load.get(li, 0.0) <= 0:
            continue
        for g in link.gates:
            if g.inward and g.share > 0 and kinds.get(g.code, "gate") != "exit":
                scored.append((g.code not in counted, kinds.get(g.code) != "checkpoint",
                               -load[li] / link.capacity_pps, g.code))
    if not scored:
        return ()
    gate = min(scored)[-1]
    length = min(2700.0, max(1800.0, 120.0 * speed))
    begin = max(start_s + 300.0, -network.arrival.mode_s - length / 2)
    end = min(begin + length, 0.0)
    if end - begin < 600.0:
        return ()
    return (ScreeningSlowdown(gate, begin, end, factor),)

