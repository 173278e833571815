"""Readings over MQTT: topic ``anbao/v1/{event}/readings/#`` (event id or code), QoS 1.

A message carries one reading object, a JSON array of them (gateways batch 100 at a time), or
``{"readings": [...]}``: the same items as the HTTP door, through the same checks. The messages of
one consumer batch are stored together, one insert per event, in one transaction. One-reading
and gateway messages are validated all at once, as one JSON array spliced from their payloads; only
when that fails is each message looked at by itself.

MQTT has no reply channel, so a message that is not JSON, is for an unknown event, or had rejected
items is kept in ``dead_letter`` with the reasons (its good items are stored all the same). The
consumer never stops on a bad message: a message whose event's rows cannot be stored (the event was
deleted meanwhile) is dead-lettered too; only a failing database holds a batch back, unacknowledged,
for the consumer to try again.

Exactly once: the consumer acknowledges (PUBACK) a message only after its batch is committed, so a
process that dies before that gets the message again (QoS 1, kept session: docs/mqtt.md). A process
that dies between the commit and the PUBACK also gets it again; every MQTT reading therefore carries
an idempotency key (the sender's, else one derived from its device, time and values, so that the
same reading sent again has the same key), and the store keeps the first and counts the others as
duplicates (``ON CONFLICT DO NOTHING`` on the unique (event, key) index).
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pydantic_core
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from anbao.event import service as events
from anbao.sensing import decode, service, store
from anbao.sensing.decode import Decoded

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from anbao.core.mqtt import SlotPool

log = logging.getLogger("anbao.ingest")
TOPIC_FILTER = "anbao/v1/+/readings/#"
SOURCE = "mqtt"
#: how long a worker remembers that an event reference is unknown (it may be created meanwhile)
UNKNOWN_TTL_S = 5.0
#: reasons listed per dead letter (a gateway batch may hold thousands of bad items)
MAX_REASONS = 100


class Message(Protocol):
    topic: str
    payload: bytes


@dataclass
class _Group:
    """The messages of one batch for one event, and their items spliced into one batch."""

    messages: list[Any] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # first item index of each message (see _starts)
    decoded: Decoded = field(default_factory=Decoded)
    bad: dict[int, str] = field(default_factory=dict)  # message position -> why it was not used at all


def _ref(topic: str) -> str:
    parts = topic.split("/")
    return parts[2] if len(parts) > 3 else ""


def _splice(payload: bytes) -> bytes | None:
    """The items of a one-reading or array message as JSON text to join with commas into one array
    (empty for an empty array); None for anything else (``{"readings": [...]}``, not JSON ...)."""
    p = payload.strip()
    if p[:1] == b"{":
        return None if b'"readings"' in p else p
    if p[:1] == b"[" and p[-1:] == b"]":
        return p[1:-1].strip()
    return None


def _decode_group(group: _Group) -> None:
    """Fill ``group.decoded`` with the items of all its messages, indexed across the messages.

    First all messages are spliced into one JSON array and validated at once; only when that fails is
    each message parsed by itself (and then ``group.starts`` tells where each message's items begin).
    """
    parts = [_splice(m.payload) for m in group.messages]
    if all(p is not None for p in parts):
        try:
            valid = decode.ITEMS.validate_json(b"[" + b",".join(p for p in parts if p) + b"]")
            group.decoded = Decoded(items=list(enumerate(valid)), size=len(valid))
            return
        except ValidationError:
            pass  # some message is bad: look at each by itself
    items: list[Any] = []
    for k, m in enumerate(group.messages):
        group.starts.append(len(items))
        try:
            data = pydantic_core.from_json(m.payload)
        except ValueError as exc:
            group.bad[k] = f"not JSON: {exc}"
            continue
        if isinstance(data, dict) and isinstance(data.get("readings"), list):
            items.extend(data["readings"])
        elif isinstance(data, list):
            items.extend(data)
        elif isinstance(data, dict):
            items.append(data)
        else:
            group.bad[k] = 'not a reading, an array of readings, or {"readings": [...]}'
    group.decoded = decode.validate(items)


def _keyed(decoded: Decoded) -> None:
    """Give every item without an idempotency key one derived from its device, time and values.

    A QoS 1 message delivered again (after a consumer died between commit and PUBACK, or a gateway
    that sent it again) carries the same items, hence the same keys: the store keeps one. Two
    readings of one device at the same instant with the same values are one reading.
    """
    blake = hashlib.blake2b
    for _i, item in decoded.items:
        if not item.get("idempotency_key"):
            values = item.get("values")
            text = f"{item['sensor']}\x1f{item['at']}\x1f{item.get('value')!r}\x1f" + (
                repr(sorted(values.items())) if values else "")
            item["idempotency_key"] = "m:" + blake(text.encode(), digest_size=15).hexdigest()


def _starts(group: _Group) -> list[int]:
    """Where each message's items begin in the group's batch (counted again after a spliced decode)."""
    if not group.starts:
        n = 0
        for m in group.messages:
            group.starts.append(n)
            n += 1 if m.payload.lstrip()[:1] == b"{" else len(pydantic_core.from_json(m.payload))
    return group.starts


def _reasons(group: _Group, rejected: list[dict[str, Any]]) -> dict[int, list[str]]:
    """Rejected items grouped by the message they came in, with indices local to that message."""
    out: dict[int, list[str]] = defaultdict(list)
    starts = _starts(group)
    for r in rejected:
        k = bisect.bisect_right(starts, r["index"]) - 1
        local = r["index"] - starts[k]
        loc = ".".join(str(x) for x in r["loc"][2:])
        out[k].append(f"item {local}{' ' + loc if loc else ''}: {r['msg']}")
    return out


def _reason_text(lines: list[str], total: int) -> str:
    head = f"{len(lines)} of {total} items rejected" if total > 1 else "rejected"
    shown = lines[:MAX_REASONS]
    more = f"\n… and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return head + ":\n" + "\n".join(shown) + more


def make_handler(sessions: sessionmaker[Session], stats: dict[str, int] | None = None,
                 on_stored: Callable[[int], None] | None = None) -> Callable[[list[Any]], None]:
    """A batch handler for :class:`anbao.core.mqtt.SharedConsumer`.

    ``stats`` counts accepted, duplicate and rejected items, items for unknown events and dead
    letters; ``on_stored(event_id)`` is called after the commit for every event that got readings.
    """
    counts = stats if stats is not None else {}
    known: dict[str, int] = {}
    unknown: dict[str, float] = {}

    def count(key: str, n: int) -> None:
        if n:
            counts[key] = counts.get(key, 0) + n

    def event_id(db: Session, ref: str) -> int | None:
        if ref in known:
            return known[ref]
        if unknown.get(ref, 0.0) > time.monotonic():
            return None
        event = (events.get(db=db, event_id=int(ref)) if ref.isdigit() and len(ref) < 10
                 else events.get_by_code(db=db, code=ref[:40]))
        if event is None:
            unknown[ref] = time.monotonic() + UNKNOWN_TTL_S
            return None
        known[ref] = event.id
        return event.id

    def dead(db: Session, m: Any, reason: str, eid: int | None) -> None:
        store.dead_letter(db=db, source=SOURCE, payload=m.payload, reason=reason, topic=m.topic, event_id=eid)
        count("dead_letters", 1)

    def store_group(db: Session, ref: str, eid: int, group: _Group) -> int:
        _decode_group(group)
        _keyed(group.decoded)
        try:
            with db.begin_nested():
                out = service.store_decoded(db=db, event_id=eid, decoded=group.decoded, source=SOURCE)
        except IntegrityError as exc:  # e.g. the event or a device was deleted meanwhile
            known.pop(ref, None)
            log.warning("MQTT readings for event %s could not be stored: %s", ref, exc.orig)
            for m in group.messages:
                dead(db, m, f"could not be stored: {exc.orig}", eid)
            count("rejected", group.decoded.size)
            return 0
        count("accepted", out.accepted)
        count("duplicates", out.duplicates)
        count("rejected", len(out.rejected) + len(group.bad))
        if not (out.rejected or group.bad):
            return out.accepted
        by_message = _reasons(group, out.rejected)
        starts = _starts(group)
        for k, m in enumerate(group.messages):
            if k in group.bad:
                dead(db, m, group.bad[k], eid)
            elif k in by_message:
                end = starts[k + 1] if k + 1 < len(starts) else group.decoded.size
                dead(db, m, _reason_text(by_message[k], end - starts[k]), eid)
        return out.accepted

    def handle(batch: list[Any]) -> None:
        by_ref: dict[str, _Group] = defaultdict(_Group)
        for m in batch:
            by_ref[_ref(m.topic)].messages.append(m)
        stored: list[int] = []
        with decode.gc_paused(), sessions() as db:
            db.info["actor"] = SOURCE
            for ref, group in by_ref.items():
                eid = event_id(db, ref)
                if eid is None:
                    for m in group.messages:
                        dead(db, m, f"unknown event {ref!r} (topic {m.topic})", None)
                    count("unknown_event", len(group.messages))
                    continue
                try:
                    if store_group(db, ref, eid, group):
                        stored.append(eid)
                except DBAPIError:
                    raise  # the database is failing: leave the batch unacknowledged
                except Exception as exc:  # a message that breaks the handler must not stop the consumer
                    log.exception("MQTT messages for event %s could not be handled", ref)
                    for m in group.messages:
                        dead(db, m, f"could not be handled: {exc.__class__.__name__}: {exc}", eid)
            db.commit()
        for eid in stored:
            if on_stored is not None:
                try:
                    on_stored(eid)
                except Exception:
                    log.exception("ingest listener failed for event %s", eid)

    return handle


def lease_for(engine: Engine, prefix: str, var_dir: Path) -> Any:
    """The slot lease for the database the consumers store into: PostgreSQL advisory locks across
    machines, else file locks beside the SQLite file (one machine)."""
    from anbao.core.mqtt import FileLease, PgLease

    if engine.dialect.name == "postgresql":
        return PgLease(engine, prefix)
    database = engine.url.database
    folder = Path(f"{database}.mqtt-slots") if database and database != ":memory:" else var_dir / "mqtt-slots"
    return FileLease(folder / prefix)


def consume(*, url: str, engine: Engine, sessions: sessionmaker[Session], prefix: str, slots: int,
            session_expiry_s: int, var_dir: Path, group: str = "anbao-ingest", stats: dict[str, int] | None = None,
            on_stored: Callable[[int], None] | None = None, **options: Any) -> SlotPool:
    """Start storing MQTT readings through this process's share of the consumer slots (docs/mqtt.md).

    Raises OSError or MQTTError when the broker cannot be reached at start.
    """
    from anbao.core.mqtt import SlotPool

    pool = SlotPool(url, TOPIC_FILTER, make_handler(sessions, stats, on_stored), lease_for(engine, prefix, var_dir),
                    slots=slots, prefix=prefix, group=group, session_expiry_s=session_expiry_s, **options)
    pool.start()
    return pool
