"""The JuPedSim wrapper: small scenes (tens of agents, a few seconds of computing in all).

Expected figures from the geometry: an agent at 1.34 m/s needs at least (distance to the door) / 1.34 s
to leave; a door about 1 m wide passes one to two persons per second in this model.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib import image as mpimg
from shapely.geometry import box
from shapely.ops import unary_union

from anbao.algorithms.pedsim import PedScene, PedSimError, exit_width, simulate
from anbao.crowd.heatmap import heatmap_png


def small_room(agents: int = 30, seed: int = 3) -> PedScene:
    """A 10 m x 6 m room with a 1.2 m door in the east wall (a 1 m passage; its outer half is the exit)."""
    walkable = unary_union([box(0, 0, 10, 6), box(10, 2.4, 11, 3.6)])
    return PedScene(walkable=walkable, exits=(("E", box(10.5, 2.4, 11, 3.6)),), agents=agents, seed=seed)


@pytest.fixture(scope="module")
def room_result():
    return simulate(small_room(), snapshot_s=1.0, cell_m=1.0)


def test_everybody_leaves_through_the_door(room_result):
    r = room_result
    e = r.exit("E")
    assert r.finished and r.warning is None and r.remaining == 0
    assert r.evacuated == e.persons == 30
    assert r.clearance_s == e.last_s == max(e.times_s)
    assert list(e.times_s) == sorted(e.times_s)
    # the nearest start is 1 m from the exit polygon (start area = room less 1 m around it), the farthest ~11 m
    assert e.first_s is not None and 0.5 < e.first_s < 3.0
    assert e.flow_per_s == pytest.approx(29 / (e.last_s - e.first_s))
    assert 0.8 < e.flow_per_s < 3.0  # a 1.2 m door
    assert r.clearance_s > 10.5 / 1.34
    assert r.agent_steps > 30 * 5 / r.dt and r.wall_s > 0
    assert r.iterations == round(r.clearance_s / r.dt)


def test_density_grids_count_the_agents(room_result):
    r = room_result
    assert r.extent == (0.0, 0.0, 11.0, 6.0) and r.cell_m == 1.0
    assert r.density.shape == (len(r.times_s), 6, 11)
    assert r.times_s[0] == 0.0 and r.times_s[1] == 1.0
    area = np.array([[1.0] * 10 + [0.6]] * 6)  # the door column: 0.6 m2 of passage in rows 2 and 3
    area[:2, 10] = area[4:, 10] = np.nan
    assert np.isnan(r.density[0][np.isnan(area)]).all()  # beside the door passage nothing is walkable
    counted = np.nansum(r.density[0] * area)
    assert counted == pytest.approx(30)
    assert np.nansum(r.density[-1] * area) == pytest.approx(0)
    assert not r.density.flags.writeable
    assert r.max_density.shape == (6, 11)
    spots = r.hot_spots
    assert 1 <= len(spots) <= 5
    assert [s.density for s in spots] == sorted((s.density for s in spots), reverse=True)
    assert spots[0].density == pytest.approx(np.nanmax(r.max_density))
    assert 0 <= spots[0].x <= 11 and 0 <= spots[0].y <= 6


def test_same_seed_same_run(room_result):
    again = simulate(small_room(), snapshot_s=1.0)
    assert again.exit("E").times_s == room_result.exit("E").times_s
    other = simulate(small_room(seed=4), snapshot_s=1.0)
    assert other.exit("E").times_s != room_result.exit("E").times_s


def test_numpy_global_random_state_is_left_alone():
    np.random.seed(11)
    expected = np.random.random()
    np.random.seed(11)
    simulate(small_room(agents=3), max_s=1.0)
    assert np.random.random() == expected


def test_time_cap_returns_partial_result():
    r = simulate(small_room(), max_s=3.0)
    assert not r.finished and r.clearance_s is None
    assert r.remaining == 30 - r.evacuated and r.remaining > 20
    assert r.warning == f"仿真在 3 秒内未完成：仍有 {r.remaining} 人未疏散"
    assert r.times_s[-1] == pytest.approx(3.0)


def test_agents_spread_to_a_farther_wider_exit():
    """60 agents start in the west part (x < 5.5 m) of a 12 m x 8 m room by a 0.8 m door (about 1 person/s, a
    minute's queue); a 1.6 m door is 8-12 m farther east, 6-9 s more walking. Nearest-door choice would
    send all west; the expected-time rule sends a good part east and clears sooner."""
    walkable = unary_union([box(0, 0, 12, 8), box(-1, 3.6, 0, 4.4), box(12, 3.2, 13, 4.8)])
    scene = PedScene(walkable=walkable, exits=(("W", box(-1, 3.6, -0.5, 4.4)), ("E", box(12.5, 3.2, 13, 4.8))),
                     agents=60, start=box(0.5, 0.5, 5.5, 7.5), seed=2)
    r = simulate(scene, snapshot_s=5.0)
    west, east = r.exit("W"), r.exit("E")
    assert r.finished
    assert east.persons >= 15 and west.persons >= 15
    assert r.clearance_s is not None and r.clearance_s < 35  # all through the west door: about 55 s


def test_heatmap_png_reads_back_with_the_right_size(room_result):
    png = heatmap_png(room_result, title="测试热力图")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    assert pixels.shape == (750, 1000, 4)
    red = (pixels[..., 0] > 0.6) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 50  # the crowded cells by the door are drawn in the dark end of the colour map
    small = mpimg.imread(io.BytesIO(heatmap_png(room_result, width_px=640, height_px=480)), format="png")
    assert small.shape == (480, 640, 4)


def test_exit_width():
    assert exit_width(box(0, 0, 0.5, 1.8)) == pytest.approx(1.8)
    assert exit_width(box(0, 0, 2.0, 0.3)) == pytest.approx(2.0)


def test_scene_errors_name_the_problem():
    room = box(0, 0, 10, 6)
    with pytest.raises(PedSimError, match="the scene has no exits"):
        PedScene(walkable=room, exits=(), agents=5)
    with pytest.raises(PedSimError, match=r"exit G2 lies outside the walkable area: 0\.50 of its 1\.00 m2"):
        PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)), ("G2", box(9.5, 2, 10.5, 3))), agents=5)
    with pytest.raises(PedSimError, match="duplicate exit name 'G1'"):
        PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)), ("G1", box(0, 2, 1, 3))), agents=5)
    with pytest.raises(PedSimError, match=r"^500 agents do not fit in the start area of 4\.0 m2: at most about \d+"):
        PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)),), agents=500, start=box(1, 1, 3, 3))
    with pytest.raises(PedSimError, match="the start area lies outside"):
        PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)),), agents=5, start=box(-2, 1, 3, 3))
    with pytest.raises(PedSimError, match="agents must be an integer >= 0"):
        PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)),), agents=-1)
    scene = PedScene(walkable=room, exits=(("G1", box(9, 2, 10, 3)),), agents=5)
    with pytest.raises(PedSimError, match="dt must be a finite number > 0"):
        simulate(scene, dt=0.0)
    assert isinstance(PedSimError("x"), ValueError)


def test_default_start_keeps_clear_of_the_exits():
    scene = small_room()
    start = scene.start_area
    assert start.distance(scene.exits[0][1]) == pytest.approx(1.0, abs=0.01)
    assert scene.capacity > 100


def test_progress_is_reported_and_only_grows():
    seen: list[float] = []
    result = simulate(small_room(agents=20), max_s=120, progress=seen.append)
    assert result.finished and len(seen) >= 3
    assert all(0 <= a <= b <= 1 for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1] > 0.9


def waiting_area(agents: int = 75, door_m: float = 0.5) -> PedScene:
    """The 5.6 m x 6.7 m waiting area of issue 13 with one door drawn as JuPedSim scenes draw it: a half-disc
    of the door's width on the wall."""
    from shapely.geometry import Point

    room = box(0, 0, 5.6, 6.7)
    door = room.intersection(Point(2.8, 0).buffer(door_m / 2)).convex_hull
    return PedScene(walkable=room, exits=(("EX", door),), agents=agents)


def test_a_waiting_area_takes_the_densities_real_ones_reach():
    from anbao.algorithms.pedsim import _place

    scene = waiting_area()  # 75 in 37.5 m2: 2 persons/m2 (refused before: "at most about 65")
    assert exit_width(scene.exits[0][1]) == pytest.approx(0.5, abs=0.01)
    area = scene.start_area.area
    # hexagonal lattice at 2 x 0.2 + 0.05 m: 2 / (sqrt(3) x 0.45^2) = 5.7 persons/m2 where agents fit
    assert scene.capacity / area > 4.0 and scene.capacity == 165
    dense = waiting_area(agents=int(4 * 5.6 * 6.7))  # 150 persons, 4 persons/m2 of the whole area
    xy = np.array(_place(dense))
    assert len(xy) == 150
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + np.eye(150) * 9
    assert gaps.min() >= 2 * dense.radius + 0.05 - 1e-9
    assert (xy >= 0.25 - 1e-9).all() and (xy[:, 0] <= 5.35 + 1e-9).all() and (xy[:, 1] <= 6.45 + 1e-9).all()
    assert _place(dense) == _place(dense)  # seeded
    with pytest.raises(PedSimError, match=r"^200 agents do not fit .* radius 0\.20 m at least 0\.45 m apart"):
        waiting_area(agents=200)


def test_agents_jammed_in_a_half_metre_door_are_reported_as_jammed():
    """Agents 0.4 m wide wedge in a 0.5 m door: the run stops JAM_S after the last one left and says so."""
    r = simulate(waiting_area(), max_s=300.0, snapshot_s=1.0)
    assert not r.finished and r.jammed and r.remaining == 75 - r.evacuated > 0
    e = r.exit("EX")
    assert e.last_s is not None and r.iterations * r.dt == pytest.approx(e.last_s + 10.0, abs=1.1)
    assert e.flow_per_s is not None and e.flow_per_s < 1.0  # before the jam: about 0.7 persons/s, as measured
    assert r.warning is not None and "出口堵塞" in r.warning and "EX（宽 0.50 米）" in r.warning
    assert "直径 0.40 米" in r.warning


def test_a_wide_door_does_not_jam(room_result):
    assert room_result.finished and not room_result.jammed
