from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from anbao.core.schemas import In, Out, UTCTime
from anbao.core.vocab import IncidentTypeIn

MAX_PHOTO = 4 * 1024 * 1024
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
        size = len(base64.b64decode(m.group(2), validate=False))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"photo is not valid base64: {exc}") from exc
    if size > MAX_PHOTO:
        raise ValueError(f"photo is {size / 1e6:.1f} MB; at most {MAX_PHOTO // (1024 * 1024)} MB")
    return value


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
