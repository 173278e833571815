"""Readings over MQTT: topic ``anbao/v1/{event}/readings/#`` (event id or code), QoS 1.

A message carries one reading object, a JSON array of them (gateways batch 100 at a time), or
``{"readings": [...]}`` — the same items as the HTTP door, through the same :func:`service.ingest`.
A batch of messages is stored in one transaction per event; rejected items are logged with their
reason (MQTT has no reply channel) and counted.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from anbao.event import service as events

log = logging.getLogger("anbao.ingest")
TOPIC_FILTER = "anbao/v1/+/readings/#"


class Message(Protocol):
    topic: str
    payload: bytes


def _items(payload: bytes) -> list[Any]:
    try:
        data = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [None]
    if isinstance(data, dict) and isinstance(data.get("readings"), list):
        return list(data["readings"])
    return data if isinstance(data, list) else [data]


def make_handler(sessions: sessionmaker[Session], stats: dict[str, int] | None = None
                 ) -> Callable[[list[Any]], None]:
    from anbao.sensing import service

    counts = stats if stats is not None else {}
    resolved: dict[str, int | None] = {}

    def event_id(db: Session, ref: str) -> int | None:
        if ref not in resolved:
            event = events.get(db=db, event_id=int(ref)) if ref.isdigit() else events.get_by_code(db=db, code=ref)
            resolved[ref] = event.id if event is not None else None
        return resolved[ref]

    def handle(batch: list[Any]) -> None:
        by_ref: dict[str, list[Any]] = defaultdict(list)
        for m in batch:
            parts = m.topic.split("/")
            by_ref[parts[2] if len(parts) > 3 else ""].extend(_items(m.payload))
        with sessions() as db:
            db.info["actor"] = "mqtt"
            for ref, items in by_ref.items():
                eid = event_id(db, ref)
                if eid is None:
                    counts["unknown_event"] = counts.get("unknown_event", 0) + len(items)
                    log.warning("MQTT readings for unknown event %r dropped (%d items)", ref, len(items))
                    continue
                out = service.ingest(db=db, event_id=eid, items=items, source="mqtt")
                counts["accepted"] = counts.get("accepted", 0) + out.accepted
                counts["duplicates"] = counts.get("duplicates", 0) + out.duplicates
                counts["rejected"] = counts.get("rejected", 0) + len(out.rejected)
                for r in out.rejected[:5]:
                    log.warning("MQTT reading rejected (event %s): %s at %s", ref, r["msg"], r["loc"])
            db.commit()

    return handle
