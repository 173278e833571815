"""The crowd-flow model (pure): capacities, arrivals, conservation, queues at gates, slowdowns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from anbao.algorithms.crowdflow import (
    LEVEL_RATE_PER_M_MIN,
    ArrivalCurve,
    FlowState,
    GateShare,
    Link,
    Network,
    Node,
    Slowdown,
    Surge,
    advance,
    initial_state,
    lanes_capacity,
    step,
    width_capacity,
)


def _toy(*, gate_pps: float = 1.0, attendance: float = 6000, surges: tuple[Surge, ...] = (),
         headways: dict[str, float] | None = None, seed: int = 1, gates: dict[str, float] | None = None,
         slowdowns: tuple[Slowdown, ...] = ()) -> Network:
    """Street -> plaza -> (gate G1, or ``gates``: code -> capacity share) -> hall -> floor / seats."""
    shares = gates or {"G1": 1.0}
    nodes = (Node("STREET", 5000, 70), Node("PLAZA", 4000, 60), Node("HALL", 2000, 40), Node("FLOOR", 500, 22),
             Node("FLOOR2", 500, 22), Node("SEATS", 3000, 50))
    links = (Link("STREET", "PLAZA"), Link("PLAZA", "STREET"),
             Link("PLAZA", "HALL", gate_pps, tuple(GateShare(c, w, True) for c, w in shares.items()), "gate"),
             Link("HALL", "PLAZA", width_capacity(6), tuple(GateShare(c, w, False) for c, w in shares.items()),
                  "gate"),
             Link("HALL", "FLOOR", width_capacity(10)), Link("FLOOR", "HALL", width_capacity(10)),
             Link("HALL", "FLOOR2", width_capacity(10)), Link("FLOOR2", "HALL", width_capacity(10)),
             Link("FLOOR", "FLOOR2", width_capacity(20)), Link("FLOOR2", "FLOOR", width_capacity(20)),
             Link("HALL", "SEATS", width_capacity(10)), Link("SEATS", "HALL", width_capacity(10)))
    return Network(nodes, links, {"STREET": 1.0}, {"FLOOR": 1.0, "FLOOR2": 1.0, "SEATS": 2.0},
                   attendance=attendance, show_end_s=3600, surges=surges, headways=headways or {}, seed=seed,
                   slowdowns=slowdowns)


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



# --------------------------------------------------------------------------- queues at gates and slowdowns


def test_queue_is_the_backlog_at_a_saturated_gate_and_zero_otherwise() -> None:
    narrow = _toy(gate_pps=lanes_capacity(4))  # 0.73 persons/s against a peak demand of about 1.6
    gate = narrow.link_index("PLAZA", "HALL")
    states = _run(narrow, 3500, dt_s=5.0)
    assert states[0].queue(gate) == 0 and states[-1].queue(gate) == 0  # nobody there yet / everybody in
    peak = max(states, key=lambda s: s.queue(gate))
    # the backlog is most of the people heading for the gate; the rest are still walking to it
    assert 1000 < peak.queue(gate) <= peak.waiting(gate) < 1.1 * peak.queue(gate)
    q = peak.gate_queues()["G1"]
    assert q.inward and q.persons == pytest.approx(peak.queue(gate))
    assert q.service_pps == pytest.approx(lanes_capacity(4)) == q.capacity_pps
    assert q.wait_s == pytest.approx(q.persons / q.service_pps)
    assert 30 * 60 < q.wait_s < 60 * 60
    # a gate that keeps up has no queue at all, however many walk towards it
    wide = _toy(gate_pps=lanes_capacity(40))
    wide_states = _run(wide, 0, dt_s=5.0)
    assert max(s.queue(gate) for s in wide_states) == 0
    assert max(s.waiting(gate) for s in wide_states) > 50
    idle = wide_states[-1].gate_queues()["G1"]
    assert idle.persons == 0 and idle.wait_s == 0


def test_a_screening_slowdown_builds_a_queue_and_wait_that_fall_after_it() -> None:
    window = (-2700.0, -1500.0)  # 45 to 25 minutes before the show: the arrival peak
    plain = _toy(gate_pps=lanes_capacity(12))  # 2.2 persons/s keeps up with the peak
    slowed = _toy(gate_pps=lanes_capacity(12), slowdowns=(Slowdown("G1", *window, factor=0.3),))
    gate = plain.link_index("PLAZA", "HALL")
    assert max(s.queue(gate) for s in _run(plain, 1800, dt_s=5.0)) == 0
    states = _run(slowed, 1800, dt_s=5.0)
    queues = [(s.t_s, s.gate_queues()["G1"]) for s in states]
    assert all(q.persons == 0 for t, q in queues if t <= window[0])  # no queue before, nor in the early hours
    during = [q for t, q in queues if window[0] < t <= window[1]]
    assert all(q.capacity_pps == pytest.approx(0.3 * lanes_capacity(12)) for q in during)
    thirds = [during[len(during) // 3], during[2 * len(during) // 3], during[-1]]
    assert thirds[0].persons < thirds[1].persons < thirds[2].persons  # growing through the window
    assert thirds[0].wait_s < thirds[1].wait_s < thirds[2].wait_s
    assert thirds[2].persons > 600 and thirds[2].wait_s > 20 * 60  # tens of minutes
    after = [(t, q) for t, q in queues if t > window[1]]
    assert after[0][1].wait_s < thirds[2].wait_s / 3  # the gate serves at full rate again
    assert all(b.persons <= a.persons + 1e-6 for (_, a), (_, b) in zip(after, after[1:], strict=False))
    cleared = next(t for t, q in after if q.persons == 0)
    assert cleared < 0  # drained before the show starts
    assert states[-1].gate_flows()["G1"][0] == pytest.approx(6000, rel=1e-6)
    assert all(s.total == pytest.approx(6000, rel=1e-9) for s in states)


def test_a_slowed_gate_among_parallel_gates_has_the_longer_wait() -> None:
    window = (-2700.0, -1500.0)
    net = _toy(gate_pps=lanes_capacity(12), gates={"G1a": 0.5, "G1b": 0.5},
               slowdowns=(Slowdown("G1a", *window, factor=0.1),))
    gate = net.link_index("PLAZA", "HALL")
    factor, split = net.service(-2000.0)
    assert factor[gate] == pytest.approx(1 - 0.5 * 0.9) and split.sum() == pytest.approx(2.0)  # in and out link
    s = advance(initial_state(net), net.arrival.window_s - 1600.0, max_dt_s=5.0)  # late in the window
    a, b = s.gate_queues()["G1a"], s.gate_queues()["G1b"]
    assert a.persons == pytest.approx(b.persons) and a.persons > 50  # the line splits as the gates were planned
    assert a.service_pps == pytest.approx(0.1 * b.service_pps)  # ... but the slowed one serves 10 %
    assert a.wait_s == pytest.approx(b.wait_s / 0.1)
    before = advance(initial_state(net), net.arrival.window_s - 2800.0, max_dt_s=5.0)
    through_a, through_b = before.gate_flows()["G1a"][0], before.gate_flows()["G1b"][0]
    assert through_a == pytest.approx(through_b)
    end = advance(s, 4000.0)
    (in_a, _), (in_b, _) = end.gate_flows()["G1a"], end.gate_flows()["G1b"]
    assert in_a + in_b == pytest.approx(6000, rel=1e-6) and in_a < in_b  # the slowed gate let fewer through


def test_slowdowns_are_checked() -> None:
    with pytest.raises(ValueError, match="factor"):
        Slowdown("G1", 0.0, 60.0, factor=0.0)
    with pytest.raises(ValueError, match="start_s < end_s"):
        Slowdown("G1", 60.0, 60.0)
    with pytest.raises(ValueError, match="not a gate"):
        _toy(slowdowns=(Slowdown("NOPE", 0.0, 60.0),))
    net = _toy()
    factor, split = net.service(0.0)
    assert np.all(factor == 1.0) and list(split) == [1.0, 1.0]
    assert math.isfinite(initial_state(net).gate_queues()["G1"].wait_s)
