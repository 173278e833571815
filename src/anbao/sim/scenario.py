"""Scripted incidents of a simulation (:class:`Scenario`) and the default demo script."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from anbao.sim.layout import DeviceSite, ZoneSite, counts_people


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


def default_scenario(*, zones: Sequence[ZoneSite], devices: Sequence[DeviceSite], start_s: float, speed: float,
                     show_end_s: float, seed: int) -> Scenario:
    """Incidents placed so that a demo launched at ``start_s`` shows each of them within minutes.

    Windows last long enough in real time to be seen (a drop-out at least 3 real minutes, beyond the
    60 s freshness window): their simulated length grows with ``speed``.
    * drop-outs 5 simulated minutes after the start: one camera or video counter, one WiFi or
      Bluetooth probe, one gate counter (picked with ``seed``);
    * a smoke detector fault 15 simulated minutes after the start;
    * a surge 10 minutes after the show start (when the floor is full) into the standing zone
      nearest to the stage (or the first standing zone), from the other standing zones.
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
    return Scenario(dropouts=dropouts, smoke_faults=faults, surges=surges)

