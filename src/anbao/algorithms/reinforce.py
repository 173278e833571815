"""Reinforcement 增援: which posts can release officers to a zone, losing the least cover.

Pure and typed (no I/O). Counts are officers (persons); times are seconds of travel to the zone that
needs help (``inf`` = cannot get there).

A post's surplus is ``present - min_staff``. Officers are taken in phases, and within a phase from
the posts whose fastest releasable unit is nearest first (ties: post id), within a post from its
nearest units first (ties: unit id):

1. surplus of non-critical posts (no post falls below its minimum);
2. surplus of critical posts (still none below its minimum);
3. only when ``below_min`` is allowed: the rest of the non-critical posts' officers, taking those
   posts below their minimum (each such release is flagged). Critical posts never go below.

A unit sends all its officers when the post can spare them and the need is not yet met, else a
detachment (part of the team; the rest stays). Units that are not releasable (on an incident, busy)
count towards ``present`` but never move. The plan says how many officers are still short.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class ReinforceError(ValueError):
    """A bad input (need < 1, a unit with no officers, a negative minimum...)."""


@dataclass(frozen=True)
class UnitAtPost:
    """A unit standing at a post: ``officers`` (>= 1), travel time ``eta_s`` to the zone, releasable or not."""

    unit_id: int
    officers: int
    eta_s: float
    releasable: bool = True


@dataclass(frozen=True)
class PostState:
    """A post now: its minimum staff, whether it is critical, and the units present at it."""

    post_id: int
    min_staff: int
    critical: bool
    units: tuple[UnitAtPost, ...]

    @property
    def present(self) -> int:
        return sum(u.officers for u in self.units)

    @property
    def surplus(self) -> int:
        return self.present - self.min_staff


@dataclass(frozen=True)
class Move:
    """``officers`` of unit ``unit_id`` leave post ``post_id``; ``below_min``: the post drops below its minimum."""

    post_id: int
    unit_id: int
    officers: int
    unit_officers: int
    eta_s: float
    below_min: bool


@dataclass(frozen=True)
class ReinforcementPlan:
    """The moves (fastest first), officers released, still ``short``, and officers ``left`` per post."""

    need: int
    moves: tuple[Move, ...]
    released: int
    short: int
    left: Mapping[int, int]


def _movable(post: PostState) -> list[UnitAtPost]:
    return sorted((u for u in post.units if u.releasable and math.isfinite(u.eta_s)),
                  key=lambda u: (u.eta_s, u.unit_id))


def _order(posts: Sequence[PostState]) -> list[PostState]:
    def key(p: PostState) -> tuple[float, int]:
        movable = _movable(p)
        return (movable[0].eta_s if movable else math.inf, p.post_id)
    return sorted(posts, key=key)


def plan_reinforcement(posts: Sequence[PostState], need: int, *, below_min: bool = False) -> ReinforcementPlan:
    """Release up to ``need`` officers from ``posts`` with the least loss of cover (see the module notes)."""
    if need < 1:
        raise ReinforceError(f"need must be >= 1, got {need}")
    for p in posts:
        if p.min_staff < 0:
            raise ReinforceError(f"post {p.post_id}: min_staff must be >= 0, got {p.min_staff}")
        for u in p.units:
            if u.officers < 1:
                raise ReinforceError(f"unit {u.unit_id}: officers must be >= 1, got {u.officers}")
    left = {p.post_id: p.present for p in posts}
    sent: dict[int, int] = {}  # unit id -> officers sent
    moves: dict[int, Move] = {}
    remaining = need
    phases: list[tuple[list[PostState], bool]] = [
        ([p for p in posts if not p.critical], False),
        ([p for p in posts if p.critical], False),
    ]
    if below_min:
        phases.append(([p for p in posts if not p.critical], True))
    for group, allow_below in phases:
        for post in _order(group):
            floor = 0 if allow_below else post.min_staff
            for unit in _movable(post):
                if remaining == 0:
                    break
                spare = left[post.post_id] - floor
                take = min(unit.officers - sent.get(unit.unit_id, 0), spare, remaining)
                if take <= 0:
                    continue
                sent[unit.unit_id] = sent.get(unit.unit_id, 0) + take
                left[post.post_id] -= take
                remaining -= take
                before = moves.get(unit.unit_id)
                moves[unit.unit_id] = Move(post.post_id, unit.unit_id, sent[unit.unit_id], unit.officers, unit.eta_s,
                                           left[post.post_id] < post.min_staff or bool(before and before.below_min))
    ordered = tuple(sorted(moves.values(), key=lambda m: (m.eta_s, m.unit_id)))
    released = need - remaining
    return ReinforcementPlan(need, ordered, released, remaining, left)
