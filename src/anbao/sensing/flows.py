"""GB/T 28181 camera alarms through the one ingest path.

Flow-count (AlarmType 9) and crowd-density (10) alarms become readings of the camera: a head count,
or a density turned into a count with the watched zone's area, so that the zone-state fusion treats
them like any video count. Intrusion, tripwire, loitering and other camera alarms are recorded as
:class:`anbao.core.events.CameraAlarmReceived` observations; the warning package turns them into
camera warnings (:func:`anbao.alert.flows.on_camera_alarm`). A retried alarm (same DeviceID and SN)
is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import events
from anbao.core.errors import Invalid
from anbao.sensing import service
from anbao.sensing.gb28181 import CameraAlarm, parse_alarm
from anbao.venue.models import Device, Zone


@dataclass(frozen=True)
class AlarmOutcome:
    alarm: CameraAlarm
    device_code: str
    stored: str  # reading | duplicate | warning
    warning: Any = None


def _camera(db: Session, event_id: int, device_id: str) -> Device:
    devices = db.execute(select(Device).where(Device.event_id == event_id)).scalars().all()
    for d in devices:
        if d.code == device_id or str((d.properties or {}).get("gb28181_id", "")) == device_id:
            return d
    raise Invalid(f"DeviceID {device_id}: no camera of this event has that code or gb28181_id",
                  loc=["body", "DeviceID"])


def ingest_alarm(*, db: Session, event_id: int, data: bytes, source: str) -> AlarmOutcome:
    alarm = parse_alarm(data)
    device = _camera(db, event_id, alarm.device_id)
    if alarm.is_reading:
        if alarm.value is None:
            raise Invalid(f"{alarm.raw_type_label} alarm SN {alarm.sn} carries no count or density value",
                          loc=["body", "Info"])
        count = alarm.value
        values: dict[str, float] = {}
        if alarm.unit == "persons/m2":
            zone = db.get(Zone, device.zone_id) if device.zone_id else None
            if zone is None:
                raise Invalid(f"camera {device.code} watches no zone; a density needs the zone's area",
                              loc=["body", "DeviceID"])
            count, values = alarm.value * zone.area_m2, {"density": alarm.value}
        item = {"sensor": device.code, "at": alarm.at.isoformat(), "value": count, "values": values or None,
                "idempotency_key": f"gb28181:{alarm.device_id}:{alarm.sn}"}
        outcome = service.ingest(db=db, event_id=event_id, items=[item], source=source)
        if outcome.rejected:
            raise Invalid(outcome.rejected[0]["msg"], loc=["body"])
        return AlarmOutcome(alarm, device.code, "reading" if outcome.accepted else "duplicate")
    where = f"（{alarm.lon:.6f}, {alarm.lat:.6f}）" if alarm.lon is not None and alarm.lat is not None else ""
    events.record(db, events.CameraAlarmReceived(
        event_id=event_id, at=alarm.at, device_id=device.id, zone_id=device.zone_id, alarm=alarm.kind.value,
        priority=alarm.priority,
        message=f"{device.name}：{alarm.raw_type_label}{where}"
        + (f"，{alarm.description}" if alarm.description else "")))
    return AlarmOutcome(alarm, device.code, "warning")
