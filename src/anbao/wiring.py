"""How the capabilities react to each other's changes, wired in one place (not at import time).

A capability records its changes (:func:`anbao.core.events.record`) and never imports the ones that
react to them. The reactions that must happen in the same transaction are registered here:

- a warning raised or risen by a rule starts the plans its rule names (response);
- a video-analytics alarm becomes a camera warning (alert);
- a task moved on a phone moves the unit's assignment to the incident (incident).

Reactions after commit subscribe to the bus instead (the warning watcher hears of stored readings:
:class:`anbao.alert.flows.Watcher`). :func:`connect` is called by the app, the command line and the
tests; calling it again changes nothing.
"""

from __future__ import annotations

from anbao.alert import flows as alert_flows
from anbao.core import events
from anbao.incident import lifecycle
from anbao.response import service as response


def connect() -> None:
    events.on(events.WarningRaised, response.start_warning_plans)
    events.on(events.WarningLevelChanged, response.start_warning_plans)
    events.on(events.CameraAlarmReceived, alert_flows.on_camera_alarm)
    events.on(events.TaskStatusChanged, lifecycle.follow_task)
