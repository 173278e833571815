"""The bus of several API replicas: global sequence numbers from PostgreSQL, messages carried by MQTT.

:class:`BrokerBus` has the interface of :class:`~anbao.core.bus.InProcessBus` (publish, subscribe,
``subscribe_queue``, ``since``, ``last_seq``, typed changes) so the outbox, the live WebSocket and the
watcher do not know which one they have. What changes is where a message goes:

1. **Number**: ``publish`` takes the message's sequence number from the PostgreSQL sequence
   ``anbao_live_seq`` (``nextval``, one round trip per committed transaction's messages). The
   numbers are global: every replica numbers from the one sequence, so a ``since`` a client got on
   one replica means the same on every other.
2. **Carry**: the message goes to the broker at QoS 1 on ``<root>/msg/<topic>`` (``root`` is
   ``ANBAO_MQTT_LIVE_PREFIX``, default ``anbao/live``). Every replica subscribes to ``<root>/#``
   with MQTT 5 *No Local*, so it hears every other replica's messages and not its own; its own go to
   its subscribers directly.
3. **Order**: messages of several replicas reach a replica in any interleaving. Each replica puts
   them back in sequence order (:class:`Reorder`): a message is handed on when all lower numbers
   were; a missing number is waited for at most ``hold_s`` (a publisher died between ``nextval``
   and the broker, or a broker outage) and then skipped as a *hole*. A number arriving after it was
   skipped is *late*: dropped and counted, so that nobody gets anything twice or out of order.
4. **Replay**: each replica keeps the delivered messages in its bounded replay buffer, so a client
   that comes back to any replica with ``since=N`` gets what followed N there, or a resync when the
   buffer does not reach back to N (the replica started after N, or it rolled over).

Typed changes: the kinds given in ``broadcast`` (:class:`~anbao.core.events.ReadingsStored`, so
that the one warning engine hears the batches stored by every replica and worker) are also sent on
``<root>/change/<kind>`` and handed to the change subscribers of every other replica, at most once
each (by the change's id). Other changes reach the subscribers of the replica that committed them
only; what must happen once per change is done by the in-transaction handlers (:mod:`anbao.wiring`).

Design, guarantees and measured latency: docs/scale-out.md.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from anbao.core.bus import InProcessBus, Message, Replay, Subscription
from anbao.core.mqtt import broker_address
from anbao.core.time import utcnow

log = logging.getLogger("anbao.bus")

SEQUENCE = "anbao_live_seq"


def uses_broker(*, database_url: str, mqtt_url: str | None) -> bool:
    """Several replicas are possible: PostgreSQL and a broker. SQLite is one process: in-process bus."""
    return bool(mqtt_url) and database_url.startswith("postgresql")


def encode_change(change: Any) -> dict[str, Any]:
    """A frozen dataclass change as JSON-able data (datetimes tagged, tuples as lists)."""
    def enc(v: Any) -> Any:
        if isinstance(v, datetime):
            return {"$dt": v.isoformat()}
        if isinstance(v, tuple | list):
            return [enc(x) for x in v]
        return v

    return {f.name: enc(getattr(change, f.name)) for f in dataclasses.fields(change)}


def decode_change(kind: type, data: dict[str, Any]) -> Any:
    """The inverse of :func:`encode_change` (lists come back as tuples: the changes are frozen)."""
    def dec(v: Any) -> Any:
        if isinstance(v, dict) and set(v) == {"$dt"}:
            return datetime.fromisoformat(v["$dt"])
        if isinstance(v, list):
            return tuple(dec(x) for x in v)
        return v

    names = {f.name for f in dataclasses.fields(kind)}
    return kind(**{k: dec(v) for k, v in data.items() if k in names})


class Reorder:
    """Hands on messages in sequence order from ``start`` on; waits ``hold_s`` at most for a missing number.

    Not thread-safe by itself: :class:`BrokerBus` calls it under its delivery lock.
    """

    def __init__(self, start: int, hold_s: float, deliver: Callable[[Message], None]) -> None:
        self.next = start
        self.hold_s = hold_s
        self.deliver = deliver
        self.pending: dict[int, Message] = {}
        self.gap_since: float | None = None
        self.holes = 0  # numbers skipped after waiting hold_s
        self.late = 0  # numbers that came after they were skipped: dropped
        self.duplicates = 0
        self._skipped: set[int] = set()  # the recent holes, to tell a late message from a duplicate

    def arrive(self, msg: Message, now: float) -> None:
        if msg.seq < self.next:
            if msg.seq in self._skipped:
                self.late += 1
                log.warning("live message %d came more than %.1f s late: dropped", msg.seq, self.hold_s)
            else:
                self.duplicates += 1
            return
        if msg.seq in self.pending:
            self.duplicates += 1
            return
        self.pending[msg.seq] = msg
        self._flush(now)

    def tick(self, now: float) -> None:
        """Skip the missing numbers once the oldest waiting message has waited ``hold_s``."""
        if self.pending and self.gap_since is not None and now - self.gap_since >= self.hold_s:
            first = min(self.pending)
            skipped = range(self.next, first)
            self.holes += len(skipped)
            self._skipped.update(skipped)
            if len(self._skipped) > 10_000:  # remember the recent holes only
                self._skipped = set(sorted(self._skipped)[-5_000:])
            log.warning("live message(s) %d-%d never came within %.1f s: skipped", skipped.start, first - 1,
                        self.hold_s)
            self.next = first
            self._flush(now)

    def _flush(self, now: float) -> None:
        before = self.next
        while self.next in self.pending:
            msg = self.pending.pop(self.next)
            self.next += 1
            self.deliver(msg)
        if not self.pending:
            self.gap_since = None
        elif self.gap_since is None or self.next != before:  # a new gap: its wait starts now
            self.gap_since = now


class BrokerBus(InProcessBus):
    """Live messages numbered by PostgreSQL and carried by the MQTT broker to every replica."""

    def __init__(self, engine: Engine, mqtt_url: str, *, root: str = "anbao/live", hold_s: float = 0.5,
                 broadcast: Iterable[type] = (), replay: int = 20_000, queue_size: int = 10_000) -> None:
        super().__init__(replay=replay, queue_size=queue_size)
        self.engine, self.root, self.hold_s = engine, root.rstrip("/"), hold_s
        self.host, self.port = broker_address(mqtt_url)
        self.node = uuid.uuid4().hex[:12]
        self.broadcast = {kind.kind if hasattr(kind, "kind") else kind.__name__: kind for kind in broadcast}
        self._order = threading.RLock()  # delivery in sequence order, one message at a time
        self._reorder: Reorder | None = None
        self._floor = 0  # the replay buffer holds every delivered message above this number
        self._seen_changes: OrderedDict[str, None] = OrderedDict()
        self._conn: Connection | None = None
        self._conn_lock = threading.RLock()
        self._client: Any = None
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="anbao-bus-reorder", daemon=True)
        self.failed_publishes = 0

    # -- life cycle -----------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> None:
        """Create the sequence if needed, connect, subscribe, then start numbering from the sequence's
        current value (a message numbered before the subscription was in place is not this replica's)."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.subscribeoptions import SubscribeOptions

        self._ensure_sequence()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"anbao-live-{self.node}",
                             protocol=mqtt.MQTTv5)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        options = SubscribeOptions(qos=1, noLocal=True)

        def on_connect(c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
            if not reason.is_failure:
                c.subscribe(f"{self.root}/#", options=options)

        def on_subscribe(_c: Any, _u: Any, _mid: Any, codes: Any, _props: Any) -> None:
            if codes and not codes[0].is_failure:
                self._subscribed.set()

        def on_disconnect(_c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
            if not self._stop.is_set():
                log.warning("live bus: broker connection lost (%s); reconnecting", reason)

        client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, self._on_message
        client.on_disconnect = on_disconnect
        client.connect(self.host, self.port, keepalive=30, clean_start=True)
        client.loop_start()
        self._client = client
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise TimeoutError(f"no subscription to {self.root}/# at {self.host}:{self.port} within {timeout_s} s")
        start = self._current() + 1
        with self._order:
            self._reorder = Reorder(start, self.hold_s, self._deliver)
            self._floor = start - 1
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def stats(self) -> dict[str, int]:
        r = self._reorder
        return {"holes": r.holes if r else 0, "late": r.late if r else 0,
                "duplicates": r.duplicates if r else 0, "failed_publishes": self.failed_publishes}

    # -- numbers ----------------------------------------------------------------------------------

    def _ensure_sequence(self) -> None:
        with self.engine.connect() as conn:
            try:
                conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}"))
                conn.commit()
            except (ProgrammingError, DBAPIError):  # two replicas created it at the same moment
                conn.rollback()

    def _numbers(self, n: int) -> list[int]:
        """``n`` fresh global sequence numbers, ascending (one round trip on a dedicated connection)."""
        with self._conn_lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                    rows = self._conn.execute(text(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, :n)"),  # nosec B608
                                              {"n": n}).scalars().all()
                    return sorted(rows)
                except DBAPIError:
                    if self._conn is not None:
                        self._conn.invalidate()
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _current(self) -> int:
        with self.engine.connect() as conn:
            last, called = conn.execute(text(f"SELECT last_value, is_called FROM {SEQUENCE}")).one()  # nosec B608
        return int(last) if called else int(last) - 1

    # -- publishing -------------------------------------------------------------------------------

    def publish(self, topic: str, payload: dict[str, Any]) -> Message:
        return self.publish_many([(topic, payload)])[0]

    def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Message]:
        """Number the messages, send them to the broker in that order, and hand them to this replica's
        subscribers (in global order, with the other replicas' messages)."""
        if not items:
            return []
        at = utcnow()
        client = self._client
        with self._conn_lock:  # numbers and broker order the same within this replica
            seqs = self._numbers(len(items))
            msgs = [Message(topic=t, seq=s, at=at, payload=p) for (t, p), s in zip(items, seqs, strict=True)]
            if client is not None:
                for m in msgs:
                    body = json.dumps({"seq": m.seq, "at": m.at.isoformat(), "topic": m.topic,
                                       "payload": m.payload}, ensure_ascii=False, default=str)
                    client.publish(f"{self.root}/msg/{m.topic}", body, qos=1)
        for m in msgs:
            self._arrive(m)
        return msgs

    def emit(self, change: Any) -> None:
        super().emit(change)
        kind = getattr(change, "kind", None)
        if kind in self.broadcast and self._client is not None:
            self._remember(change.id)
            body = json.dumps({"node": self.node, "change": encode_change(change)}, ensure_ascii=False, default=str)
            self._client.publish(f"{self.root}/change/{kind}", body, qos=1)

    # -- receiving --------------------------------------------------------------------------------

    def _on_message(self, _c: Any, _u: Any, m: Any) -> None:
        try:
            rest = m.topic[len(self.root) + 1:]
            body = json.loads(m.payload)
            if rest.startswith("msg/"):
                self._arrive(Message(topic=body["topic"], seq=int(body["seq"]),
                                     at=datetime.fromisoformat(body["at"]), payload=body["payload"]))
            elif rest.startswith("change/"):
                kind = self.broadcast.get(rest.removeprefix("change/"))
                if kind is None or body.get("node") == self.node:
                    return
                change = decode_change(kind, body["change"])
                if self._remember(change.id):
                    super().emit(change)
        except Exception:  # a bad message must not stop the bus
            log.exception("live bus: cannot use message on %s", m.topic)

    def _remember(self, change_id: str) -> bool:
        """True the first time ``change_id`` is seen (QoS 1 may deliver twice)."""
        with self._lock:
            if change_id in self._seen_changes:
                return False
            self._seen_changes[change_id] = None
            if len(self._seen_changes) > 10_000:
                self._seen_changes.popitem(last=False)
            return True

    def _arrive(self, msg: Message) -> None:
        with self._order:
            if self._reorder is None:  # not started (or a message numbered before the start)
                return
            self._reorder.arrive(msg, time.monotonic())

    def _tick_loop(self) -> None:
        while not self._stop.wait(max(0.01, self.hold_s / 5)):
            with self._order:
                if self._reorder is not None:
                    self._reorder.tick(time.monotonic())

    def _deliver(self, msg: Message) -> None:
        """In sequence order, under the delivery lock: into the replay buffer, out to the subscribers."""
        with self._lock:
            if len(self._buffer) == self._buffer.maxlen:
                self._floor = self._buffer[0].seq
            self._buffer.append(msg)
            subs = [s for s in self._subs if s.matches(msg.topic)]
        self._fan_out(msg, subs)

    @property
    def last_seq(self) -> int:
        with self._order:
            return self._reorder.next - 1 if self._reorder is not None else 0

    def since(self, prefix: str, seq: int) -> Replay:
        """Messages under ``prefix`` numbered above ``seq``; complete when this replica's buffer reaches back
        to ``seq`` (it does not when the replica started after ``seq`` or its buffer rolled over)."""
        probe = Subscription(prefix=prefix)
        with self._lock:
            out = [m for m in self._buffer if m.seq > seq and probe.matches(m.topic)]
            complete = seq >= self._floor
        return Replay(messages=out, complete=complete)

    def wait_for(self, seq: int, timeout_s: float) -> bool:
        """Wait until this replica delivered number ``seq`` (a client may come from a replica a few
        milliseconds ahead); False after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.last_seq < seq:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True
