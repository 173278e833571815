"""Controlled vocabularies: stored codes (English) with Chinese and English labels.

Input accepts the code or the Chinese label (``"核心区"`` and ``"core"`` are the same zone kind);
output is always the code. ``GET /api/v1/meta/vocab`` serves these tables to the UI.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator


def _vocab(name: str, items: dict[str, tuple[str, str]]) -> tuple[type[StrEnum], dict[str, tuple[str, str]]]:
    enum = StrEnum(name, {code: code for code in items})  # type: ignore[misc]
    return enum, items


EventKind, EVENT_KINDS = _vocab("EventKind", {
    "sports": ("体育赛事", "Sports event"), "concert": ("演唱会", "Concert"), "expo": ("展会", "Exhibition"),
    "festival": ("节庆", "Festival"), "marathon": ("马拉松", "Marathon"), "other": ("其他", "Other"),
})
EventStatus, EVENT_STATUSES = _vocab("EventStatus", {
    "preparing": ("筹备", "Preparing"), "approval": ("审批", "Approval"), "active": ("执行", "Active"),
    "ended": ("结束", "Ended"), "review": ("总结", "Review"),
})
ZoneKind, ZONE_KINDS = _vocab("ZoneKind", {
    "core": ("核心区", "Core area"), "buffer": ("缓冲区", "Buffer area"), "outer": ("外围区", "Outer area"),
    "passage": ("通道", "Passage"), "entrance": ("出入口", "Entrance area"), "parking": ("停车场", "Parking"),
    "stage": ("舞台", "Stage"), "stand": ("看台", "Stand"), "standing": ("内场站席", "Standing floor"),
    "plaza": ("广场", "Plaza"), "road": ("道路", "Road"), "concourse": ("环廊", "Concourse"),
    "transit": ("公交地铁", "Transit stop"), "screening": ("安检区", "Screening area"),
    "service": ("保障区", "Service area"), "other": ("其他", "Other"),
})
GateKind, GATE_KINDS = _vocab("GateKind", {
    "gate": ("出入口", "Gate"), "checkpoint": ("安检口", "Checkpoint"), "exit": ("疏散出口", "Exit"),
})
DeviceKind, DEVICE_KINDS = _vocab("DeviceKind", {
    "camera": ("摄像机", "Camera"), "drone": ("无人机", "Drone"), "wifi_probe": ("WiFi探针", "WiFi probe"),
    "bluetooth": ("蓝牙探针", "Bluetooth probe"), "video_count": ("视频计数", "Video counter"),
    "gate_counter": ("闸机计数", "Gate counter"), "gas": ("燃气探测", "Gas detector"),
    "smoke": ("烟感", "Smoke detector"), "temperature": ("温度", "Temperature"),
})
PoliceType, POLICE_TYPES = _vocab("PoliceType", {
    "public_order": ("治安", "Public order"), "traffic": ("交警", "Traffic police"),
    "special": ("特警", "Special police"), "armed": ("武警", "Armed police"),
    "criminal": ("刑侦", "Criminal investigation"), "cyber": ("网安", "Cyber security"),
    "fire": ("消防", "Fire and rescue"), "medical": ("医疗", "Medical"), "volunteer": ("志愿者", "Volunteer"),
    "security": ("保安", "Security guard"),
})
UnitStatus, UNIT_STATUSES = _vocab("UnitStatus", {
    "available": ("待命", "Available"), "assigned": ("已派", "Assigned"), "busy": ("处置中", "Busy"),
    "off_duty": ("休整", "Off duty"),
})
CommandLevel, COMMAND_LEVELS = _vocab("CommandLevel", {
    "hq": ("指挥部", "Headquarters"), "hq_group": ("工作组", "HQ group"),
    "site": ("现场分指挥部", "Site command"), "duty_group": ("执勤组", "Duty group"),
})

VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "event_kind": EVENT_KINDS, "event_status": EVENT_STATUSES, "zone_kind": ZONE_KINDS,
    "gate_kind": GATE_KINDS, "device_kind": DEVICE_KINDS, "police_type": POLICE_TYPES,
    "unit_status": UNIT_STATUSES, "command_level": COMMAND_LEVELS,
}

SENSOR_KINDS = ("wifi_probe", "bluetooth", "video_count", "gate_counter", "gas", "smoke", "temperature")


def _alias(items: dict[str, tuple[str, str]]) -> Any:
    reverse = {zh: code for code, (zh, _en) in items.items()}

    def convert(value: Any) -> Any:
        return reverse.get(value, value) if isinstance(value, str) else value

    return BeforeValidator(convert)


EventKindIn = Annotated[EventKind, _alias(EVENT_KINDS)]  # type: ignore[valid-type]
EventStatusIn = Annotated[EventStatus, _alias(EVENT_STATUSES)]  # type: ignore[valid-type]
ZoneKindIn = Annotated[ZoneKind, _alias(ZONE_KINDS)]  # type: ignore[valid-type]
GateKindIn = Annotated[GateKind, _alias(GATE_KINDS)]  # type: ignore[valid-type]
DeviceKindIn = Annotated[DeviceKind, _alias(DEVICE_KINDS)]  # type: ignore[valid-type]
PoliceTypeIn = Annotated[PoliceType, _alias(POLICE_TYPES)]  # type: ignore[valid-type]
UnitStatusIn = Annotated[UnitStatus, _alias(UNIT_STATUSES)]  # type: ignore[valid-type]
CommandLevelIn = Annotated[CommandLevel, _alias(COMMAND_LEVELS)]  # type: ignore[valid-type]
