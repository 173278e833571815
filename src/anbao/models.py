"""All tables, imported in one place for Alembic and for creating schemas."""

from anbao.account.models import User
from anbao.alert.models import EarlyWarning, WarningRule
from anbao.core.audit import AuditEntry, AuditHead
from anbao.core.db import Base
from anbao.core.timeline import TimelineEntry
from anbao.crowd.models import CapacitySetting
from anbao.dispatch.models import RoadClosure, RoadNetwork
from anbao.event.models import Event, EventSession
from anbao.incident.models import Incident, IncidentPhoto, UnitPosition
from anbao.org.models import CommandNode, Person, Unit
from anbao.plan.models import PlanTemplate, ResponsePlan
from anbao.response.models import PlanActivation, Task
from anbao.risk.models import Risk, RiskMatrix, RiskScore
from anbao.sensing.models import DeadLetter, DeviceLatest, Reading
from anbao.venue.models import Device, Gate, Post, Venue, Zone

metadata = Base.metadata

__all__ = ["AuditEntry", "AuditHead", "CapacitySetting", "CommandNode", "DeadLetter", "Device", "DeviceLatest",
           "EarlyWarning", "Event", "EventSession", "Gate", "Incident", "IncidentPhoto", "Person", "PlanActivation",
           "PlanTemplate", "Post", "Reading", "ResponsePlan", "Risk", "RiskMatrix", "RiskScore", "RoadClosure",
           "RoadNetwork", "Task", "TimelineEntry", "Unit", "UnitPosition", "User", "Venue", "WarningRule", "Zone",
           "metadata"]
