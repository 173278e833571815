"""Messages that go out on the bus only when the transaction that caused them commits.

Domain services call :func:`post` while they change rows; an ``after_commit`` listener hands the
messages to the bus kept in ``session.info["bus"]`` (set by the app on its sessionmaker), and a
rollback throws them away. So a client never hears of a warning or a task that was not stored.
Sessions without a bus (scripts, some tests) keep nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = "outbox"


def post(db: Session, topic: str, payload: dict[str, Any]) -> None:
    if db.info.get("bus") is not None:
        db.info.setdefault(KEY, []).append((topic, payload))


def pending(db: Session) -> list[tuple[str, dict[str, Any]]]:
    return list(db.info.get(KEY, []))


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    messages = session.info.pop(KEY, None)
    bus = session.info.get("bus")
    if messages and bus is not None:
        for topic, payload in messages:
            bus.publish(topic, payload)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(KEY, None)
