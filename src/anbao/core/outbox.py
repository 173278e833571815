"""Messages that go out on the bus only when the transaction that caused them commits.

Domain services call :func:`post` while they change rows; an ``after_commit`` listener hands the
messages to the bus kept in ``session.info["bus"]`` (set by the app on its sessionmaker), and a
rollback throws them away. So a client never hears of a warning or a task that was not stored.
Typed changes (:mod:`anbao.core.events`) travel the same way and reach the bus's change
subscribers (:meth:`anbao.core.bus.InProcessBus.emit`) in the order they were recorded.
Sessions without a bus (scripts, some tests) keep nothing.

With several replicas (:class:`anbao.core.broker_bus.BrokerBus`) the messages are numbered and sent
through the broker after the commit: a process that dies between its commit and the broker loses
those live messages (at most once), never the rows; docs/scale-out.md.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = "outbox"
log = logging.getLogger("anbao.outbox")


def post(db: Session, topic: str, payload: dict[str, Any]) -> None:
    """A live message only (zone-state and sensor-health deltas); state changes use :func:`post_change`."""
    if db.info.get("bus") is not None:
        db.info.setdefault(KEY, []).append((topic, payload, None))


def post_change(db: Session, change: Any, topic: str | None, payload: dict[str, Any] | None) -> None:
    """A typed change (:mod:`anbao.core.events`) with its live message, if it has one."""
    if db.info.get("bus") is not None:
        db.info.setdefault(KEY, []).append((topic, payload, change))


def pending(db: Session) -> list[tuple[str, dict[str, Any]]]:
    return [(t, p) for t, p, _ in db.info.get(KEY, []) if t is not None and p is not None]


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    messages = session.info.pop(KEY, None)
    bus = session.info.get("bus")
    if messages and bus is not None:
        live = [(topic, payload) for topic, payload, _ in messages if topic is not None and payload is not None]
        try:  # one call: the broker bus numbers a transaction's messages in one round trip
            bus.publish_many(live)
        except Exception:  # the transaction is committed: a bus failure must not turn it into an error
            log.exception("live messages of a committed transaction not sent (%d): clients resync over REST",
                          len(live))
        for _topic, _payload, change in messages:
            if change is not None:
                bus.emit(change)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(KEY, None)
