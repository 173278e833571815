"""The live simulator: the crowd-flow model (pure) and the ticks that feed the real ingest path."""

from __future__ import annotations

import asyncio
import math
import statistics
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anbao.algorithms.crowdflow import (
    LEVEL_RATE_PER_M_MIN,
    ArrivalCurve,
    FlowState,
    GateShare,
    Link,
    Network,
    Node,
    Surge,
    advance,
    initial_state,
    lanes_capacity,
    step,
    width_capacity,
)
from anbao.core.time import utcnow
from anbao.event import service as events
from anbao.sensing.models import Reading
from anbao.sensing.state import zone_states
from anbao.sim.demo import build_plan, load_demo
from anbao.sim.live import (
    CrowdSurge,
    Dropout,
    GateSite,
    Scenario,
    Simulator,
    SmokeFault,
    Tick,
    ZoneSite,
    build_network,
    run,
    run_async,
)
from anbao.venue.models import Device

# --------------------------------------------------------------------------- the pure model


def _toy(*, gate_pps: float = 1.0, attendance: float = 6000, surges: tuple[Surge, ...] = (),
         headways: dict[str, float] | None = None, seed: int = 1) -> Network:
    """Street -> plaza -> (gate) -> hall -> floor / seats."""
    nodes = (Node("STREET", 5000, 70), Node("PLAZA", 4000, 60), Node("HALL", 2000, 40), Node("FLOOR", 500, 22),
             Node("FLOOR2", 500, 22), Node("SEATS", 3000, 50))
    links = (Link("STREET", "PLAZA"), Link("PLAZA", "STREET"),
             Link("PLAZA", "HALL", gate_pps, (GateShare("G1", 1.0, True),), "gate"),
             Link("HALL", "PLAZA", width_capacity(6), (GateShare("G1", 1.0, False),), "gate"),
             Link("HALL", "FLOOR", width_capacity(10)), Link("FLOOR", "HALL", width_capacity(10)),
             Link("HALL", "FLOOR2", width_capacity(10)), Link("FLOOR2", "HALL", width_capacity(10)),
             Link("FLOOR", "FLOOR2", width_capacity(20)), Link("FLOOR2", "FLOOR", width_capacity(20)),
             Link("HALL", "SEATS", width_capacity(10)), Link("SEATS", "HALL", width_capacity(10)))
    return Network(nodes, links, {"STREET": 1.0}, {"FLOOR": 1.0, "FLOOR2": 1.0, "SEATS": 2.0},
                   attendance=attendance, show_end_s=3600, surges=surges, headways=headways or {}, seed=seed)


def _run(net: Network, until_s: float, dt_s: float = 2.0) -> list[FlowState]:
    states = [initial_state(net)]
    while states[-1].t_s < until_s:
        states.append(step(states[-1], dt_s))
    return states


def test_green_guide_capacities() -> None:
    assert width_capacity(1.0) == pytest.approx(82 / 60)
    assert width_capacity(1.0, stair=True) == pytest.approx(66 / 60)
    assert width_capacity(6.0) == pytest.approx(6 * LEVEL_RATE_PER_M_MIN / 60)
    assert lanes_capacity(8) == pytest.approx(8 * 660 / 3600)
    with pytest.raises(ValueError):
        width_capacity(-1.0)


def test_arrival_curve_peaks_45_to_30_minutes_before_the_show() -> None:
    curve = ArrivalCurve()
    grid = np.arange(-curve.window_s, 0.0, 10.0)
    rates = [curve.rate(t) for t in grid]
    peak = grid[int(np.argmax(rates))]
    assert -45 * 60 <= peak <= -30 * 60
    assert curve.cumulative(-curve.window_s) == 0.0 and curve.cumulative(0.0) == 1.0
    cum = [curve.cumulative(t) for t in grid]
    assert all(b >= a for a, b in zip(cum, cum[1:], strict=False))
    assert sum(rates) * 10.0 == pytest.approx(1.0, abs=1e-3)  # the rate is the curve's derivative
    assert 0.15 < curve.cumulative(-75 * 60) < 0.3  # about a quarter in 75 minutes before the show


def test_people_are_conserved_at_every_step() -> None:
    net = _toy(surges=(Surge("FLOOR", 300, 900, 0.5),), headways={"STREET": 240.0})
    states = _run(net, 5400)
    assert states[-1].egress and states[-1].departed == pytest.approx(6000)
    for s in states:
        assert s.pending + s.present + s.departed == pytest.approx(net.attendance, rel=1e-9)
        assert float(s.occupancy.min()) >= -1e-9 and s.pending >= 0 and float(s.held.min()) >= 0
    assert any(s.surge_status == (1,) for s in states) and states[-1].surge_status == (2,)


def test_link_flow_never_exceeds_capacity() -> None:
    net = _toy(gate_pps=0.8)
    capped = [(i, lk.capacity_pps) for i, lk in enumerate(net.links) if lk.capacity_pps is not None]
    for dt in (2.0, 5.0):
        s = initial_state(net)
        saturated = 0
        while s.t_s < 5400:
            s = step(s, dt)
            for i, cap in capped:
                assert s.last_flow[i] <= cap * dt + 1e-9
                saturated += s.last_flow[i] >= cap * dt - 1e-9 and cap < 1
        assert saturated > 100  # the 0.8 person/s gate ran at capacity for a long while


def test_queues_form_when_demand_exceeds_gate_capacity() -> None:
    narrow, wide = _toy(gate_pps=lanes_capacity(4)), _toy(gate_pps=lanes_capacity(40))
    gate = narrow.link_index("PLAZA", "HALL")
    peak_demand = narrow.attendance * max(narrow.arrival.rate(t) for t in range(-9000, 0, 60))
    assert peak_demand > narrow.links[gate].capacity_pps  # about 1.6 persons/s against 0.73
    narrow_run = _run(narrow, 3500, dt_s=5.0)
    narrow_q = max(s.waiting(gate) for s in narrow_run)
    wide_q = max(s.waiting(gate) for s in _run(wide, 0, dt_s=5.0))
    assert narrow_q > 1000 and wide_q < 100
    # the queue is in the plaza, in front of the gate, and it has cleared an hour after the show start
    late = narrow_run[-1]
    assert late.counts()["PLAZA"] < 1 and late.gate_flows()["G1"][0] == pytest.approx(6000, rel=1e-6)


def test_model_is_deterministic_given_the_seed() -> None:
    a, b, c = (_run(_toy(seed=seed, headways={"STREET": 300.0}), -1800, dt_s=5.0)[-1] for seed in (7, 7, 8))
    assert np.array_equal(a.occupancy, b.occupancy) and a.pending == b.pending
    assert not np.array_equal(a.occupancy, c.occupancy)


def test_train_pulses_arrive_all_at_once() -> None:
    s = advance(initial_state(_toy(headways={"STREET": 240.0})), 9000 - 3600)  # an hour before the show
    street = []
    for _ in range(240):
        s = step(s, 1.0)
        street.append(s.counts()["STREET"])
    jumps = [b - a for a, b in zip(street, street[1:], strict=False)]
    assert max(jumps) > 200  # a train of people in one step
    assert sum(j > 50 for j in jumps) == 1  # once per headway


# --------------------------------------------------------------------------- the demo venue as a network


def _demo_site() -> tuple[list[ZoneSite], list[GateSite]]:
    plan = build_plan()
    zones = [ZoneSite(z.code, z.kind, z.ring, z.shape, z.shape.area, (z.seated or 0) + (z.standing or 0), z.parent)
             for z in plan.zones]
    gates = [GateSite(g.code, g.data["kind"], g.zone, g.x, g.y, g.data.get("lanes", 1), g.data["width_m"],
                      g.data.get("stair", False), g.data["direction"]) for g in plan.gates]
    return zones, gates


def test_demo_network_follows_the_ring_order() -> None:
    zones, gates = _demo_site()
    net = build_network(zones, gates, attendance=50_000)
    codes = {n.code for n in net.nodes}
    assert "CORE" not in codes and "STAGE" not in codes and "SVC-CMD" not in codes and "FLOOR-A" in codes
    by_gate = {g.code: (lk.source, lk.target, g.inward) for lk in net.links for g in lk.gates}
    assert by_gate["G01"][:2] in {("SCR-N", "CONC-N"), ("CONC-N", "SCR-N")}
    assert by_gate["AJ-N1"] == ("PLZ-NW", "SCR-N", True)
    assert by_gate["EX-U01"] == ("US-N", "CONC-N", False)
    assert by_gate["EX-B01"][1].startswith("PLZ-")
    gate = net.links[net.link_index("SCR-N", "CONC-N")]
    assert gate.capacity_pps == pytest.approx(4 * lanes_capacity(8))  # four gates of eight turnstiles
    # the screening area and the concourse are fenced: no open way in from the plaza
    assert all(lk.kind == "gate" for lk in net.links if lk.target.startswith(("SCR-", "CONC-"))
               and lk.source.startswith("PLZ-"))
    assert set(net.destinations) == {f"FLOOR-{x}" for x in "ABCDEF"} | {"LS-N", "LS-E", "LS-W", "US-N", "US-E",
                                                                       "US-W"}
    assert net.origins["METRO"] > 0.3 and sum(net.origins.values()) == pytest.approx(1.0)
    route = net.route("METRO", "FLOOR-A")
    assert route[0] == "METRO" and route[-1] == "FLOOR-A"
    assert any(c.startswith("SCR-") for c in route) and any(c.startswith("CONC-") for c in route)


def test_surge_drives_the_target_over_4_persons_per_m2_in_its_window() -> None:
    zones, gates = _demo_site()
    standing = tuple(z.code for z in zones if z.kind == "standing")
    window = (600.0, 2400.0)
    surge = Surge("FLOOR-A", *window, fraction=0.35, sources=tuple(c for c in standing if c != "FLOOR-A"))
    net = build_network(zones, gates, attendance=50_000, surges=(surge,), seed=3)
    s = advance(initial_state(net), net.arrival.window_s + 500, max_dt_s=5.0)  # 500 s into the show
    before = s.densities()["FLOOR-A"]
    assert 1.5 < before < 2.0  # the floor is full at the planning density (HSG195: 2 persons/m2)
    peak, crossed_at = 0.0, None
    while s.t_s < window[1]:
        s = advance(s, 30.0)
        d = s.densities()["FLOOR-A"]
        peak = max(peak, d)
        if crossed_at is None and d > 4.0:
            crossed_at = s.t_s
    assert crossed_at is not None and window[0] < crossed_at < window[0] + 600  # within ten minutes
    assert 4.0 < peak <= net.jam_density + 1e-9
    s = advance(s, 900.0)
    assert s.densities()["FLOOR-A"] < 2.2  # given back after the window
    assert s.total == pytest.approx(50_000)


# --------------------------------------------------------------------------- the simulator on the demo event


@pytest.fixture
def demo_event(db: Session) -> int:
    summary = load_demo(db=db)
    db.commit()
    return summary.event_id


def _show_start(db: Session, event_id: int) -> datetime:
    event = events.get(db=db, event_id=event_id)
    assert event is not None
    return min(s.start for s in event.sessions)


def _readings(db: Session, event_id: int, codes: tuple[str, ...] | None = None) -> int:
    stmt = select(func.count()).select_from(Reading).where(Reading.event_id == event_id)
    if codes is not None:
        stmt = stmt.join(Device, Device.id == Reading.device_id).where(Device.code.in_(codes))
    return int(db.execute(stmt).scalar_one())


def test_ticks_store_noisy_readings_through_ingest(db: Session, sessions: sessionmaker[Session],
                                                    demo_event: int) -> None:
    show = _show_start(db, demo_event)
    silent = ("VC-001", "WIFI-005", "GC-001")
    start = show - timedelta(minutes=50)
    t0 = (start - show).total_seconds()
    scenario = Scenario(dropouts=(Dropout(silent, t0 + 60, t0 + 3600),))
    sim = Simulator(sessions, demo_event, speed=10, start=start, seed=5, scenario=scenario)
    now = utcnow() - timedelta(seconds=30)
    ticks = [sim.tick(now + timedelta(seconds=10 * i)) for i in range(3)]
    assert [t.rejected for t in ticks] == [0, 0, 0]
    assert sim.sim_time == start + timedelta(seconds=2 * 10 * 10)  # speed x the real seconds since the first tick
    assert _readings(db, demo_event) == sum(t.accepted for t in ticks) > 3 * 60
    # the dropped-out sensors reported at the first tick (before the drop-out), then fell silent
    assert ticks[0].silent == () and ticks[1].silent == ticks[2].silent == tuple(sorted(silent))
    assert _readings(db, demo_event, silent) == len(silent)
    assert not set(silent) & set(ticks[2].sent)

    last = ticks[-1]
    counts = [c for c in last.sent if c.startswith(("VC-", "CAM-", "WIFI-", "BT-"))]
    assert len(counts) > 40
    off = []
    for code in counts:
        expected, sent = last.expected[code], last.sent[code]
        assert abs(sent - expected) <= 0.1 * expected + 1, code
        if expected > 100:
            off.append(sent - expected)
    assert len(off) > 10 and statistics.pstdev(off) > 0  # noisy, not a copy of the model
    assert last.counts["FLOOR-A"] > 100 and last.counts["CORE"] == pytest.approx(
        sum(v for k, v in last.counts.items() if k.startswith(("FLOOR-", "LS-", "US-", "TRACK", "PIT"))))
    assert abs(last.sent["BT-001"] * 0.6 - last.counts["LS-N"]) <= 0.1 * last.counts["LS-N"] + 1

    states = {s.code: s for s in zone_states(db=db, event_id=demo_event, now=last.at)}
    assert states["FLOOR-A"].density is not None and states["FLOOR-A"].density > 0.1
    assert states["LS-N"].density is not None and states["LS-N"].density > 0.1
    assert states["METRO"].count is not None
    assert sum(1 for s in states.values() if s.density) >= 15
    # the silent camera is stale in its zone after a minute of real time
    later = zone_states(db=db, event_id=demo_event, now=ticks[0].at + timedelta(seconds=75))
    assert "VC-001" in next(s for s in later if s.code == "FLOOR-A").sensors_stale


def test_gate_counters_smoke_fault_and_environment(db: Session, sessions: sessionmaker[Session],
                                                   demo_event: int) -> None:
    show = _show_start(db, demo_event)
    start = show - timedelta(minutes=40)
    t0 = (start - show).total_seconds()
    scenario = Scenario(smoke_faults=(SmokeFault("SMK-004", t0, t0 + 3600),))
    sim = Simulator(sessions, demo_event, speed=20, start=start, seed=9, scenario=scenario)
    now = utcnow() - timedelta(seconds=60)
    ticks = [sim.tick(now + timedelta(seconds=15 * i)) for i in range(4)]
    assert all(t.sent["SMK-004"] >= 4.0 for t in ticks)  # above the alarm obscuration of 4 %/m
    assert all(t.sent["SMK-005"] < 1.0 for t in ticks)
    assert all(0.0 <= t.sent["GAS-001"] < 10 and 5 < t.sent["TEMP-001"] < 40 for t in ticks)
    assert ticks[0].sent["GC-005"] == 0  # no interval yet
    through = sum(t.sent[f"GC-{n:03d}"] for t in ticks[1:] for n in range(1, 15))
    assert through > 500  # 15 real seconds x 20 = 5 simulated minutes per tick, 40 minutes before the show
    row = db.execute(select(Reading).join(Device, Device.id == Reading.device_id)
                     .where(Device.code == "GC-005").order_by(Reading.at.desc()).limit(1)).scalar_one()
    assert row.values is not None and row.value == row.values["in"] + row.values["out"]


def test_scripted_surge_raises_the_floor_block_to_orange(db: Session, sessions: sessionmaker[Session],
                                                         demo_event: int) -> None:
    show = _show_start(db, demo_event)
    scenario = Scenario(surges=(CrowdSurge("FLOOR-A", 600.0, 2400.0),))
    sim = Simulator(sessions, demo_event, speed=20, start=show + timedelta(minutes=9), seed=2, scenario=scenario)
    now = utcnow() - timedelta(seconds=60)
    first = sim.tick(now)
    assert first.sent["VC-001"] / 851 < 2.2
    last = sim.tick(now + timedelta(seconds=30))  # ten simulated minutes later, nine into the surge
    assert last.counts["FLOOR-A"] / 851 > 4.0
    state = next(s for s in zone_states(db=db, event_id=demo_event, now=last.at) if s.code == "FLOOR-A")
    assert state.density is not None and state.density > 4.0 and state.level in ("orange", "red")


def test_default_scenario_and_clock(db: Session, sessions: sessionmaker[Session], demo_event: int) -> None:
    show = _show_start(db, demo_event)
    sim = Simulator(sessions, demo_event, speed=10)
    assert sim.start == show - timedelta(minutes=75) and sim.sim_time == sim.start and sim.phase == "ingress"
    assert 0.15 * 50_000 < sim.state.present < 0.35 * 50_000
    (drop,) = sim.scenario.dropouts
    assert len(drop.sensors) == 3 and drop.end_s - drop.start_s >= 180 * 10
    assert sim.scenario.smoke_faults[0].sensor.startswith("SMK-")
    assert sim.scenario.surges[0].zone == "FLOOR-A"  # the block nearest the stage
    assert sim.period_s == 3.0


def test_deterministic_with_a_fixed_seed(sessions: sessionmaker[Session], demo_event: int, db: Session) -> None:
    start = _show_start(db, demo_event) - timedelta(minutes=60)
    now = utcnow() - timedelta(seconds=30)

    def sent(seed: int) -> list[dict[str, float]]:
        sim = Simulator(sessions, demo_event, speed=10, start=start, seed=seed)
        return [sim.tick(now + timedelta(seconds=10 * i)).sent for i in range(2)]

    a, b, c = sent(11), sent(11), sent(12)
    assert a == b and a != c


def test_a_tick_is_fast(sessions: sessionmaker[Session], demo_event: int) -> None:
    sim = Simulator(sessions, demo_event, speed=10, seed=1)
    now = utcnow() - timedelta(seconds=120)
    ticks = [sim.tick(now + timedelta(seconds=3 * i)) for i in range(20)]
    assert len(sim.reporting) >= 80 and "UAV-001" not in sim.reporting and len(sim.network.nodes) >= 40
    median = statistics.median(t.total_ms for t in ticks)
    assert median < 100, f"median tick {median:.1f} ms"
    assert statistics.median(t.model_ms for t in ticks) < 20


def test_run_in_a_thread_and_as_a_task(sessions: sessionmaker[Session], demo_event: int) -> None:
    seen: list[Tick] = []
    sim = run(sessions, demo_event, speed=600, duration_s=200, on_tick=seen.append, seed=4, scenario=Scenario())
    assert len(seen) == 2 and seen[-1].sim_time >= sim.start + timedelta(seconds=200)
    assert seen[-1].summary()["readings"] == seen[-1].accepted > 0

    seen_async: list[Tick] = []
    sim2 = asyncio.run(run_async(sessions, demo_event, speed=600, duration_s=200, on_tick=seen_async.append,
                                 seed=4, scenario=Scenario()))
    assert len(seen_async) == 2 and math.isclose(sim2.state.pending, sim.state.pending, rel_tol=0.05)
