"""Trajectory replay against real measured data: Jülich uni-directional corridor run uo-100-180-180.

The fixture (tests/data/pedestrian/, copied from the shared data folder with its README and the PedPy
MIT licence) is a 1.8 m wide corridor (x 0..1.8 m, y -4..4 m, walking towards -y) fed through a
1.0 m entrance; 121 participants, 16 fps, positions in centimetres. Figures of this run, asserted below:

* measurement area (x 0..1.8, y -2..0, 3.6 m2), one snapshot per second: peak 6 persons = 1.67
  persons/m2; steady state (frames 200-790) mean 1.13 persons/m2; every frame: peak 7 = 1.94 persons/m2;
* flow over the measurement line y = 0 in the steady state: 2.46 persons/s = 1.37 persons/(m s), the
  Green Guide's 82 persons/(m min) for level exits; the hydrodynamic relation J = rho * v * b with the
  measured density and speed (1.14 persons/m2 * 1.20 m/s * 1.8 m = 2.45 persons/s) agrees within 1%.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from anbao.algorithms.trajectories import (
    Trajectories,
    ZoneCount,
    count_per_zone,
    in_zone,
    measured_flow,
    persons_present,
)
from anbao.crowd.pedestrian_io import (
    load_trajectories,
    parse_trajectories,
    to_csv_rows,
    zone_polygons_from_geojson,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "pedestrian"
RUN = DATA / "uo-100-180-180.txt"
ZONES = DATA / "corridor-zones.geojson"
FPS = 16
STEADY = (200 / FPS, 791 / FPS)  # steady-state frames 200-790 (README), in seconds
WIDTH_M = 1.8
MA = "measurement-area"


@pytest.fixture(scope="module")
def traj() -> Trajectories:
    return load_trajectories(RUN, unit="cm", fps=FPS)


@pytest.fixture(scope="module")
def zones() -> dict[str, Polygon]:
    return zone_polygons_from_geojson(json.loads(ZONES.read_text(encoding="utf-8")))


# ------------------------------------------------------------------------------------------------ loading


def test_loading_gives_persons_frames_and_metres(traj):
    assert len(traj) == 21676
    assert len(traj.persons) == 121  # N_ped of uo-100-180-180 in the published experiment list
    assert traj.persons == tuple(range(1, 122))
    assert len(traj.frames) == 944 and (traj.frames[0], traj.frames[-1]) == (15, 958)
    assert traj.time_s[0] == pytest.approx(15 / 16) and traj.time_s[-1] == pytest.approx(958 / 16)
    min_x, min_y, max_x, max_y = traj.bounds
    assert -0.3 < min_x and max_x < 2.2 and -6.2 < min_y and max_y < 8.0  # metres, not centimetres
    in_corridor = (traj.y > -4) & (traj.y < 4)
    assert ((traj.x[in_corridor] > 0) & (traj.x[in_corridor] < WIDTH_M)).all()
    assert 1.4 < np.nanmin(traj.z) and np.nanmax(traj.z) < 2.1  # body heights in metres
    first = int(np.nonzero((traj.person == 1) & (traj.frame == 27))[0][0])  # the file's first row
    assert (traj.x[first], traj.y[first], traj.z[first]) == pytest.approx((1.64834, 7.80844, 1.68937))


def test_columns_are_read_only_and_sorted_by_frame_then_person(traj):
    with pytest.raises(ValueError):
        traj.x[0] = 0.0
    assert (np.diff(traj.frame) >= 0).all()
    same = traj.frame[1:] == traj.frame[:-1]
    assert (np.diff(traj.person)[same] > 0).all()


@pytest.mark.parametrize(("unit", "factor"), [("m", 1.0), ("cm", 100.0), ("mm", 1000.0)])
def test_units_m_cm_mm_give_the_same_metres(unit, factor):
    text = "\n".join(f"{pid} {fr} {x * factor} {y * factor} {1.75 * factor}"
                     for pid, fr, x, y in [(1, 0, 0.5, 2.0), (1, 1, 0.5, 1.9), (2, 1, 1.25, -3.5)])
    traj = parse_trajectories(text, unit=unit, fps=16)
    assert traj.x.tolist() == pytest.approx([0.5, 0.5, 1.25])
    assert traj.y.tolist() == pytest.approx([2.0, 1.9, -3.5])
    assert traj.z.tolist() == pytest.approx([1.75, 1.75, 1.75])
    assert traj.time_s.tolist() == pytest.approx([0.0, 1 / 16, 1 / 16])


def test_unknown_unit_and_bad_fps_are_rejected():
    with pytest.raises(ValueError, match="unknown unit"):
        parse_trajectories("1 0 1 1 1", unit="ft")
    with pytest.raises(ValueError, match="fps"):
        parse_trajectories("1 0 1 1 1", fps=0)


def test_comments_blank_lines_tabs_crlf_and_extra_columns(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"\xef\xbb\xbf# description: test\r\n# framerate: 25.00\r\n# x/m y/m z/m\r\n\r\n"
                     b"1\t98\t4.6\t1.89\t1.76\t0.1 0.2\r\n  1 99.0 4.5 1.9 1.76 # trailing comment\r\n"
                     b"2 99 3.0 1.0\r\n")
    traj = load_trajectories(path, unit="m", fps=25)
    assert traj.person.tolist() == [1, 1, 2] and traj.frame.tolist() == [98, 99, 99]
    assert traj.x.tolist() == [4.6, 4.5, 3.0]
    assert math.isnan(traj.z[2])  # four columns: no height
    assert traj.time_s[0] == pytest.approx(98 / 25)


@pytest.mark.parametrize(("header", "unit", "fps", "message"), [
    ("# framerate: 25.00", "cm", 16, "line 1: the file declares a frame rate of 25.00"),
    ("# id frame x/cm y/cm z/cm", "m", 16, "line 1: the file declares unit 'cm'"),
    ("# X,Y,Z: the agents coordinates (in metres)", "cm", 16, "line 1: the file declares unit 'm'"),
])
def test_a_header_contradicting_the_arguments_is_an_error(header, unit, fps, message):
    with pytest.raises(ValueError, match=message):
        parse_trajectories(f"{header}\n1 0 1 1 1\n", unit=unit, fps=fps)


@pytest.mark.parametrize(("bad", "why"), [
    ("7 30 120.5", "expected the columns"),
    ("7 30 abc 12 170", "not a valid row"),
    ("7 30.5 12 12 170", "not a valid row"),
    ("7 30 nan 12 170", "positions must be finite"),
    ("7 30 12 12 inf", "positions must be finite"),
    ("1 28 12 12 170", "person 1 already has a position in frame 28 \\(line 2\\)"),
])
def test_a_bad_line_raises_naming_its_line_number(tmp_path, bad, why):
    path = tmp_path / "bad.txt"
    path.write_text(f"# header\n1 28 164.835 771.893 168.937\n\n{bad}\n1 29 163.736 762.665 168.937\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=f"line 4: {why}"):
        load_trajectories(path)


def test_a_file_without_rows_is_an_error():
    with pytest.raises(ValueError, match="no trajectory rows"):
        parse_trajectories("# only a comment\n\n")


def test_trajectories_reject_duplicates_fractional_frames_and_infinite_positions():
    with pytest.raises(ValueError, match="person 3 appears twice in frame 5"):
        Trajectories(person=[3, 3], frame=[5, 5], x=[0.0, 1.0], y=[0.0, 0.0], z=[1.7, 1.7], fps=16)
    with pytest.raises(ValueError, match="frame must hold integers"):
        Trajectories(person=[3], frame=[5.5], x=[0.0], y=[0.0], z=[1.7], fps=16)
    with pytest.raises(ValueError, match="x and y must be finite"):
        Trajectories(person=[3], frame=[5], x=[math.inf], y=[0.0], z=[1.7], fps=16)


# ------------------------------------------------------------------------------------------------ zones


def test_corridor_zones_geojson(zones):
    assert list(zones) == ["entry-area", "corridor-upstream", MA, "corridor-downstream", "exit-area"]
    assert zones[MA].area == pytest.approx(3.6)
    assert zones[MA].bounds == (0.0, -2.0, 1.8, 0.0)
    assert zones["corridor-upstream"].area + zones[MA].area + zones["corridor-downstream"].area == pytest.approx(
        WIDTH_M * 8)
    total = sum(z.area for z in zones.values())
    union = zones[MA].union(zones["entry-area"]).union(zones["exit-area"])
    for code in ("corridor-upstream", "corridor-downstream"):
        union = union.union(zones[code])
    assert union.area == pytest.approx(total)  # disjoint: no overlap


def test_every_recorded_position_is_in_exactly_one_corridor_zone(traj, zones):
    hits = sum(in_zone(z, traj.x, traj.y).astype(int) for z in zones.values())
    assert (hits == 1).all()


def _feature(code, coordinates, kind="Polygon"):
    return {"type": "Feature", "properties": {"code": code, "name": code},
            "geometry": {"type": kind, "coordinates": coordinates}}


SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]


@pytest.mark.parametrize(("fc", "message"), [
    ({"type": "Feature"}, "FeatureCollection"),
    ({"type": "FeatureCollection"}, "no features"),
    ({"type": "FeatureCollection", "features": [_feature("", SQUARE)]}, "feature 0: properties.code"),
    ({"type": "FeatureCollection", "features": [_feature("a", SQUARE), _feature("a", SQUARE)]},
     "feature 1: duplicate zone code 'a'"),
    ({"type": "FeatureCollection", "features": [_feature("p", [0, 0], kind="Point")]}, "must be a Polygon"),
    ({"type": "FeatureCollection", "features": [_feature("bow", [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]])]},
     "feature 0 \\(bow\\): invalid polygon"),
    ({"type": "FeatureCollection", "features": [_feature("flat", [[[0, 0], [1, 0], [2, 0], [0, 0]]])]},
     "feature 0 \\(flat\\)"),
])
def test_bad_zone_geojson_is_rejected(fc, message):
    with pytest.raises(ValueError, match=message):
        zone_polygons_from_geojson(fc)


# ------------------------------------------------------------------------------------------------ counting


def test_snapshots_are_taken_every_whole_second(traj, zones):
    counts = count_per_zone(traj, zones)
    times = sorted({c.time_s for c in counts})
    assert times == [float(t) for t in range(1, 60)]  # recording spans 0.94 s .. 59.88 s
    assert len(counts) == 59 * len(zones)
    assert [c.zone for c in counts[:5]] == list(zones)


def test_counts_are_conserved_over_disjoint_zones(traj, zones):
    counts = count_per_zone(traj, zones)
    by_time: dict[float, int] = {}
    for c in counts:
        by_time[c.time_s] = by_time.get(c.time_s, 0) + c.count
    present = dict(persons_present(traj))
    assert by_time == present
    for t, n in present.items():  # independent: rows recorded in that frame
        assert n == int(np.count_nonzero(traj.frame == round(t * FPS)))
    assert max(present.values()) == 31


def test_measurement_area_densities_are_plausible_for_this_run(traj, zones):
    every_second = [c for c in count_per_zone(traj, {MA: zones[MA]}) if c.zone == MA]
    peak = max(every_second, key=lambda c: c.density)
    assert (peak.count, round(peak.density, 3)) == (6, 1.667)
    steady = [c.density for c in every_second if STEADY[0] <= c.time_s < STEADY[1]]
    assert np.mean(steady) == pytest.approx(1.13, abs=0.01)
    every_frame = count_per_zone(traj, {MA: zones[MA]}, step_s=1 / FPS)
    assert max(c.count for c in every_frame) == 7
    # a 1.0 m entrance feeding a 1.8 m corridor: free-flowing crowd, below Fruin's LOS E/F boundary of 2.2
    assert 1.0 < np.mean(steady) < 2.2 and max(c.density for c in every_frame) < 2.2
    assert every_second[0].count == 0 and every_second[-1].count == 0  # empty before and after the run


def test_shared_edges_and_corners_count_once_and_overlaps_count_in_both():
    # person 1 on the shared edge y=0, person 2 on the corner (1, 0), person 3 inside
    traj = Trajectories(person=[1, 2, 3], frame=[16, 16, 16], x=[0.5, 1.0, 0.5], y=[0.0, 0.0, -0.5],
                        z=[1.7] * 3, fps=16)
    lower_left, lower_right = box(0, -1, 1, 0), box(1, -1, 2, 0)
    upper_left, upper_right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    tiles = {"ll": lower_left, "lr": lower_right, "ul": upper_left, "ur": upper_right}
    for order in (tiles, dict(reversed(tiles.items()))):
        counts = {c.zone: c.count for c in count_per_zone(traj, order)}
        assert sum(counts.values()) == 3
        # half-open [x0, x1) x [y0, y1): lower/left edges belong to the zone
        assert counts == {"ll": 1, "lr": 0, "ul": 1, "ur": 1}
    overlapping = {"all": box(0, -1, 2, 1), "left": box(0, -1, 1, 1)}
    counts = {c.zone: c.count for c in count_per_zone(traj, overlapping)}
    assert counts == {"all": 3, "left": 2}
    assert count_per_zone(traj, {"t": upper_left})[0].density == pytest.approx(1.0)


def test_counting_validates_its_inputs(traj):
    with pytest.raises(ValueError, match="step_s"):
        count_per_zone(traj, {"a": box(0, 0, 1, 1)}, step_s=0)
    with pytest.raises(ValueError, match="positive area"):
        count_per_zone(traj, {"a": Polygon()})
    assert count_per_zone(traj, {}) == []


# ------------------------------------------------------------------------------------------------ flow


def test_everyone_crosses_the_measurement_line_once(traj):
    whole = measured_flow(traj, 0.0, 0.0, 60.0, axis="y", span=(0.0, WIDTH_M))
    assert whole * 60.0 == pytest.approx(121)


def test_steady_state_flow_is_plausible(traj, zones):
    t0, t1 = STEADY
    flow = measured_flow(traj, 0.0, t0, t1, axis="y", span=(0.0, WIDTH_M))
    assert flow == pytest.approx(2.46, abs=0.01)
    specific = flow / WIDTH_M
    assert specific == pytest.approx(82 / 60, rel=0.05)  # Green Guide level exit flow 82 persons/(m min)
    assert 0.5 < specific <= 1.9  # never above the measured bottleneck maximum of ~1.8-1.9 persons/(m s)

    # independent check, hydrodynamics: flow = density * speed along the corridor * width
    density = np.mean([c.density for c in count_per_zone(traj, {MA: zones[MA]}, step_s=1 / FPS)
                       if t0 <= c.time_s < t1])
    order = np.lexsort((traj.frame, traj.person))
    p, f, x, y = traj.person[order], traj.frame[order], traj.x[order], traj.y[order]
    step = (p[1:] == p[:-1]) & (np.diff(f) == 1)
    in_ma = (x[:-1] >= 0) & (x[:-1] < WIDTH_M) & (y[:-1] >= -2) & (y[:-1] < 0)
    steady = (f[:-1] >= t0 * FPS) & (f[:-1] < t1 * FPS)
    speed = float(np.mean(-np.diff(y)[step & in_ma & steady] * FPS))
    assert 1.0 < speed < 1.4  # m/s, free walking at about 1 person/m2
    assert flow == pytest.approx(density * speed * WIDTH_M, rel=0.05)


def test_flow_counts_each_person_once_at_the_first_crossing_of_a_vertical_line():
    # person 1 walks +x onto x=1 at t=2.0 s and then sways back and forth over it; person 2 crosses at t=3.5 s
    # going -x; person 3 crosses outside the span; person 4 never crosses
    rows = [(1, 16, 0.5, 0.0), (1, 32, 1.0, 0.0), (1, 48, 0.9, 0.0), (1, 64, 1.2, 0.0),
            (2, 48, 1.5, 0.5), (2, 64, 0.5, 0.5),
            (3, 16, 0.0, 5.0), (3, 32, 2.0, 5.0),
            (4, 16, 0.0, 0.0), (4, 64, 0.5, 0.0)]
    person, frame, x, y = zip(*rows, strict=True)
    traj = Trajectories(person=person, frame=frame, x=x, y=y, z=[math.nan] * len(rows), fps=16)
    assert measured_flow(traj, 1.0, 0.0, 4.0, axis="x", span=(-1.0, 1.0)) == pytest.approx(2 / 4)
    assert measured_flow(traj, 1.0, 0.0, 4.0, axis="x") == pytest.approx(3 / 4)
    assert measured_flow(traj, 1.0, 2.0, 4.0, axis="x", span=(-1.0, 1.0)) == pytest.approx(2 / 2)  # t0 included
    assert measured_flow(traj, 1.0, 2.5, 4.0, axis="x") == pytest.approx(1 / 1.5)  # only person 2 (t=3.5)
    assert measured_flow(traj, 1.0, 0.0, 4.0, axis="y") == 0.0


def test_flow_validates_its_inputs(traj):
    with pytest.raises(ValueError, match="t1 must be > t0"):
        measured_flow(traj, 0.0, 5.0, 5.0, axis="y")
    with pytest.raises(ValueError, match="span"):
        measured_flow(traj, 0.0, 0.0, 5.0, axis="y", span=(1.8, 0.0))
    with pytest.raises(ValueError, match="axis"):
        measured_flow(traj, 0.0, 0.0, 5.0, axis="z")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ CSV


def test_csv_rows(traj, zones):
    counts = [ZoneCount(time_s=12.0, zone=MA, count=4, density=4 / 3.6),
              ZoneCount(time_s=12.0625, zone="exit-area", count=0, density=0.0)]
    assert to_csv_rows(counts) == [["time_s", "zone", "count", "density"],
                                   ["12.000", MA, "4", "1.1111"],
                                   ["12.062", "exit-area", "0", "0.0000"]]
    out = io.StringIO()
    csv.writer(out).writerows(to_csv_rows(count_per_zone(traj, zones)))
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(read) == 59 * 5
    assert sum(int(r["count"]) for r in read if r["time_s"] == "30.000") == dict(persons_present(traj))[30.0]
