"""The macroscopic evacuation model: conservation, capacities, route choice, time cap, errors, speed.

Expected figures are worked out by hand in each test from the model's rules (module docstring of
anbao.algorithms.evacuation): a saturated exit passes its capacity, so a room that queues from the
start empties in about ``(N - 0.5) / capacity`` seconds.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from anbao.algorithms.corridor import stadium_network as stadium
from anbao.algorithms.crowdnet import width_capacity
from anbao.algorithms.evacuation import (
    EvacLink,
    EvacNode,
    EvacuationError,
    critical_density,
    evacuate,
)


def room(people: float = 600.0, capacity: float = 2.0, length: float = 10.0) -> tuple[list[EvacNode], list[EvacLink]]:
    return [EvacNode("R", people, 400.0, length)], [EvacLink("R", None, capacity, name="E")]


def test_single_exit_passes_its_capacity_and_no_more():
    nodes, links = room(600.0, 2.0)
    result = evacuate(nodes, links)
    e = result.exit("E")
    assert result.finished and result.warning is None
    # the walkers reach the door far faster than it serves (600 over 10 m): a queue from the start
    assert result.clearance_s == pytest.approx((600 - 0.5) / 2.0, rel=0.01)
    assert e.peak_per_s == pytest.approx(2.0, rel=1e-9)
    assert e.mean_per_s == pytest.approx(2.0, rel=0.01)
    assert e.persons == pytest.approx(600.0, abs=1e-6)
    assert e.first_s is not None and e.first_s < 1.0
    assert result.links[0].max_queue > 400  # most of the room waits at the door
    assert result.links[0].max_wait_s == pytest.approx(result.links[0].max_queue / 2.0)


def test_a_link_never_passes_more_than_capacity_per_step():
    nodes = [EvacNode("A", 500.0, 300.0, 5.0), EvacNode("B", 0.0, 300.0, 5.0)]
    links = [EvacLink("A", "B", 1.5, name="door"), EvacLink("B", None, None, name="open")]
    for dt in (1.0, 0.5, 2.0):
        result = evacuate(nodes, links, dt_s=dt, sample_s=dt)
        steps = np.diff(np.asarray(result.evacuated_series))
        assert steps.max() <= 1.5 * dt * (1 + 1e-9)  # the open exit gets no more than the door lets through
        assert result.exit("open").peak_per_s <= 1.5 + 1e-9
        assert result.clearance_s == pytest.approx(500 / 1.5, rel=0.02)


def test_people_are_conserved_on_a_venue_network():
    nodes, links = stadium(20_000.0)
    result = evacuate(nodes, links)
    assert result.total == pytest.approx(20_000.0)
    assert result.evacuated + result.remaining == pytest.approx(result.total, abs=1e-6)
    assert result.finished and result.remaining < 1e-5
    assert sum(e.persons for e in result.exits) == pytest.approx(result.evacuated, rel=1e-12)
    # what goes into a zone comes out of it
    for nd in nodes:
        into = sum(lk.persons for lk in result.links if lk.target == nd.code)
        out = sum(lk.persons for lk in result.links if lk.source == nd.code)
        assert nd.population + into == pytest.approx(out, abs=1e-6)
    # the time series: every sample holds the zones plus the evacuated plus those walking along links
    pops = np.asarray(result.populations)
    assert pops.shape == (len(result.times_s), len(nodes))
    assert np.all(pops.sum(axis=1) + np.asarray(result.evacuated_series) <= result.total + 1e-6)
    assert list(result.times_s[:4]) == [0.0, 10.0, 20.0, 30.0]
    assert result.times_s[-1] == pytest.approx(result.steps * result.dt_s)


def test_time_series_adds_up_without_walks_along_links():
    nodes = [EvacNode("A", 300.0, 200.0, 20.0), EvacNode("B", 100.0, 200.0, 20.0)]
    links = [EvacLink("A", "B", 3.0), EvacLink("B", None, 2.0, name="X")]
    result = evacuate(nodes, links, sample_s=5.0)
    totals = np.asarray(result.populations).sum(axis=1) + np.asarray(result.evacuated_series)
    assert np.allclose(totals, 400.0, atol=1e-6)
    with pytest.raises(ValueError):
        result.populations[0, 0] = 1.0  # read-only


def test_flows_spread_over_two_exits_by_expected_time():
    """1,000 people, two equal exits (2 persons/s): one behind a 10 m corridor, one behind 60 m.

    All on the shortest path would take 500 s. The far exit costs 50 m / 1.34 m/s = 37 s more walking,
    so once the near queue is longer than that (75 persons) people go far: both exits work and the room
    clears in about 1000 / 4 = 250 s plus the walk, with both exits' last persons close together.
    """
    nodes = [EvacNode("room", 1000.0, 800.0, 20.0), EvacNode("near", 0.0, 100.0, 10.0),
             EvacNode("far", 0.0, 300.0, 60.0)]
    links = [EvacLink("room", "near", None), EvacLink("room", "far", None),
             EvacLink("near", None, 2.0, name="N"), EvacLink("far", None, 2.0, name="F")]
    result = evacuate(nodes, links)
    near, far = result.exit("N"), result.exit("F")
    assert far.persons > 350 and near.persons > 350
    assert near.persons > far.persons  # the near exit also takes those for whom the walk does not pay
    assert result.clearance_s is not None and result.clearance_s < 330
    assert near.last_s is not None and far.last_s is not None
    assert abs(near.last_s - far.last_s) < 40
    assert near.first_s is not None and far.first_s is not None and far.first_s > near.first_s + 30


def test_few_people_do_not_walk_to_a_far_exit():
    nodes = [EvacNode("room", 20.0, 800.0, 20.0), EvacNode("near", 0.0, 100.0, 10.0),
             EvacNode("far", 0.0, 300.0, 60.0)]
    links = [EvacLink("room", "near", None), EvacLink("room", "far", None),
             EvacLink("near", None, 2.0, name="N"), EvacLink("far", None, 2.0, name="F")]
    result = evacuate(nodes, links)
    assert result.exit("F").persons < 0.5  # a 10-second queue never beats a 37-second longer walk
    assert result.exit("F").first_s is None


def test_exits_share_by_capacity_when_everybody_queues():
    nodes = [EvacNode("R", 300.0, 300.0, 14.0)]
    links = [EvacLink("R", None, width_capacity(1.8), name="E1"), EvacLink("R", None, width_capacity(1.2), name="E2")]
    result = evacuate(nodes, links)
    assert result.exit("E1").persons == pytest.approx(180.0, rel=0.01)
    assert result.exit("E2").persons == pytest.approx(120.0, rel=0.01)
    assert result.clearance_s == pytest.approx(300 / width_capacity(3.0), rel=0.02)


def test_links_with_the_same_name_are_one_exit():
    nodes = [EvacNode("A", 100.0, 100.0, 5.0), EvacNode("B", 100.0, 100.0, 5.0)]
    links = [EvacLink("A", None, 1.0, name="G1"), EvacLink("B", None, 1.0, name="G1"), EvacLink("B", None, 1.0)]
    result = evacuate(nodes, links)
    assert [e.name for e in result.exits] == ["G1", "B->safe"]
    assert result.exit("G1").persons == pytest.approx(150.0, rel=0.02)
    assert result.exit("G1").peak_per_s == pytest.approx(2.0, rel=1e-9)


def test_time_cap_returns_the_partial_result_with_a_warning():
    nodes, links = room(600.0, 2.0)
    result = evacuate(nodes, links, max_s=60.0)
    assert not result.finished and result.clearance_s is None
    assert result.evacuated == pytest.approx(120.0, rel=0.01)
    assert result.evacuated + result.remaining == pytest.approx(600.0, abs=1e-6)
    assert result.warning == f"模拟在 60 秒内未完成：仍有 {round(result.remaining)} 人未疏散"
    assert "480" in result.warning
    assert result.exit("E").last_s is None and result.node("R").clear_s is None
    assert result.steps == 60 and result.times_s[-1] == 60.0


def test_zone_clear_times_and_peak_density():
    """A (200 persons) drains through a 1 person/s door into B, which drains at 4 persons/s: A empties
    after about 200 s, B right after; B never holds many (it serves four times faster)."""
    nodes = [EvacNode("A", 200.0, 100.0, 10.0), EvacNode("B", 0.0, 50.0, 10.0), EvacNode("C", 0.0, 10.0, 1.0)]
    links = [EvacLink("A", "B", 1.0), EvacLink("B", None, 4.0, name="X"), EvacLink("C", None, 1.0, name="Y")]
    result = evacuate(nodes, links)
    a, b, c = result.node("A"), result.node("B"), result.node("C")
    assert a.max_density == pytest.approx(2.0) and a.max_density_s == 0.0
    assert a.clear_s == pytest.approx(199.5, abs=1.5)
    assert b.clear_s is not None and a.clear_s < b.clear_s < a.clear_s + 12
    assert b.max_density < 0.5
    assert c.clear_s == 0.0 and c.max_density == 0.0
    assert result.exit("Y").persons == 0.0 and result.exit("Y").first_s is None


def test_full_zone_holds_back_the_link_into_it():
    """B holds at most 5.4 persons/m2 x 10 m2 = 54: the open link from A waits while B is full."""
    nodes = [EvacNode("A", 500.0, 500.0, 5.0), EvacNode("B", 0.0, 10.0, 5.0)]
    links = [EvacLink("A", "B", None), EvacLink("B", None, 1.0, name="X")]
    result = evacuate(nodes, links)
    b = result.node("B")
    assert b.max_density <= 5.4 + 1e-9
    assert b.max_density > 5.0
    assert result.links[0].max_queue > 100  # the queue stays in A
    assert result.clearance_s == pytest.approx(500.0, rel=0.02)


def test_overcrowded_start_is_warned():
    result = evacuate([EvacNode("Z", 700.0, 100.0, 5.0)], [EvacLink("Z", None, 10.0)])
    assert result.finished
    assert result.warning is not None and "Z 7.0 人/㎡" in result.warning


def test_nobody_to_evacuate():
    result = evacuate([EvacNode("A", 0.0, 10.0, 1.0), EvacNode("B", 0.0, 10.0, 1.0)], [EvacLink("A", None, 1.0)])
    assert result.finished and result.clearance_s == 0.0 and result.evacuated == 0.0 and result.steps == 0


def test_zone_without_exit_is_named():
    nodes = [EvacNode("Z1", 10.0, 10.0, 1.0), EvacNode("Z7", 5.0, 10.0, 1.0), EvacNode("Z8", 0.0, 10.0, 1.0)]
    with pytest.raises(EvacuationError, match=r"^zone Z7 has no exit: "):
        evacuate(nodes, [EvacLink("Z1", None, 1.0), EvacLink("Z7", "Z8", 1.0)])
    # a closed exit (capacity 0) is no exit either; an empty dead end is fine
    with pytest.raises(EvacuationError, match=r"zone Z1 has no exit: .*\(also: Z7\)"):
        evacuate(nodes, [EvacLink("Z1", None, 0.0), EvacLink("Z7", "Z1", 1.0)])
    result = evacuate(nodes, [EvacLink("Z1", None, 1.0), EvacLink("Z7", "Z1", 1.0), EvacLink("Z1", "Z8", 5.0)])
    assert result.finished and result.node("Z8").max_density == 0.0


def test_bad_inputs_raise_clear_errors():
    good = EvacNode("A", 1.0, 10.0, 1.0)
    with pytest.raises(EvacuationError, match="duplicate zone code 'A'"):
        evacuate([good, EvacNode("A", 2.0, 10.0, 1.0)], [EvacLink("A", None, 1.0)])
    with pytest.raises(EvacuationError, match="unknown zone 'B'"):
        evacuate([good], [EvacLink("A", "B", 1.0)])
    with pytest.raises(EvacuationError, match="unknown zone 'Q'"):
        evacuate([good], [EvacLink("Q", None, 1.0), EvacLink("A", None, 1.0)])
    with pytest.raises(EvacuationError, match="zone A: population must be a finite number >= 0"):
        EvacNode("A", -1.0, 10.0, 1.0)
    with pytest.raises(EvacuationError, match="zone A: area_m2 must be a finite number > 0"):
        EvacNode("A", 1.0, 0.0, 1.0)
    with pytest.raises(EvacuationError, match="length_m"):
        EvacNode("A", 1.0, 1.0, math.nan)
    with pytest.raises(EvacuationError, match="link G1: capacity_per_s must be a finite number >= 0"):
        EvacLink("A", None, -2.0, name="G1")
    with pytest.raises(EvacuationError, match="joins zone A to itself"):
        EvacLink("A", "A", 1.0)
    with pytest.raises(EvacuationError, match="dt_s must be a finite number > 0"):
        evacuate([good], [EvacLink("A", None, 1.0)], dt_s=0.0)
    with pytest.raises(ValueError):  # EvacuationError is a ValueError, the edge maps it to a 422
        evacuate([], [])


def test_results_do_not_depend_much_on_the_step():
    nodes, links = stadium(10_000.0)
    coarse = evacuate(nodes, links, dt_s=1.0)
    fine = evacuate(nodes, links, dt_s=0.25)
    assert coarse.clearance_s is not None and fine.clearance_s is not None
    assert coarse.clearance_s == pytest.approx(fine.clearance_s, rel=0.03)
    for a, b in zip(coarse.exits, fine.exits, strict=True):
        assert a.persons == pytest.approx(b.persons, rel=0.05, abs=5.0)


def test_critical_density_of_weidmann():
    assert critical_density() == pytest.approx(1.75, abs=0.01)


def test_fifty_thousand_people_in_well_under_five_seconds():
    nodes, links = stadium(50_000.0)
    assert len(nodes) == 41 and len(links) == 118
    started = time.perf_counter()
    result = evacuate(nodes, links)
    elapsed = time.perf_counter() - started
    assert result.finished
    assert result.evacuated + result.remaining == pytest.approx(50_000.0, abs=1e-5)
    assert 600 < (result.clearance_s or 0) < 1200  # 44,000 persons through 70 persons/s of stairs, plus the walk
    assert elapsed < 5.0
