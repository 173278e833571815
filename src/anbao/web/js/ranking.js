// The busiest-zones ranking, stable against sensor noise (issue 13: the wall's busiest zone changed every
// 1.5 s while two zones hovered near 2.0 persons/m2). The previous order is kept; a zone moves above
// another only when its density passes that zone's by more than the margin (0.2 persons/m2, the default
// hysteresis of the density warning rule). Zones new to the ranking enter by density; zones without a
// density leave it. Pure: the caller keeps the order between calls.

export const RANK_MARGIN = 0.2;

/** Zones (objects with ``id`` and ``state.density``) busiest first, given the ``previous`` order (ids). */
export function stableRanking(zones, previous = [], margin = RANK_MARGIN) {
  const before = new Map(previous.map((id, i) => [id, i]));
  const at = (z) => before.get(z.id) ?? previous.length;
  const live = zones.filter((z) => z.state.density !== null && z.state.density !== undefined)
    .sort((a, b) => at(a) - at(b) || b.state.density - a.state.density);
  for (let i = 1; i < live.length; i++) {
    for (let j = i; j > 0 && live[j].state.density > live[j - 1].state.density + margin; j--) {
      [live[j - 1], live[j]] = [live[j], live[j - 1]];
    }
  }
  return live;
}
