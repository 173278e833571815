"""CAP 1.2 import: an alert from outside (the weather bureau, a partner's system) becomes an AnBao warning.

Rules (:func:`import_cap`):

- ``status``: ``Actual`` imports a real warning, ``Exercise`` a drill warning (``exercise=True``); ``Test``,
  ``Draft`` and ``System`` messages are refused, and so are ``Ack`` and ``Error`` message types.
- ``Alert`` opens a warning of kind ``external`` whose key is ``cap:<sender>:<identifier>`` (see
  :func:`key_of`). The same alert imported twice is a conflict.
- ``Update`` finds the warning of a referenced message (``references``: ``sender,identifier,sent``; only
  messages of the same sender count) and moves its level, message and zone; when no open warning is found
  (unknown reference, or the warning was closed meanwhile) it opens a new one under the key of the first
  referenced message, so that later messages of the same chain find it.
- ``Cancel`` closes the open warnings of the referenced messages (by ``cap:<sender>``); a Cancel whose
  references match no warning is a 404, one whose warnings are all closed already a 409.
- An Alert or Update whose every ``info`` has expired (``expires`` at or before ``now``) is refused.
- Level: the most serious level among the infos still in force (:func:`anbao.alert.cap.level_of`: a ``level``
  parameter, else the CAP severity); ties go to a Chinese-language info, then to the first.
  Severity ``Unknown`` without a level parameter gives no level and is refused.
- Message: that info's description, else its headline, else its event, cut to 300 characters. When no zone
  matches, the area descriptions are added (``（区域：…）``) unless the text already names them.
- Zone: the first ``areaDesc`` (of that info, then of the others) that equals a zone code of the event, or
  the name of exactly one of its zones.
- Kept for re-export (:attr:`EarlyWarning.cap`, :func:`anbao.alert.cap_export.kept`): the message's scope
  with its restriction or addresses, and that info's event name, categories, instruction and expiry, so a
  Restricted drill alert goes out Restricted again, under its own event name and category.
- ``forecast`` is true when the certainty is Likely, Possible or Unlikely (not Observed); ``value`` comes
  from a numeric ``value`` parameter (AnBao's own export writes one).

An Exercise message may only update or cancel an exercise warning, and an Actual one only a real warning.
Errors are :class:`~anbao.core.errors.Invalid` (422), :class:`~anbao.core.errors.NotFound` (404) and
:class:`~anbao.core.errors.Conflict` (409), each with a ``loc`` naming the CAP element.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert import cap, cap_export, service
from anbao.alert.models import EarlyWarning
from anbao.core.errors import Conflict, Invalid, NotFound
from anbao.core.time import FIELD_MAX_FUTURE
from anbao.event.models import Event
from anbao.venue.models import Zone

KIND = "external"
KEY_MAX = 80  # EarlyWarning.key is String(80)
MESSAGE_MAX = 300  # EarlyWarning.message is String(300)
BY_MAX = 120  # EarlyWarning.closed_by is String(120)

_REFUSED_STATUS = {
    cap.Status.test: "a Test message is for testing the link and must be discarded",
    cap.Status.draft: "a Draft message is not issued",
    cap.Status.system: "a System message carries no warning (it is for the network itself)",
}
_FORECAST = (cap.Certainty.likely, cap.Certainty.possible, cap.Certainty.unlikely)

Action = Literal["opened", "updated", "closed"]


@dataclass(frozen=True)
class Imported:
    """What an import did: ``opened`` a new warning, ``updated`` an open one, or ``closed`` warnings."""

    warning: EarlyWarning
    action: Action
    closed: tuple[EarlyWarning, ...] = ()  # every warning a Cancel closed (``warning`` is the first)

    @property
    def created(self) -> bool:
        return self.action == "opened"


def key_of(sender: str, identifier: str) -> str:
    """The warning key of a CAP message: ``cap:<sender>:<identifier>``, or when that is longer than 80
    characters ``cap:sha256,<hex of "sender,identifier">``. The comma cannot occur in a CAP sender or
    identifier, so a hashed key never equals a plain one."""
    key = f"cap:{sender}:{identifier}"
    if len(key) <= KEY_MAX:
        return key
    return "cap:sha256," + hashlib.sha256(f"{sender},{identifier}".encode()).hexdigest()


def import_alert(*, db: Session, event_id: int, alert: cap.CapAlert, now: datetime) -> EarlyWarning:
    """Import ``alert`` into event ``event_id``; the warning opened, moved or closed (see :func:`import_cap`)."""
    return import_cap(db=db, event_id=event_id, alert=alert, now=now).warning


def import_cap(*, db: Session, event_id: int, alert: cap.CapAlert, now: datetime) -> Imported:
    """Import ``alert`` into event ``event_id`` at ``now`` (aware) following the rules of this module."""
    if now.utcoffset() is None:
        raise Invalid("now: a timezone-aware datetime is required")
    if db.get(Event, event_id) is None:
        raise NotFound(f"event {event_id} not found", loc=["path", "event_id"])
    if alert.sent > now + FIELD_MAX_FUTURE:  # the same clock tolerance as every time from the field
        raise Invalid(f"CAP sent {cap.format_datetime(alert.sent)} is in the future (more than "
                      f"{FIELD_MAX_FUTURE.seconds // 60} minutes ahead of {cap.format_datetime(now)}): clock error?",
                      loc=["body", "sent"])
    if alert.status in _REFUSED_STATUS:
        raise Invalid(f"CAP status {alert.status} is not imported: {_REFUSED_STATUS[alert.status]}; "
                      "import Actual warnings, or Exercise for drills", loc=["body", "status"])
    if alert.msg_type in (cap.MsgType.ack, cap.MsgType.error):
        raise Invalid(f"CAP msgType {alert.msg_type} is not imported: it acknowledges or rejects an earlier "
                      "message and carries no warning; send Alert, Update or Cancel", loc=["body", "msgType"])
    exercise = alert.status == cap.Status.exercise
    if alert.msg_type == cap.MsgType.cancel:
        return _cancel(db, event_id, alert, exercise, now)

    info = _chosen_info(alert, now)
    level = cap.level_of(info)
    assert level is not None
    zone = _zone(db, event_id, [info, *(i for i in alert.infos if i is not info)])
    zone_id = zone.id if zone is not None else None

    def raise_level(key: str) -> EarlyWarning:
        assert level is not None
        w = service.raise_level(db=db, event_id=event_id, key=key, kind=KIND, level=level.value, now=now,
                                zone_id=zone_id, value=_value(info), message=_message(info, zone),
                                forecast=info.certainty in _FORECAST, exercise=exercise)
        w.cap = cap_export.kept(alert, info)
        db.flush()
        return w

    if alert.msg_type == cap.MsgType.alert:
        key = key_of(alert.sender, alert.identifier)
        earlier = _by_keys(db, event_id, [key])
        if earlier:
            raise Conflict(f"CAP alert {alert.identifier} of {alert.sender} was already imported as warning "
                           f"{earlier[0].id} ({earlier[0].status}); send an Update or Cancel that references it",
                           loc=["body", "identifier"])
        return Imported(raise_level(key), "opened")

    refs = _same_sender_refs(alert)
    target = next((w for w in _by_keys(db, event_id, [key_of(s, i) for s, i in refs]) if w.status != "closed"),
                  None)
    if target is None:  # unknown reference, or closed meanwhile: the update still stands, open a new warning
        return Imported(raise_level(key_of(*refs[0]) if refs else key_of(alert.sender, alert.identifier)), "opened")
    _same_kind(target, exercise)
    w = raise_level(target.key)
    if w.zone_id != zone_id:  # the update supersedes the area too
        w.zone_id = zone_id
        db.flush()
    return Imported(w, "updated")


def _cancel(db: Session, event_id: int, alert: cap.CapAlert, exercise: bool, now: datetime) -> Imported:
    refs = _same_sender_refs(alert)
    found = _by_keys(db, event_id, [key_of(s, i) for s, i in refs])
    if not found:
        raise NotFound(f"CAP Cancel {alert.identifier}: no warning of event {event_id} was imported from the "
                       f"referenced message(s) {' '.join(alert.references)} (only messages of the same sender "
                       f"{alert.sender} count)", loc=["body", "references"])
    targets = [w for w in found if w.status != "closed"]
    if not targets:
        w = found[0]
        raise Conflict(f"warning {w.id} of the referenced CAP message is already closed "
                       f"(by {w.closed_by} at {w.closed_at.isoformat() if w.closed_at else '?'})",
                       loc=["body", "references"])
    for w in targets:
        _same_kind(w, exercise)
    info = alert.infos[0] if alert.infos else None
    reason = next((t.strip() for t in (alert.note, info.description if info else None,
                                       info.headline if info else None) if t and t.strip()), "")
    comment = f"CAP 解除：{alert.sender} 发布 Cancel {alert.identifier}" + (f"：{reason}" if reason else "")
    by = f"cap:{alert.sender}"[:BY_MAX]
    closed = tuple(service.close(db=db, warning=w, by=by, comment=comment, now=now) for w in targets)
    return Imported(closed[0], "closed", closed)


def _same_kind(w: EarlyWarning, exercise: bool) -> None:
    if w.exercise != exercise:
        mine, theirs = ("an Exercise", "a real") if exercise else ("an Actual", "an exercise (drill)")
        raise Conflict(f"{mine} message cannot change warning {w.id}, which is {theirs} warning",
                       loc=["body", "status"])


def _same_sender_refs(alert: cap.CapAlert) -> list[tuple[str, str]]:
    """``(sender, identifier)`` of the referenced messages of ``alert``'s own sender, in order."""
    out = []
    for ref in alert.references:
        sender, identifier, _sent = ref.split(",")
        if sender == alert.sender and (sender, identifier) not in out:
            out.append((sender, identifier))
    return out


def _by_keys(db: Session, event_id: int, keys: list[str]) -> list[EarlyWarning]:
    """Warnings of the event with one of ``keys``: open ones first, then the most recently changed."""
    if not keys:
        return []
    rows = db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id, EarlyWarning.key.in_(keys))
                      .order_by(EarlyWarning.changed_at.desc(), EarlyWarning.id.desc())).scalars().all()
    return sorted(rows, key=lambda w: w.status == "closed")  # stable: keeps the order within each group


def _chosen_info(alert: cap.CapAlert, now: datetime) -> cap.CapInfo:
    """The info that gives the warning: the most serious one in force; Chinese first on a tie, then the first."""
    if not alert.infos:
        raise Invalid(f"CAP {alert.msg_type} {alert.identifier} has no <info>: nothing says how serious it is",
                      loc=["body", "info"])
    in_force = [(i, info) for i, info in enumerate(alert.infos) if info.expires is None or info.expires > now]
    if not in_force:
        i, last = max(enumerate(alert.infos), key=lambda p: p[1].expires or now)
        raise Invalid(f"CAP {alert.msg_type} {alert.identifier} expired at "
                      f"{cap.format_datetime(last.expires or now)}; an expired alert is not imported",
                      loc=["body", "info", i, "expires"])
    ranked = [(level.rank, info.language.lower().startswith("zh"), -i, info)
              for i, info in in_force if (level := cap.level_of(info)) is not None]
    if not ranked:
        i, info = in_force[0]
        raise Invalid(f"CAP {alert.msg_type} {alert.identifier}: severity {info.severity} gives no warning level "
                      "(and there is no 'level' parameter); expected Extreme, Severe, Moderate or Minor",
                      loc=["body", "info", i, "severity"])
    return max(ranked, key=lambda r: r[:3])[3]


def _zone(db: Session, event_id: int, infos: list[cap.CapInfo]) -> Zone | None:
    """The zone named by the first matching areaDesc: a zone code, or the name of exactly one zone."""
    zones = db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.id)).scalars().all()
    by_code = {z.code: z for z in zones}
    by_name: dict[str, list[Zone]] = {}
    for z in zones:
        by_name.setdefault(z.name, []).append(z)
    for info in infos:
        for area in info.areas:
            desc = area.desc.strip()
            if desc in by_code:
                return by_code[desc]
            named = by_name.get(desc, [])
            if len(named) == 1:
                return named[0]
    return None


def _message(info: cap.CapInfo, zone: Zone | None) -> str:
    text = next((t.strip() for t in (info.description, info.headline, info.event) if t and t.strip()), "")
    descs = list(dict.fromkeys(a.desc.strip() for a in info.areas if a.desc.strip()))
    suffix = ""
    if zone is None and descs and not all(d in text for d in descs):
        suffix = _cut(f"（区域：{'、'.join(descs)}）", MESSAGE_MAX // 2)
    return _cut(text, MESSAGE_MAX - len(suffix)) + suffix


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _value(info: cap.CapInfo) -> float | None:
    for name, value in info.parameters:
        if name == "value":
            try:
                number = float(value)
            except ValueError:
                return None
            return number if math.isfinite(number) else None
    return None
