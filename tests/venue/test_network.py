"""The crowd-flow network inferred from zones and gates: what it guesses never carries unlimited flow."""

import pytest
from shapely.geometry import box

from anbao.algorithms.crowdnet import width_capacity
from anbao.demo.site import plan_gates, plan_zones
from anbao.venue.layout import GateSite, ZoneSite
from anbao.venue.network import build_network, is_guessed

EXIT_PPS = 0.5 * 82 / 60  # a 0.5 m door on the level, Green Guide: 0.683 persons/s


def _waiting_area(kind: str, direction: str = "both") -> tuple[list[ZoneSite], list[GateSite]]:
    """A 5.6 m x 6.7 m waiting area 10 m from a road, one 0.5 m door (issue 13)."""
    road, wait = box(-100, -40, 100, -20), box(0, -10, 5.6, -3.3)
    zones = [ZoneSite("ROAD", "road", 3, road, road.area), ZoneSite("WAIT", "standing", 1, wait, wait.area, 75)]
    return zones, [GateSite("EX", kind, "WAIT", 2.8, -10.0, width_m=0.5, direction=direction)]


@pytest.mark.parametrize(("kind", "direction"), [("exit", "both"), ("exit", "out"), ("gate", "out"),
                                                 ("gate", "both")])
def test_the_only_way_out_is_the_door_whatever_its_kind(kind, direction):
    net = build_network(*_waiting_area(kind, direction), attendance=75)
    assert all(lk.capacity_pps is not None for lk in net.links), net.links
    out = [lk for lk in net.links if lk.source == "WAIT"]
    assert len(out) == 1 and out[0].target == "ROAD" and out[0].kind == "gate"
    assert out[0].capacity_pps == pytest.approx(EXIT_PPS)
    assert [g.code for g in out[0].gates] == ["EX"] and out[0].gates[0].share == pytest.approx(1.0)
    # the way in is guessed when the door does not let people in: as wide as the 5.6 m area, never open
    into = [lk for lk in net.links if lk.target == "WAIT"]
    assert len(into) == 1
    if kind == "exit" or direction == "out":
        assert is_guessed(into[0]) and into[0].capacity_pps == pytest.approx(width_capacity(5.6))


def test_no_guessed_link_of_the_demo_venue_is_unlimited_or_merged_with_a_real_one():
    zs = plan_zones()
    gs = plan_gates({z.code: z for z in zs})
    zones = [ZoneSite(z.code, z.kind, z.ring, z.shape, z.shape.area, (z.seated or 0) + (z.standing or 0), z.parent)
             for z in zs]
    gates = [GateSite(g.code, g.data["kind"], g.zone, g.x, g.y, g.data.get("lanes", 1), g.data["width_m"],
                      g.data.get("stair", False), g.data["direction"]) for g in gs]
    net = build_network(zones, gates, attendance=40000)
    guessed = [lk for lk in net.links if is_guessed(lk)]
    assert len(guessed) >= 20  # the walks from the metro, bus stops, car parks and roads to the plaza
    for lk in net.links:
        assert lk.capacity_pps is not None and lk.capacity_pps > 0, lk
        assert not is_guessed(lk) or (lk.kind == "nearest" and not lk.gates), lk
