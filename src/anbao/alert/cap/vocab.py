"""CAP 1.2 namespaces, media types and code lists, and AnBao's four warning levels (:class:`Level`)."""

from __future__ import annotations

from enum import StrEnum
from xml.etree import ElementTree as ET

from anbao.alert.cap.checks import _enum
from anbao.core.errors import Invalid

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: media type of a CAP message (IANA registration by OASIS)
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

# prefix "cap" for CAP elements embedded in an Atom feed (instead of ElementTree's "ns0")
ET.register_namespace("cap", CAP_NS)


class Status(StrEnum):
    """``<status>``: the handling code. Drills 演练 must be sent as ``Exercise``."""

    actual = "Actual"
    exercise = "Exercise"
    system = "System"
    test = "Test"
    draft = "Draft"


class MsgType(StrEnum):
    """``<msgType>``. Every type except ``Alert`` names earlier messages in ``<references>``."""

    alert = "Alert"
    update = "Update"
    cancel = "Cancel"
    ack = "Ack"
    error = "Error"


class Scope(StrEnum):
    """``<scope>``. ``Private`` needs ``<addresses>``; ``Restricted`` is described by ``<restriction>``."""

    public = "Public"
    restricted = "Restricted"
    private = "Private"


class Category(StrEnum):
    geo = "Geo"
    met = "Met"
    safety = "Safety"
    security = "Security"
    rescue = "Rescue"
    fire = "Fire"
    health = "Health"
    env = "Env"
    transport = "Transport"
    infra = "Infra"
    cbrne = "CBRNE"
    other = "Other"


class ResponseType(StrEnum):
    shelter = "Shelter"
    evacuate = "Evacuate"
    prepare = "Prepare"
    execute = "Execute"
    avoid = "Avoid"
    monitor = "Monitor"
    assess = "Assess"
    all_clear = "AllClear"
    none = "None"


class Urgency(StrEnum):
    immediate = "Immediate"
    expected = "Expected"
    future = "Future"
    past = "Past"
    unknown = "Unknown"


class Severity(StrEnum):
    extreme = "Extreme"
    severe = "Severe"
    moderate = "Moderate"
    minor = "Minor"
    unknown = "Unknown"


class Certainty(StrEnum):
    observed = "Observed"
    likely = "Likely"
    possible = "Possible"
    unlikely = "Unlikely"
    unknown = "Unknown"


class Level(StrEnum):
    """Warning level of 突发事件应对法: 一级 red is the highest, 四级 blue the lowest."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def label(self) -> str:
        """Chinese colour name, e.g. ``"橙色"``."""
        return _LEVEL_TABLE[self][0]

    @property
    def grade(self) -> str:
        """Chinese grade, e.g. ``"二级"`` (一级 is the most serious)."""
        return _LEVEL_TABLE[self][1]

    @property
    def rank(self) -> int:
        """1 (blue) .. 4 (red): higher is more serious; use it to compare levels."""
        return _LEVEL_TABLE[self][2]

    @property
    def severity(self) -> Severity:
        """CAP severity (AnBao's mapping): red Extreme, orange Severe, yellow Moderate, blue Minor."""
        return _LEVEL_TABLE[self][3]

    @property
    def urgency(self) -> Urgency:
        """Default CAP urgency: red and orange Immediate, yellow Expected, blue Future."""
        return _LEVEL_TABLE[self][4]

    @property
    def warning_title(self) -> str:
        """E.g. ``"橙色预警（二级）"``."""
        return f"{self.label}预警（{self.grade}）"

    @classmethod
    def parse(cls, value: str) -> Level:
        """A level from its code (``"orange"``), colour (``"橙色"``, ``"橙色预警"``) or grade (``"二级"``)."""
        text = str(value).strip()
        for level, (label, grade, *_rest) in _LEVEL_TABLE.items():
            if text in (level.value, label, grade, f"{label}预警", f"{grade}预警", level.warning_title):
                return level
        raise Invalid(f"unknown warning level {value!r}; expected one of blue/yellow/orange/red, "
                      "蓝色/黄色/橙色/红色 or 四级/三级/二级/一级")

    @classmethod
    def from_severity(cls, severity: Severity | str) -> Level | None:
        """The level whose CAP severity this is; ``None`` for ``Unknown``."""
        sev = _enum(Severity, severity, "severity")
        return next((level for level in cls if level.severity == sev), None)


_LEVEL_TABLE: dict[Level, tuple[str, str, int, Severity, Urgency]] = {
    Level.blue: ("蓝色", "四级", 1, Severity.minor, Urgency.future),
    Level.yellow: ("黄色", "三级", 2, Severity.moderate, Urgency.expected),
    Level.orange: ("橙色", "二级", 3, Severity.severe, Urgency.immediate),
    Level.red: ("红色", "一级", 4, Severity.extreme, Urgency.immediate),
}


def default_certainty(*, forecast: bool) -> Certainty:
    """CAP certainty of a warning: ``Likely`` when forecast, ``Observed`` when measured."""
    return Certainty.likely if forecast else Certainty.observed
