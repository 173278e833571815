"""CAP 1.2 export: an AnBao warning as the CAP message a receiver gets (GET …/warnings/{id}/cap, the feed).

Rules (:func:`to_cap`):

- Message type: ``Alert`` until the first change, then ``Update``, ``Cancel`` once closed; Update and Cancel
  reference the Alert. Drills (``exercise``) are ``Exercise``, else ``Actual``.
- ``sender``: the deployment's ``ANBAO_CAP_SENDER``; ``senderName``: ``ANBAO_CAP_SENDER_NAME``, else the
  event's name + 安保指挥部.
- What an imported message said is said again (:attr:`EarlyWarning.cap`, kept by
  :mod:`anbao.alert.cap_import`): its ``scope`` (a Restricted drill alert stays Restricted, with its
  ``restriction``; Private with its ``addresses``), ``event`` name, ``category`` list, ``instruction``
  and ``expires``. AnBao's own warnings are Public, category Safety, event the Chinese
  warning type (人群密度预警...), instruction :data:`INSTRUCTIONS` of their kind.
- ``expires``: the imported one; else ``sent`` + :data:`VALIDITY` (a backstop for a receiver that misses
  the Cancel); a Cancel expires when sent.
- ``level`` parameter in Chinese (``橙色预警（二级）``), ``level_code`` the machine code (``orange``).
- A Cancel's description is the closing comment (预警解除：…), not the warning's text; its response
  type is AllClear.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from anbao.alert import cap
from anbao.alert.models import EarlyWarning
from anbao.alert.service import KIND_ZH, LEVEL_ZH
from anbao.core.errors import Invalid

#: how long an Alert or Update of AnBao's own stands when no Cancel reaches the receiver (one event day)
VALIDITY = timedelta(hours=12)
_CROWD = "服从现场民警和工作人员指挥，不要拥挤、推搡，按指引从其他通道有序通行。"
_LEAVE = "立即远离该区域，听从工作人员指挥有序撤离，不要使用电梯，不要围观。"
#: ``instruction`` of AnBao's own warnings, by kind (what the public or the officers on site should do)
INSTRUCTIONS = {
    "density": _CROWD, "queue_wait": _CROWD, "queue_length": _CROWD,
    "smoke": _LEAVE, "temperature": _LEAVE,
    "gas": "立即远离该区域，严禁明火和开关电器，听从工作人员指挥有序撤离。",
    "device_silence": "现场民警就近核查设备和区域情况，并向指挥部报告。",
    "camera": "现场民警就近核查视频报警情况，并向指挥部报告。",
}
DEFAULT_INSTRUCTION = "请关注官方发布的信息，服从现场民警和工作人员指挥。"


def kept(alert: cap.CapAlert, info: cap.CapInfo) -> dict[str, Any]:
    """What an imported message says that a warning has no column for (stored in :attr:`EarlyWarning.cap`)."""
    out: dict[str, Any] = {"scope": alert.scope.value, "event": info.event,
                           "categories": [c.value for c in info.categories]}
    for name, value in (("restriction", alert.restriction), ("addresses", alert.addresses),
                        ("instruction", info.instruction)):
        if value is not None and value.strip():
            out[name] = value
    if info.expires is not None:
        out["expires"] = cap.format_datetime(info.expires)
    return out


def to_cap(w: EarlyWarning, *, sender: str, sender_name: str, area_desc: str,
           polygon: Sequence[tuple[float, float]] | None) -> cap.CapAlert:
    """The warning as a CAP 1.2 message (see the module notes)."""
    level = cap.Level(w.level)
    old: dict[str, Any] = w.cap or {}
    try:
        scope = cap.Scope(old.get("scope", cap.Scope.public.value))
        categories = [cap.Category(c) for c in old.get("categories") or []] or [cap.Category.safety]
        expires_kept = cap.parse_datetime(old["expires"], "expires") if old.get("expires") else None
    except (ValueError, Invalid):  # a stored value this version does not know: say it as AnBao does
        scope, categories, expires_kept = cap.Scope.public, [cap.Category.safety], None
    addresses = old.get("addresses") if scope is cap.Scope.private else None
    restriction = old.get("restriction") if scope is cap.Scope.restricted else None
    if scope is cap.Scope.private and not addresses:
        scope, addresses = cap.Scope.restricted, None
    event_type = old.get("event") or KIND_ZH.get(w.kind, "预警")
    common: dict[str, Any] = {"sender": sender, "level": level, "event_type": event_type, "area_desc": area_desc,
                              "exercise": w.exercise, "scope": scope, "addresses": addresses,
                              "restriction": restriction, "categories": categories}
    first = cap.warning_to_cap(identifier=f"anbao-{w.event_id}-{w.id}-0", sent=w.started_at, headline="",
                               description="", **common)
    msg_type = cap.MsgType.alert
    if w.status == "closed":
        msg_type = cap.MsgType.cancel
    elif w.changed_at > w.started_at:
        msg_type = cap.MsgType.update
    sent: datetime = w.started_at if msg_type is cap.MsgType.alert else w.changed_at
    headline = f"{area_desc}{LEVEL_ZH[w.level]}{event_type}"
    if msg_type is cap.MsgType.cancel:
        headline += "解除"
        comment = (w.close_comment or "").strip()
        description = f"预警解除：{comment}" if comment else "预警解除。"
        expires: datetime | None = sent
        instruction = "预警已解除，恢复正常秩序，请继续服从现场指挥。"
    else:
        description = w.message or headline
        expires = expires_kept if expires_kept is not None and expires_kept > sent else sent + VALIDITY
        instruction = old.get("instruction") or INSTRUCTIONS.get(w.kind, DEFAULT_INSTRUCTION)
    return cap.warning_to_cap(
        identifier=first.identifier if msg_type is cap.MsgType.alert else
        f"anbao-{w.event_id}-{w.id}-{int(w.changed_at.timestamp())}",
        sent=sent, headline=headline, description=description, instruction=instruction, polygon=polygon,
        msg_type=msg_type, references=[first] if msg_type is not cap.MsgType.alert else [], forecast=w.forecast,
        parameters=[("value", f"{w.value:.3f}")] if w.value is not None else [],
        response_types=[cap.ResponseType.all_clear] if msg_type is cap.MsgType.cancel else [],
        sender_name=sender_name, expires=expires, **common)
