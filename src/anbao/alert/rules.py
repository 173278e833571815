"""Warning rules 预警规则: per event, per watched quantity and zone kind, with defaults.

Defaults (DOMAIN.md section 3 for density; the others are our configurable starting points):

==============  ===========================  =====  ======  ======  =====  ==========  ========
kind            unit                         blue   yellow  orange  red    plans       escalate
==============  ===========================  =====  ======  ======  =====  ==========  ========
density         persons/m2                   2      3       4       5      橙 YA-DKL,   5 min
                                                                           红 YA-SS
occupancy       % of seats (seated zones)    100    105     110     120    橙 YA-DKL    5 min
smoke           obscuration %/m              -      1.0     2.0     4.0    橙 YA-XF     2 min
gas             CO ppm                       25     50      100     200    橙 YA-RQ     5 min
queue_wait      minutes                      10     20      30      45     橙 YA-AJ     10 min
queue_length    persons                      300    600     1000    2000   -           10 min
device_silence  seconds since last reading   120    600     -       -      黄 YA-SB     -
==============  ===========================  =====  ======  ======  =====  ==========  ========

A zone-kind rule (``zone_kind="standing"``) wins over the event-wide one (``zone_kind=""``). A seated
zone (seats and no standing capacity, :func:`anbao.crowd.state.seats_of`) is judged by ``occupancy``
instead of ``density``. A default kind the event has no stored rule of (an event made before the kind
existed) is judged by its default rule, held in memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anbao.alert.models import WarningRule
from anbao.algorithms.levels import Thresholds
from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.core.vocab import ZONE_KINDS
from anbao.plan import defaults as plan_defaults
from anbao.plan import service as plans

UNITS: dict[str, tuple[str, str]] = {
    "density": ("人/㎡", "persons/m2"), "occupancy": ("%", "% of seats"),
    "gas": ("ppm", "ppm CO"), "smoke": ("%/m", "obscuration %/m"),
    "temperature": ("℃", "°C"), "queue_wait": ("分钟", "minutes"), "queue_length": ("人", "persons"),
    "device_silence": ("秒", "seconds"),
    "camera": ("级", "severity"),
}
LEVELS = ("blue", "yellow", "orange", "red")

DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {"kind": "density", "blue": 2.0, "yellow": 3.0, "orange": 4.0, "red": 5.0, "hysteresis": 0.2, "min_hold_s": 30,
     "escalate_after_min": 5, "plans": {"orange": "YA-DKL", "red": "YA-SS"}},
    {"kind": "occupancy", "blue": 100.0, "yellow": 105.0, "orange": 110.0, "red": 120.0, "hysteresis": 3.0,
     "min_hold_s": 30, "escalate_after_min": 5, "plans": {"orange": "YA-DKL"}},
    {"kind": "smoke", "blue": None, "yellow": 1.0, "orange": 2.0, "red": 4.0, "hysteresis": 0.2, "min_hold_s": 30,
     "escalate_after_min": 2, "plans": {"orange": "YA-XF"}},
    {"kind": "gas", "blue": 25.0, "yellow": 50.0, "orange": 100.0, "red": 200.0, "hysteresis": 5.0,
     "min_hold_s": 60, "escalate_after_min": 5, "plans": {"orange": "YA-RQ"}},
    {"kind": "queue_wait", "blue": 10.0, "yellow": 20.0, "orange": 30.0, "red": 45.0, "hysteresis": 2.0,
     "min_hold_s": 60, "escalate_after_min": 10, "plans": {"orange": "YA-AJ"}},
    {"kind": "queue_length", "blue": 300.0, "yellow": 600.0, "orange": 1000.0, "red": 2000.0, "hysteresis": 50.0,
     "min_hold_s": 60, "escalate_after_min": 10, "plans": {}},
    {"kind": "device_silence", "blue": 120.0, "yellow": 600.0, "orange": None, "red": None, "hysteresis": 0.0,
     "min_hold_s": 0, "escalate_after_min": None, "plans": {"yellow": "YA-SB"}},
)


def thresholds(rule: WarningRule | dict[str, Any]) -> Thresholds:
    """The rule as :class:`Thresholds`; ValueError when the numbers do not make a valid ladder.

    The rule's ``min_hold_s`` is both the hold of a level and its off-delay (``clear_s``): a level drops
    only after it was held that long and the value then stayed beyond the release, sample after sample,
    that long (issue 13 item 9: a full stand at 100 % +- 5 % counting noise flapped yellow/blue every 30 s)."""
    get = rule.get if isinstance(rule, dict) else lambda k: getattr(rule, k)
    hold = float(get("min_hold_s") or 0.0)
    return Thresholds(blue=get("blue"), yellow=get("yellow"), orange=get("orange"), red=get("red"),
                      hysteresis=float(get("hysteresis") or 0.0), min_hold_s=hold, clear_s=hold)


def prepare_rule(*, db: Session, event_id: int, data: dict[str, Any], current: WarningRule | None) -> dict[str, Any]:
    merged = {k: getattr(current, k) for k in (*LEVELS, "hysteresis", "min_hold_s", "kind", "zone_kind")} \
        if current is not None else {}
    merged.update(data)
    if merged.get("zone_kind") and merged["zone_kind"] not in ZONE_KINDS:
        raise Invalid(f"unknown zone kind {merged['zone_kind']!r}", loc=["body", "zone_kind"])
    if current is None:
        clash = db.execute(select(WarningRule.id).where(
            WarningRule.event_id == event_id, WarningRule.kind == merged["kind"],
            WarningRule.zone_kind == (merged.get("zone_kind") or ""))).first()
        if clash is not None:
            raise Invalid(f"the event already has a {merged['kind']} rule for zone kind "
                          f"{merged.get('zone_kind') or '(all)'!r} (rule {clash[0]}); change that one",
                          loc=["body", "kind"])
    try:
        thresholds(merged)
    except ValueError as exc:
        raise Invalid(f"thresholds: {exc}", loc=["body"]) from exc
    for level, code in (data.get("plans") or {}).items():
        if plans.by_code(db=db, event_id=event_id, code=code) is None:
            raise Invalid(f"plan {code!r} does not exist in this event", loc=["body", "plans", level])
    for key in ("plans", "enabled", "hysteresis", "min_hold_s", "note"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    return data


RULES = crud.Kind(model=WarningRule, label="warning rule", unique="id", prepare=prepare_rule,
                  order_by=("kind", "zone_kind"))


def ensure_defaults(*, db: Session, event_id: int) -> bool:
    """Give an event without any rule the default rules (and the default plans they name).

    Two requests may find no rule at the same time (a page load and the watcher): the loser's insert
    fails on the unique keys inside its savepoint (IntegrityError), or its plan check finds the winner's
    plans committed in between (Invalid: "already exists"), and it goes on with the winner's rules.
    """
    if db.execute(select(func.count()).select_from(WarningRule).where(WarningRule.event_id == event_id)).scalar():
        return False
    try:
        with db.begin_nested():
            plan_defaults.ensure_defaults(db=db, event_id=event_id)
            known = {p.code for p in crud.list_rows(db=db, kind=plans.PLANS, event_id=event_id, limit=None)}
            db.add_all(WarningRule(event_id=event_id, zone_kind="", enabled=True, note="默认规则",
                                   **{**r, "plans": {lv: c for lv, c in r["plans"].items() if c in known}})
                       for r in DEFAULT_RULES)
            db.flush()
    except (IntegrityError, Invalid):
        return False
    return True


class RuleBook:
    """The enabled rules of one event, looked up by (kind, zone kind)."""

    def __init__(self, rules: list[WarningRule]) -> None:
        self._by = {(r.kind, r.zone_kind or ""): r for r in rules if r.enabled}
        stored = {r.kind for r in rules}
        for r in DEFAULT_RULES:  # a default kind the event has no rule of: its default, in memory only
            if rules and r["kind"] not in stored:
                self._by[(r["kind"], "")] = WarningRule(event_id=rules[0].event_id, zone_kind="", enabled=True,
                                                        note="默认规则", **r)

    def find(self, kind: str, zone_kind: str | None) -> WarningRule | None:
        return self._by.get((kind, zone_kind or "")) or self._by.get((kind, ""))

    def thresholds_by_zone_kind(self, kind: str) -> dict[str, Thresholds]:
        """The rule of ``kind`` as thresholds per zone kind; key ``""`` is the event-wide rule (if enabled)."""
        return {zk: thresholds(r) for (k, zk), r in self._by.items() if k == kind}

    @classmethod
    def load(cls, *, db: Session, event_id: int, create_defaults: bool = False) -> RuleBook:
        """The event's rules. An event without any rule is judged by the default rules: stored first when
        ``create_defaults`` (a writing transaction), else held in memory only, so that a read (a screen, the
        watcher's reading phase) never writes and never needs the SQLite write lock."""
        if create_defaults:
            ensure_defaults(db=db, event_id=event_id)
        stored = list(db.execute(select(WarningRule).where(WarningRule.event_id == event_id)).scalars())
        if stored or create_defaults:
            return cls(stored)
        return cls([WarningRule(event_id=event_id, zone_kind="", enabled=True, note="默认规则", **r)
                    for r in DEFAULT_RULES])


def density_thresholds(*, db: Session, event_id: int) -> dict[str, Thresholds]:
    """The density levels the event's warning rules use, per zone kind (``""``: the event-wide rule)."""
    return RuleBook.load(db=db, event_id=event_id).thresholds_by_zone_kind("density")


def occupancy_thresholds(*, db: Session, event_id: int) -> dict[str, Thresholds]:
    """The occupancy levels (% of seats) of seated zones, per zone kind (``""``: the event-wide rule)."""
    return RuleBook.load(db=db, event_id=event_id).thresholds_by_zone_kind("occupancy")
