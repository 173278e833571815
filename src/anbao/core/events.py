"""One typed event per state change 状态变更事件.

Every change of the operation (readings stored, a warning raised or moved, a plan started, a task
given or moved, an incident reported or changed) is one frozen dataclass, recorded by one call:
:func:`record`. From it are derived, never written by hand:

- the timeline entry 时间线 (its Chinese text, :meth:`Change.text`), with the cause id;
- the live message (:attr:`Change.topic`, :meth:`Change.payload`), sent when the transaction commits;
- the audit cause: the session's ``info["cause"]`` is the change's cause, so the audit rows the
  transaction writes carry it (:mod:`anbao.core.audit`);
- the typed event itself, handed after commit to the bus's subscribers (:meth:`Bus.subscribe_changes`).

Cause and parent chain the changes the way Home Assistant's Context does: ``cause`` is the id of
what started the chain (a reading batch, a request, a warning pass) and stays the same along it;
``parent`` is the id of the change that directly caused this one. A reading batch → warning →
plan activation → tasks → dispatch thus share one cause id.

Handlers that must act in the same transaction (a warning starts the plans its rule names; a
task moved on a phone moves the unit's assignment) are registered with :func:`on` by the app's
wiring (:mod:`anbao.wiring`), not at import time: the capabilities never import each other for it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy.orm import Session

from anbao.core import outbox, timeline


def new_id(prefix: str = "") -> str:
    """A fresh id for a change or a cause (32 hex digits, with an optional ``prefix-``)."""
    return (prefix + "-" if prefix else "") + uuid.uuid4().hex


@dataclass(frozen=True, kw_only=True)
class Change:
    """A state change. Subclasses name their ``kind`` and say what the timeline and the live stream get."""

    kind: ClassVar[str] = "change"
    #: live-stream topic under ``event/{event_id}/``; None: the change has no live message
    topic: ClassVar[str | None] = None

    event_id: int
    at: datetime
    actor: str = "system"
    cause: str | None = None
    parent: str | None = None
    id: str = field(default_factory=new_id)

    @property
    def subject(self) -> str:
        return ""

    def text(self) -> str | None:
        """The timeline line in Chinese; None keeps the change off the timeline."""
        return None

    def data(self) -> dict[str, Any] | None:
        """Extra facts for the timeline entry."""
        return None

    def payload(self) -> dict[str, Any] | None:
        """The live message; None sends none."""
        return None

    @property
    def timeline_kind(self) -> str:
        return self.kind


# ----------------------------------------------------------------------------------------------- sensing


@dataclass(frozen=True, kw_only=True)
class ReadingsStored(Change):
    """A batch of readings was stored, whatever the door (HTTP, MQTT, GB/T 28181, simulator)."""

    kind: ClassVar[str] = "readings.stored"
    source: str = ""
    accepted: int = 0
    device_ids: tuple[int, ...] = ()
    zone_ids: tuple[int, ...] = ()
    #: the newest reading of each device in the batch: (device id, time as stored UTC text, value or None), so
    #: that the warning engine moves its live state without reading storage again (issue 14)
    newest: tuple[tuple[int, str, float | None], ...] = ()


@dataclass(frozen=True, kw_only=True)
class CameraAlarmReceived(Change):
    """A video-analytics alarm (intrusion, tripwire, loitering...) that is not a count: an observation for the rules."""

    kind: ClassVar[str] = "camera.alarm"
    device_id: int
    zone_id: int | None
    alarm: str  # alarm kind code, e.g. intrusion
    priority: int  # 1 (highest) ... 4
    message: str


# ----------------------------------------------------------------------------------------------- warnings


@dataclass(frozen=True, kw_only=True)
class WarningChange(Change):
    """A step of one warning; ``warning`` is the warning as the live stream shows it."""

    topic: ClassVar[str | None] = "warning"
    warning_id: int
    warning: dict[str, Any]
    line: str = ""

    @property
    def subject(self) -> str:
        return f"warning:{self.warning_id}"

    def text(self) -> str | None:
        return self.line

    def data(self) -> dict[str, Any] | None:
        w = self.warning
        return {"level": w.get("level"), "value": w.get("value"), "status": w.get("status")}

    def payload(self) -> dict[str, Any] | None:
        return self.warning


@dataclass(frozen=True, kw_only=True)
class WarningRaised(WarningChange):
    kind: ClassVar[str] = "warning.raised"
    level: str
    rule_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class WarningLevelChanged(WarningChange):
    """The level moved (``before`` → ``after``); a move that changes no level has an empty line."""

    kind: ClassVar[str] = "warning.level"
    before: str
    after: str
    rule_id: int | None = None

    def text(self) -> str | None:
        return self.line or None


@dataclass(frozen=True, kw_only=True)
class WarningEscalated(WarningChange):
    kind: ClassVar[str] = "warning.escalated"
    to: str = ""


@dataclass(frozen=True, kw_only=True)
class WarningAcknowledged(WarningChange):
    kind: ClassVar[str] = "warning.acknowledged"


@dataclass(frozen=True, kw_only=True)
class WarningClosed(WarningChange):
    kind: ClassVar[str] = "warning.closed"


# ----------------------------------------------------------------------------------------------- response


@dataclass(frozen=True, kw_only=True)
class PlanActivated(Change):
    kind: ClassVar[str] = "plan.activated"
    topic: ClassVar[str | None] = "plan-activation"
    activation_id: int
    plan_id: int
    code: str
    name: str
    warning_id: int | None
    incident_id: int | None
    level: str | None
    task_ids: tuple[int, ...]
    reason: str
    line: str

    @property
    def subject(self) -> str:
        return f"plan:{self.plan_id}"

    def text(self) -> str | None:
        return self.line

    def data(self) -> dict[str, Any] | None:
        return {"activation_id": self.activation_id, "warning_id": self.warning_id, "incident_id": self.incident_id,
                "level": self.level, "task_ids": list(self.task_ids)}

    def payload(self) -> dict[str, Any] | None:
        return {"id": self.activation_id, "plan_id": self.plan_id, "code": self.code, "name": self.name,
                "warning_id": self.warning_id, "incident_id": self.incident_id, "level": self.level,
                "task_ids": list(self.task_ids), "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class TaskChange(Change):
    topic: ClassVar[str | None] = "task"
    task_id: int
    task: dict[str, Any]
    line: str
    extra: dict[str, Any] | None = None

    @property
    def subject(self) -> str:
        return f"task:{self.task_id}"

    def text(self) -> str | None:
        return self.line

    def data(self) -> dict[str, Any] | None:
        return self.extra

    def payload(self) -> dict[str, Any] | None:
        return self.task


@dataclass(frozen=True, kw_only=True)
class TaskCreated(TaskChange):
    kind: ClassVar[str] = "task.created"


@dataclass(frozen=True, kw_only=True)
class TaskStatusChanged(TaskChange):
    kind: ClassVar[str] = "task.status"
    before: str
    after: str

    @property
    def timeline_kind(self) -> str:
        return f"task.{self.after}"


# ----------------------------------------------------------------------------------------------- incidents


@dataclass(frozen=True, kw_only=True)
class IncidentChange(Change):
    """A step on an incident's log (``step``: report, status, assign, unit, handover, update, plan)."""

    kind: ClassVar[str] = "incident.changed"
    topic: ClassVar[str | None] = "incident"
    incident_id: int
    step: str
    line: str
    incident: dict[str, Any] | None = None  # the live message; None sends none
    extra: dict[str, Any] | None = None  # facts for the timeline entry

    @property
    def subject(self) -> str:
        return f"incident:{self.incident_id}"

    @property
    def timeline_kind(self) -> str:
        return f"incident.{self.step}"

    def text(self) -> str | None:
        return self.line

    def data(self) -> dict[str, Any] | None:
        return self.extra

    def payload(self) -> dict[str, Any] | None:
        return self.incident


@dataclass(frozen=True, kw_only=True)
class IncidentReported(IncidentChange):
    kind: ClassVar[str] = "incident.reported"

    @property
    def timeline_kind(self) -> str:
        return "incident.reported"


# ----------------------------------------------------------------------------------------------- recording

C = TypeVar("C", bound=Change)
Handler = Callable[[Session, Any], None]
_HANDLERS: dict[type[Change], list[Handler]] = {}


def on(kind: type[C], fn: Callable[[Session, C], None]) -> None:
    """Call ``fn(db, change)`` in the recording transaction for every change of ``kind`` (or a subclass).

    Called by :func:`anbao.wiring.connect`; registering the same function twice is a no-op.
    """
    fns = _HANDLERS.setdefault(kind, [])
    if fn not in fns:
        fns.append(fn)


def handlers(change: Change) -> list[Handler]:
    return [fn for kind, fns in _HANDLERS.items() if isinstance(change, kind) for fn in fns]


def current_cause(db: Session) -> str | None:
    cause = db.info.get("cause")
    return str(cause) if cause else None


@contextlib.contextmanager
def caused_by(db: Session, cause: str | None, parent: str | None = None) -> Iterator[None]:
    """Changes recorded (and audit rows written) inside carry ``cause`` and, by default, ``parent``."""
    before = db.info.get("cause"), db.info.get("parent")
    db.info["cause"], db.info["parent"] = cause, parent
    try:
        yield
    finally:
        db.info["cause"], db.info["parent"] = before


def record(db: Session, change: C) -> C:
    """Record one change: timeline entry, live message and typed event (after commit), then its handlers.

    A change without a cause takes the session's (the request id, the reading batch, the pass) and
    one without a parent the change being handled, so chains need no bookkeeping by the callers.
    """
    fill: dict[str, Any] = {}
    if change.cause is None:
        fill["cause"] = current_cause(db) or new_id("cause")
    if change.parent is None and db.info.get("parent"):
        fill["parent"] = db.info["parent"]
    if fill:
        change = replace(change, **fill)
    db.info["cause"] = change.cause
    line = change.text()
    if line is not None:
        timeline.add(db=db, event_id=change.event_id, at=change.at, kind=change.timeline_kind,
                     subject=change.subject, text=line, actor=change.actor, data=change.data(), cause=change.cause)
    payload = change.payload()
    topic = f"event/{change.event_id}/{change.topic}" if change.topic and payload is not None else None
    outbox.post_change(db, change, topic, payload)
    fns = handlers(change)
    if fns:
        with caused_by(db, change.cause, change.id):  # restores the session's cause: this change's
            for fn in fns:
                fn(db, change)
    return change
