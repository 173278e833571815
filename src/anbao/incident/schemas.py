from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

from anbao.core.schemas import In, Out, UTCTime
from anbao.core.vocab import (
    AssignmentStatusIn,
    IncidentGradeIn,
    IncidentSourceIn,
    IncidentStatusIn,
    IncidentTypeIn,
    PoliceTypeIn,
)

MAX_PHOTO = 4 * 1024 * 1024
#: a photo's width x height at most (a phone camera's 50 Mpx; more is a decompression bomb)
MAX_PHOTO_PIXELS = 50_000_000
_DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|webp));base64,([A-Za-z0-9+/=\s]+)$")
ClientKey = Annotated[str, Field(min_length=8, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                 description="Made on the phone (a UUID): the same key again is the same report")]


def _photo(value: str | None) -> str | None:
    if value is None:
        return None
    m = _DATA_URL.match(value)
    if m is None:
        raise ValueError("photo must be a data URL: data:image/jpeg;base64,... (jpeg, png or webp)")
    try:
        data = base64.b64decode(m.group(2), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"photo is not valid base64: {exc}") from exc
    size = len(data)
    if size > MAX_PHOTO:
        raise ValueError(f"photo is {size / 1e6:.1f} MB; at most {MAX_PHOTO // (1024 * 1024)} MB")
    _check_image(m.group(1), data)
    return value


#: the first bytes of each accepted image format
_SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/webp": (b"RIFF",)}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _check_image(mime: str, data: bytes) -> None:
    """The bytes are an image of the declared type: its signature, then Pillow reads its header and structure
    (without decoding the pixels)."""
    if not data.startswith(_SIGNATURES[mime]) or (mime == "image/webp" and data[8:12] != b"WEBP"):
        raise ValueError(f"photo is not a {mime} image (its first bytes are not that format's signature)")
    from PIL import Image  # Pillow comes with matplotlib; imported here, once a photo comes

    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[mime]]) as img:
            if img.width * img.height > MAX_PHOTO_PIXELS:
                raise ValueError(f"photo is {img.width}x{img.height} pixels; at most {MAX_PHOTO_PIXELS} pixels")
            img.verify()
    except ValueError:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken file
        raise ValueError(f"photo is not a readable {mime} image ({type(exc).__name__})") from None


def decode_photo(value: str) -> tuple[str, bytes]:
    m = _DATA_URL.match(value)
    assert m is not None
    return m.group(1), base64.b64decode(m.group(2))


class IncidentReport(In):
    client_key: ClientKey
    type: IncidentTypeIn = Field(description="打架斗殴 fight, 盗窃 theft, 走失儿童 lost_child, 火情 fire ...")
    text: str = Field(default="", max_length=2000, description="What happened")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    at: AwareDatetime | None = Field(default=None, description="When it was observed (default: now)")
    unit_id: int | None = None
    photo: Annotated[str | None, AfterValidator(_photo)] = Field(
        default=None, description="data:image/jpeg;base64,... at most 4 MB")
    # a dispatcher's intake (接警) gives these too; a phone leaves them at their defaults
    source: IncidentSourceIn = Field(
        default="officer", validate_default=True,
        description="预警 warning, 民警上报 officer, 110报警 call_110, 视频告警 camera, 群众报告 public")
    grade: IncidentGradeIn = Field(default="ordinary", validate_default=True,
                                   description="一般 / 较大 / 重大 / 特别重大")
    police_type: PoliceTypeIn | None = Field(default=None, description="Lead police type (default: by incident type)")
    zone_id: int | None = Field(default=None, description="Zone, when there is no position (else found from it)")
    warning_id: int | None = Field(default=None, description="The warning the incident comes from")


class IncidentUpdate(In):
    type: IncidentTypeIn | None = None
    grade: IncidentGradeIn | None = None
    text: str | None = Field(default=None, max_length=2000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    zone_id: int | None = None


class IncidentStatusChange(In):
    status: IncidentStatusIn
    note: str = Field(default="", max_length=2000)


class AssignIn(In):
    unit_id: int
    eta_s: float | None = Field(default=None, ge=0, le=86_400, description="Expected travel time (recommendation)")
    note: str = Field(default="", max_length=2000)


class AssignmentStatusChange(In):
    status: AssignmentStatusIn
    note: str = Field(default="", max_length=2000)


class HandoverIn(In):
    police_type: PoliceTypeIn = Field(description="Police type that takes the lead, e.g. 治安 → 刑侦")
    unit_id: int | None = Field(default=None, description="Unit that takes over (its assignment is made); "
                                "the units already there are released")
    note: str = Field(default="", max_length=2000)


class AssignmentOut(Out):
    id: int
    incident_id: int
    unit_id: int
    call_sign: str = ""
    status: str
    task_id: int | None
    eta_s: float | None
    assigned_at: UTCTime
    en_route_at: UTCTime | None
    on_scene_at: UTCTime | None
    released_at: UTCTime | None
    by: str
    note: str


class IncidentLogOut(Out):
    id: int
    incident_id: int
    at: UTCTime
    kind: str
    text: str
    before: Any
    after: Any
    by: str


class MatchOut(Out):
    plan_id: int
    code: str
    name: str
    reason: str
    activation_id: int | None = None


class IncidentOut(Out):
    id: int
    event_id: int
    client_key: str
    type: str
    type_zh: str = ""
    grade: str
    source: str
    status: str
    text: str
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    zone_id: int | None
    unit_id: int | None
    reported_by: str
    reported_at: UTCTime
    has_photo: bool = False
    police_type: str = "public_order"
    warning_id: int | None = None
    dispatched_at: UTCTime | None = None
    on_scene_at: UTCTime | None = None
    resolved_at: UTCTime | None = None
    closed_at: UTCTime | None = None
    unattended: bool = Field(default=False, description="到场处置 with no unit left there (all released): 无警力在场")


class PositionIn(In):
    client_key: ClientKey
    unit_id: int
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    at: AwareDatetime


class PositionOut(Out):
    unit_id: int
    call_sign: str = ""
    lon: float
    lat: float
    accuracy_m: float | None
    at: UTCTime
