"""The busiest-zones ranking is stable (issue 13: the wall's busiest zone changed every 1.5 s while two zones
hovered around 2.0 persons/m2): a zone moves above another only past a margin (js/ranking.js)."""

from __future__ import annotations

from tests.web.conftest import PageWatch

RANK = """async ([frames, margin]) => {
    const {stableRanking, RANK_MARGIN} = await import('/js/ranking.js');
    let order = [];
    const tops = [];
    for (const densities of frames) {
        const zones = Object.entries(densities).map(([id, d]) => ({id, state: {density: d}}));
        order = stableRanking(zones, order, margin ?? RANK_MARGIN).map((z) => z.id);
        tops.push(order.join(''));
    }
    return {tops, margin: RANK_MARGIN};
}"""


def test_noise_does_not_reorder_the_ranking(watch: PageWatch) -> None:
    watch.page.goto(watch.served.url + "/wall/")
    # A and B swap by 0.1 every frame (sensor noise); C has no density at first, then enters by density
    frames = [{"A": 2.05, "B": 1.95, "C": None}, {"A": 1.95, "B": 2.05, "C": None}, {"A": 2.0, "B": 2.1, "C": 1.0},
              {"A": 2.05, "B": 1.95, "C": 3.0}, {"A": 1.9, "B": 2.11, "C": 3.0}, {"A": 1.9, "B": 2.1, "C": None}]
    got = watch.page.evaluate(RANK, [frames, None])
    assert got["margin"] == 0.2
    # was A, B, B, C (A B), ...: the top changed on every frame; now A stays until B passes it by > 0.2
    assert got["tops"] == ["AB", "AB", "ABC", "CAB", "CBA", "BA"]
    # with no margin the plain sort (the old behaviour) follows every wiggle
    plain = watch.page.evaluate(RANK, [frames[:2], 0])["tops"]
    assert plain == ["AB", "BA"]
    # a zone equal to one ranked above it stays below (ties keep the order), a new zone enters by density
    tie = watch.page.evaluate(RANK, [[{"X": 1.0, "Y": 2.0}, {"X": 2.0, "Y": 2.0, "Z": 2.5}], None])["tops"]
    assert tie == ["YX", "ZYX"]  # X reached Y (2.0) but did not pass it; Z (2.5) passes both by > 0.2
