"""The message bus: domain code publishes typed messages here and never touches MQTT or WebSockets.

:class:`InProcessBus` is the embedded default. Every message gets a bus-wide sequence number and is
kept in a bounded replay buffer, so a client that reconnects asks for what came after the last
number it saw (:meth:`InProcessBus.since`) and learns when the buffer no longer reaches back that far.
Subscribers are callbacks or asyncio queues; publishing is thread-safe and never blocks on a slow
subscriber (a full queue drops its oldest message and marks the gap).

With several API replicas (PostgreSQL and ``ANBAO_MQTT_URL``) the app uses
:class:`anbao.core.broker_bus.BrokerBus` instead: the same interface, global sequence numbers from
PostgreSQL and the messages carried by the MQTT broker (docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from anbao.core.time import utcnow


@dataclass(frozen=True)
class Message:
    topic: str  # e.g. "event/1/warning", "event/1/zone-state"
    seq: int
    at: datetime
    payload: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "seq": self.seq, "at": self.at.isoformat(), "payload": self.payload}


@dataclass
class Subscription:
    prefix: str
    queue: asyncio.Queue[Message] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    callback: Callable[[Message], None] | None = None
    dropped: int = 0
    _bus: InProcessBus | None = field(default=None, repr=False)

    def matches(self, topic: str) -> bool:
        return topic == self.prefix or topic.startswith(self.prefix.rstrip("/") + "/")

    def close(self) -> None:
        if self._bus is not None:
            self._bus.unsubscribe(self)


@dataclass(frozen=True)
class Replay:
    messages: list[Message]
    complete: bool  # False when the buffer no longer holds everything after the asked-for number


class Bus(Protocol):
    """What domain code and the app need of a bus; :class:`InProcessBus` is the embedded one.

    Two channels: live messages by topic (sequence-numbered, replayable, for WebSocket clients) and
    typed state changes (:mod:`anbao.core.events`) for the app's own subscribers (the warning watcher
    hears of stored readings this way, whatever door they came through).
    """

    @property
    def last_seq(self) -> int: ...

    def publish(self, topic: str, payload: dict[str, Any]) -> Message: ...

    def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Message]: ...

    def emit(self, change: Any) -> None: ...

    def subscribe(self, prefix: str, callback: Callable[[Message], None]) -> Subscription: ...

    def subscribe_changes(self, kind: type, callback: Callable[[Any], None]) -> Callable[[], None]: ...

    def subscribe_queue(self, prefix: str) -> Subscription: ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    def since(self, prefix: str, seq: int) -> Replay: ...

    def wait_for(self, seq: int, timeout_s: float) -> bool: ...


class InProcessBus:
    def __init__(self, *, replay: int = 20_000, queue_size: int = 10_000) -> None:
        self._seq = itertools.count(1)
        self._buffer: deque[Message] = deque(maxlen=replay)
        self._subs: list[Subscription] = []
        self._change_subs: list[tuple[type, Callable[[Any], None]]] = []
        self._lock = threading.Lock()
        self.queue_size = queue_size

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._buffer[-1].seq if self._buffer else 0

    def publish(self, topic: str, payload: dict[str, Any]) -> Message:
        with self._lock:
            msg = Message(topic=topic, seq=next(self._seq), at=utcnow(), payload=payload)
            self._buffer.append(msg)
            subs = [s for s in self._subs if s.matches(topic)]
        self._fan_out(msg, subs)
        return msg

    def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> list[Message]:
        """Publish ``(topic, payload)`` pairs in this order (the outbox of one transaction)."""
        return [self.publish(topic, payload) for topic, payload in items]

    def _fan_out(self, msg: Message, subs: list[Subscription]) -> None:
        for sub in subs:
            if sub.callback is not None:
                sub.callback(msg)
            elif sub.queue is not None and sub.loop is not None:
                sub.loop.call_soon_threadsafe(self._offer, sub, msg)

    def emit(self, change: Any) -> None:
        """Hand a committed typed change to the subscribers of its kind (in the committing thread)."""
        with self._lock:
            fns = [fn for kind, fn in self._change_subs if isinstance(change, kind)]
        for fn in fns:
            fn(change)

    def subscribe_changes(self, kind: type, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``callback(change)`` for every committed change of ``kind``; returns the unsubscribe function."""
        entry = (kind, callback)
        with self._lock:
            self._change_subs.append(entry)

        def cancel() -> None:
            with self._lock:
                if entry in self._change_subs:
                    self._change_subs.remove(entry)

        return cancel

    @staticmethod
    def _offer(sub: Subscription, msg: Message) -> None:
        assert sub.queue is not None
        if sub.queue.full():
            sub.queue.get_nowait()
            sub.dropped += 1
        sub.queue.put_nowait(msg)

    def subscribe(self, prefix: str, callback: Callable[[Message], None]) -> Subscription:
        sub = Subscription(prefix=prefix, callback=callback, _bus=self)
        with self._lock:
            self._subs.append(sub)
        return sub

    def subscribe_queue(self, prefix: str) -> Subscription:
        """A subscription delivering to an asyncio queue on the running loop (call from async code)."""
        sub = Subscription(prefix=prefix, queue=asyncio.Queue(self.queue_size), loop=asyncio.get_running_loop(),
                           _bus=self)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def since(self, prefix: str, seq: int) -> Replay:
        """Messages under ``prefix`` with a sequence number above ``seq``, oldest first."""
        probe = Subscription(prefix=prefix)
        with self._lock:
            oldest = self._buffer[0].seq if self._buffer else None
            out = [m for m in self._buffer if m.seq > seq and probe.matches(m.topic)]
        complete = oldest is None or seq + 1 >= oldest
        return Replay(messages=out, complete=complete)

    def wait_for(self, seq: int, timeout_s: float) -> bool:
        """True when number ``seq`` was given out. One process gives out every number itself: no waiting
        (the broker bus waits for a replica a few milliseconds ahead)."""
        return self.last_seq >= seq
