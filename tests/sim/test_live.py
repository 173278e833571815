"""The live simulator: the demo venue as a network, and the ticks that feed the real ingest path.

The crowd-flow model itself is tested in ``tests/algorithms/test_crowdflow.py``."""

from __future__ import annotations

import asyncio
import math
import statistics
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anbao.algorithms.crowdflow import Slowdown, Surge, advance, initial_state, lanes_capacity
from anbao.core.errors import Invalid
from anbao.core.time import utcnow
from anbao.crowd.state import zone_states
from anbao.demo.build import build_plan, load_demo
from anbao.event import service as events
from anbao.sensing.models import Reading
from anbao.sim.live import (
    CrowdSurge,
    Dropout,
    GasLeak,
    GateSite,
    Scenario,
    ScreeningSlowdown,
    Simulator,
    SmokeFault,
    Tick,
    ZoneSite,
    build_network,
    default_scenario,
    run,
    run_async,
)
from anbao.venue.models import Device
from anbao.venue.network import add_incidents

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
    # everybody is in: no queue at any gate
    assert all(v["queue"] == 0 and v["wait_s"] == 0 for v in first.values.values() if "queue" in v)
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
    # 安检拥堵 at the busiest checkpoint (the metro side), over the arrival peak; no gas leak by default
    (slow,) = sim.scenario.slowdowns
    assert slow.gate == "AJ-E1" and slow.factor == 0.3
    assert slow.start_s < -sim.network.arrival.mode_s < slow.end_s <= 0 and slow.end_s - slow.start_s >= 1800
    assert slow.start_s >= (sim.start - show).total_seconds() + 300
    assert sim.network.slowdowns[0].gate == "AJ-E1" and sim.scenario.gas_leaks == ()
    t0 = (sim.start - show).total_seconds()
    with_gas = default_scenario(zones=sim.site.zones, devices=sim.site.devices, start_s=t0, speed=10,
                                show_end_s=3 * 3600, seed=1, gas_leak=True)
    (leak,) = with_gas.gas_leaks
    assert leak.sensor.startswith("GAS-") and leak.ppm == 120 and leak.end_s - leak.start_s >= 480
    assert with_gas.slowdowns == ()  # without the network no gate is picked
    with pytest.raises(Invalid, match="NOPE"):
        add_incidents(sim.network, slowdowns=(Slowdown("NOPE", 0.0, 60.0),))


def _counter_of(sim: Simulator, gate: str) -> str:
    return next(d.code for d in sim.site.devices if d.kind == "gate_counter" and d.properties.get("gate") == gate)


def test_screening_slowdown_builds_the_gate_queue_and_wait(db: Session, sessions: sessionmaker[Session],
                                                           demo_event: int) -> None:
    show = _show_start(db, demo_event)
    window = (-2700.0, -1500.0)  # 45 to 25 minutes before the show
    scenario = Scenario(slowdowns=(ScreeningSlowdown("AJ-E1", *window),))
    sim = Simulator(sessions, demo_event, speed=20, start=show - timedelta(minutes=60), seed=3, scenario=scenario)
    counter, sibling = _counter_of(sim, "AJ-E1"), _counter_of(sim, "AJ-E2")
    now = utcnow() - timedelta(minutes=5)
    ticks = [sim.tick(now + timedelta(seconds=15 * i)) for i in range(17)]  # 5 simulated minutes apart
    assert all(t.rejected == 0 for t in ticks)
    times = [(t.sim_time - show).total_seconds() for t in ticks]
    values = [t.values[counter] for t in ticks]
    assert set(values[0]) == {"in", "out", "queue", "wait_s"}
    assert values[0]["queue"] == 0 and values[0]["wait_s"] == 0  # an hour before the show: no queue yet
    during = [i for i, t in enumerate(times) if window[0] < t <= window[1]]  # states after a slowed step
    after = [i for i, t in enumerate(times) if t > window[1]]
    assert len(during) >= 3 and len(after) >= 3
    assert [values[i]["queue"] for i in during] == sorted(values[i]["queue"] for i in during)  # growing
    assert [values[i]["wait_s"] for i in during] == sorted(values[i]["wait_s"] for i in during)
    peak = values[during[-1]]
    assert peak["queue"] >= 1000 and peak["wait_s"] >= 30 * 60  # a thousand persons, half an hour
    other = ticks[during[-1]].values[sibling]
    assert other["queue"] == pytest.approx(peak["queue"], rel=0.2)  # the same line at the lanes next door ...
    assert peak["wait_s"] > 2 * other["wait_s"]  # ... moves faster
    assert 0 < peak["in"] < 0.5 * values[after[0]]["in"]  # 30 % of the lanes' rate while slowed
    assert values[after[0]]["wait_s"] < peak["wait_s"] / 2  # back at full rate, the wait falls at once ...
    assert values[after[-1]]["queue"] < peak["queue"] / 10  # ... and the queue drains
    assert times[-1] > 0 and values[-1]["queue"] == 0 and values[-1]["wait_s"] == 0
    assert ticks[during[-1]].longest_queue is not None and ticks[-1].longest_queue is None
    assert ticks[during[-1]].summary()["longest_queue"]["sensor"] in (counter, sibling)
    row = db.execute(select(Reading).join(Device, Device.id == Reading.device_id).where(Device.code == counter)
                     .order_by(Reading.at.desc()).limit(1)).scalar_one()
    assert row.values == values[-1] and row.value == row.values["in"] + row.values["out"]


def test_scripted_gas_leak(db: Session, sessions: sessionmaker[Session], demo_event: int) -> None:
    show = _show_start(db, demo_event)
    start = show - timedelta(minutes=40)
    t0 = (start - show).total_seconds()
    scenario = Scenario(gas_leaks=(GasLeak("GAS-002", t0 + 150, t0 + 1650, ppm=120.0, rise_s=600.0),))
    sim = Simulator(sessions, demo_event, speed=20, start=start, seed=4, scenario=scenario)
    now = utcnow() - timedelta(minutes=2)
    ticks = [sim.tick(now + timedelta(seconds=15 * i)) for i in range(7)]  # 0, 5, ..., 30 simulated minutes
    gas = [t.sent["GAS-002"] for t in ticks]
    assert gas[0] < 10  # before the leak
    assert 20 < gas[1] < gas[2] < 100  # rising over 10 minutes: a quarter, then three quarters of the way
    base = ticks[0].expected["GAS-002"]  # the background: 1 ppm, 3 in staff areas
    assert [t.expected["GAS-002"] for t in ticks[1:3]] == pytest.approx([base + (120 - base) * f for f in (0.25, 0.75)])
    assert all(100 < g < 140 for g in gas[3:6])  # about 120 ppm CO: above the orange level of 100
    assert gas[6] < 10  # over
    assert all(t.sent["GAS-001"] < 10 for t in ticks)


def test_deterministic_with_a_fixed_seed(sessions: sessionmaker[Session], demo_event: int, db: Session) -> None:
    start = _show_start(db, demo_event) - timedelta(minutes=60)
    now = utcnow() - timedelta(seconds=30)

    def sent(seed: int) -> list[dict[str, float]]:
        sim = Simulator(sessions, demo_event, speed=10, start=start, seed=seed)
        return [sim.tick(now + timedelta(seconds=10 * i)).sent for i in range(2)]

    a, b, c = sent(11), sent(11), sent(12)
    assert a == b and a != c


def test_ticks_report_their_cost_and_who_reports(sessions: sessionmaker[Session], demo_event: int) -> None:
    """The figures a tick gives; how fast ticks are is measured by bench/sim_tick.py, not here."""
    sim = Simulator(sessions, demo_event, speed=10, seed=1)
    now = utcnow() - timedelta(seconds=120)
    ticks = [sim.tick(now + timedelta(seconds=3 * i)) for i in range(5)]
    assert len(sim.reporting) >= 80 and "UAV-001" not in sim.reporting and len(sim.network.nodes) >= 40
    assert all(0 < t.model_ms <= t.total_ms for t in ticks)


def test_run_in_a_thread_and_as_a_task(sessions: sessionmaker[Session], demo_event: int) -> None:
    seen: list[Tick] = []
    sim = run(sessions, demo_event, speed=600, duration_s=200, on_tick=seen.append, seed=4, scenario=Scenario())
    assert len(seen) == 2 and seen[-1].sim_time >= sim.start + timedelta(seconds=200)
    assert seen[-1].summary()["readings"] == seen[-1].accepted > 0

    seen_async: list[Tick] = []
    sim2 = asyncio.run(run_async(sessions, demo_event, speed=600, duration_s=200, on_tick=seen_async.append,
                                 seed=4, scenario=Scenario()))
    assert len(seen_async) == 2 and math.isclose(sim2.state.pending, sim.state.pending, rel_tol=0.05)


def test_units_patrol_around_their_posts(db: Session, sessions: sessionmaker[Session], demo_event: int) -> None:
    """Every unit on duty reports a position each tick, on a loop near a post, at walking or driving pace."""
    from pyproj import Geod

    from anbao.incident import service as incidents
    from anbao.incident.models import UnitPosition
    from anbao.org.models import Unit
    from anbao.venue.models import Post

    show = _show_start(db, demo_event)
    sim = Simulator(sessions, demo_event, speed=10, start=show - timedelta(minutes=30), seed=5)
    on_duty = db.execute(select(func.count()).select_from(Unit).where(Unit.event_id == demo_event,
                                                                      Unit.status != "off_duty")).scalar_one()
    assert len(sim.patrols.loops) == on_duty > 10
    db.rollback()  # SQLite: let the simulator's session write
    now = utcnow() - timedelta(seconds=20)
    first, second = sim.tick(now), sim.tick(now + timedelta(seconds=3))
    assert first.rejected == second.rejected == 0
    assert db.execute(select(func.count()).select_from(UnitPosition)
                      .where(UnitPosition.event_id == demo_event)).scalar_one() == 2 * on_duty
    latest = {p["unit_id"]: p for p in incidents.latest_positions(db=db, event_id=demo_event)}
    assert len(latest) == on_duty
    geod = Geod(ellps="WGS84")
    posts = db.execute(select(Post.lon, Post.lat).where(Post.event_id == demo_event)).all()
    dt = 3 * 10  # real seconds x speed = simulated seconds between the two ticks
    for loop in sim.patrols.loops:
        p = latest[loop.unit_id]
        # on its loop: radius from the centre, and the centre is a post
        assert geod.inv(loop.lon, loop.lat, p["lon"], p["lat"])[2] == pytest.approx(loop.radius_m, abs=0.01)
        assert (loop.lon, loop.lat) in {(x, y) for x, y in posts}
        # it moved along the loop: the chord of the arc walked in dt
        before = loop.at(sim.t_s - dt)
        chord = geod.inv(before[0], before[1], p["lon"], p["lat"])[2]
        arc = loop.speed_m_s * dt
        expected = 2 * loop.radius_m * math.sin(min(math.pi, arc / (2 * loop.radius_m)))
        assert chord == pytest.approx(expected, rel=1e-3, abs=0.05)
    # posts are shared out: no post gets every unit
    centres = [(lp.lon, lp.lat) for lp in sim.patrols.loops]
    assert max(centres.count(c) for c in centres) < len(centres) / 3


def test_scripted_calls_and_simulated_responders(db: Session, sessions: sessionmaker[Session],
                                                  demo_event: int) -> None:
    """A call is reported once at its time; a unit sent to it accepts, heads there, arrives and finishes."""
    from anbao.alert import rules
    from anbao.incident import lifecycle
    from anbao.incident import service as incident_service
    from anbao.incident.models import Assignment, Incident
    from anbao.org.models import Unit
    from anbao.sim.calls import Call
    from anbao.venue.models import Zone

    rules.ensure_defaults(db=db, event_id=demo_event)
    db.commit()
    show = _show_start(db, demo_event)
    calls = (Call(30, "medical", "ordinary", "FLOOR-B", "call_110", "内场B区观众晕倒"),)
    sim = Simulator(sessions, demo_event, speed=10, start=show - timedelta(minutes=30), seed=5, calls=calls)
    db.rollback()
    now = utcnow() - timedelta(seconds=120)
    sim.tick(now)
    assert db.execute(select(func.count()).select_from(Incident)).scalar_one() == 0  # not due yet
    db.rollback()
    sim.tick(now + timedelta(seconds=4))  # 40 simulated seconds later: due
    inc = db.execute(select(Incident)).scalars().one()
    db.rollback()
    assert (inc.type, inc.source, inc.status, inc.police_type) == ("medical", "call_110", "new", "medical")
    floor_b = db.execute(select(Zone.id).where(Zone.event_id == demo_event, Zone.code == "FLOOR-B")).scalar_one()
    assert inc.zone_id == floor_b
    assert [m.code for m in lifecycle.matches(db=db, incident=inc, now=now)] == ["YA-YL"]
    # the dispatcher sends the nearest patrolling unit on foot
    loop = min(sim.patrols.loops, key=lambda lp: abs(lp.lat - inc.lat) + abs(lp.lon - inc.lon))
    lifecycle.assign(db=db, incident=inc, unit_id=loop.unit_id, by="test", now=now + timedelta(seconds=5))
    db.commit()
    statuses = []
    for k in range(2, 40):
        sim.tick(now + timedelta(seconds=4 * k))
        db.expire_all()
        statuses.append(db.get(Incident, inc.id).status)
        db.rollback()  # SQLite: a reading transaction holds the write lock (BEGIN IMMEDIATE)
        if statuses[-1] == "on_scene":
            break
    assert statuses[0] == "en_route" and statuses[-1] == "on_scene", statuses
    a = db.execute(select(Assignment).where(Assignment.incident_id == inc.id)).scalars().one()
    assert a.en_route_at is not None and a.on_scene_at is not None
    pos = {p["unit_id"]: p for p in incident_service.latest_positions(db=db, event_id=demo_event)}[loop.unit_id]
    assert abs(pos["lon"] - inc.lon) < 1e-6 and abs(pos["lat"] - inc.lat) < 1e-6  # it stands at the incident
    db.rollback()
    # 10 simulated minutes on scene later the unit is done and free again
    for k in range(40, 70):
        sim.tick(now + timedelta(seconds=4 * k))
    db.expire_all()
    assert db.get(Assignment, a.id).status == "released"
    assert db.get(Unit, loop.unit_id).status == "available"
    sim.calls.report(db, now, sim.t_s + 10_000)  # nothing left: a call is reported once
    assert db.execute(select(func.count()).select_from(Incident)).scalar_one() == 1
