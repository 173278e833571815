"""Green Guide capacity against hand-worked examples."""

import pytest

from anbao.algorithms.capacity import Area, CapacityError, Entry, Exit, Times, capacity, venue_capacity

STANDING = Area(code="FLOOR", name="内场", standing_m2=1000, safety_factor=0.8,
                exits=(Exit("E1", 2.4), Exit("E2", 2.4)), entries=(Entry("G1", 4),))
SEATED = Area(code="STAND", name="看台", seats=10_000, exits=(Exit("V1", 10.0, stairs=True),))


def test_standing_area_by_hand():
    # holding 1000 m2 x 4.7 x 0.8 = 3760; exits 4.8 m x 82 = 393.6/min: 8 min 3148, 6 min 2361;
    # entry 4 lanes x 11/min x 60 min = 2640; safe = 2361, limited by the emergency evacuation
    c = capacity(STANDING, Times(entry_min=60, egress_min=8, emergency_min=6))
    assert (c.holding, c.entry, c.exit, c.emergency) == (3760, 2640, 3148, 2361)
    assert (c.safe_capacity, c.limiting) == (2361, "emergency")
    assert c.exit_flow_per_min == pytest.approx(393.6)
    assert c.evacuation_min == pytest.approx(3760 / 393.6, abs=0.01)
    text = "\n".join(c.steps)
    assert "1000 ㎡ × 4.7 人/㎡ × 安全系数 0.8 = 3760 人" in text and "受应急疏散能力限制" in text


def test_seated_area_on_stairs_ties_go_to_the_normal_egress():
    # 10 m of stairs x 66 = 660/min; 8 min both: 5280 < 10,000 seats
    c = capacity(SEATED)
    assert (c.holding, c.entry, c.exit, c.emergency, c.safe_capacity, c.limiting) == (
        10_000, None, 5280, 5280, 5280, "exit")
    assert "楼梯出口宽 10 m × 66 人/(m·min)" in "\n".join(c.steps)


def test_holding_limits_when_the_exits_are_generous():
    c = capacity(Area(code="PLZ", name="广场", standing_m2=200, exits=(Exit("X", 30.0),)))
    assert (c.holding, c.safe_capacity, c.limiting) == (940, 940, "holding")


def test_venue_adds_the_areas_and_uses_its_own_gates():
    # holding 3760 + 10,000 = 13,760; venue exits 20 m x 82 = 1640/min x 8 = 13,120
    v = venue_capacity([STANDING, SEATED], [Exit("M1", 12.0), Exit("M2", 8.0)], [Entry("G", 30)])
    assert (v.holding, v.exit, v.emergency, v.entry) == (13_760, 13_120, 13_120, 19_800)
    assert (v.safe_capacity, v.limiting) == (13_120, "exit")
    assert v.evacuation_min == pytest.approx(13_760 / 1640, abs=0.01)


@pytest.mark.parametrize(("area", "words"), [
    (Area(code="Z9", name="无出口", standing_m2=50), "Z9: exits none"),
    (Area(code="Z8", name="x", standing_m2=50, safety_factor=1.2, exits=(Exit("E", 1),)), "Z8: safety_factor"),
    (Area(code="Z7", name="x", standing_m2=50, exits=(Exit("E", 0),)), "Z7: exit E width_m"),
    (Area(code="Z6", name="x", standing_m2=-1, exits=(Exit("E", 1),)), "Z6: standing_m2"),
    (Area(code="Z5", name="x", seats=10, exits=(Exit("E", 1),), entries=(Entry("G", 0),)), "Z5: entry G"),
])
def test_bad_input_names_the_area_and_field(area, words):
    with pytest.raises(CapacityError, match=words):
        capacity(area)


def test_bad_times_are_refused():
    with pytest.raises(CapacityError, match="egress_min"):
        capacity(STANDING, Times(egress_min=0))


def test_a_declared_standing_capacity_is_used_with_its_source():
    # a concert floor of 850 m2 declared at 1,700 (2.0 persons/m2): holding 1,700 x 0.9 = 1,530, not 850 x 4.7
    floor = Area(code="FLOOR-A", name="内场站席A区", standing_m2=850.0, declared_standing=1700, safety_factor=0.9,
                 exits=(Exit("E", 30.0),))
    c = capacity(floor)
    assert (c.holding, c.safe_capacity, c.limiting) == (1530, 1530, "holding")
    assert c.steps[0] == "容纳能力：站立区 850 ㎡，申报 1700 人（2.0 人/㎡，区域申报容量）× 安全系数 0.9 = 1530 人"


def test_without_a_declared_figure_the_default_density_is_named():
    c = capacity(Area(code="PLZ", name="广场", standing_m2=200, exits=(Exit("X", 30.0),)))
    assert c.holding == 940
    assert c.steps[0] == "容纳能力：站立区 200 ㎡ × 4.7 人/㎡ × 安全系数 1 = 940 人（默认密度，Green Guide 站立看台）"


def test_a_declared_figure_above_the_green_guide_ceiling_counts_at_the_ceiling():
    # 1,000 m2 declared at 5,000 (5 persons/m2) holds 1,000 x 4.7 = 4,700
    c = capacity(Area(code="F", name="x", standing_m2=1000, declared_standing=5000, exits=(Exit("X", 100.0),)))
    assert c.holding == 4700
    assert "申报 5000 人（5.0 人/㎡）超过上限 4.7 人/㎡" in c.steps[0]


def test_the_venue_adds_declared_figures():
    # six floors declared at 1,700 and 41,300 seats: 51,500, below an approved 52,000
    floors = [Area(code=f"F{i}", name="x", standing_m2=850.0, declared_standing=1700, exits=(Exit("E", 30.0),))
              for i in range(6)]
    stands = Area(code="S", name="看台", seats=41_300, exits=(Exit("V", 100.0),))
    v = venue_capacity([*floors, stands], [Exit("M", 142.4)], [Entry("G", 100)], Times(120, 8, 6))
    assert (v.holding, v.exit, v.emergency, v.safe_capacity, v.limiting) == (51_500, 93_414, 70_060, 51_500, "holding")
