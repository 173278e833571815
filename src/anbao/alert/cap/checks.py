"""Checks shared by the CAP message classes, and the CAP date-time form.

Every check raises :class:`anbao.core.errors.Invalid` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from anbao.core.errors import Invalid
from anbao.core.time import TimeRangeError, in_range

E = TypeVar("E", bound=StrEnum)

_CAP_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
_LANGUAGE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")  # xs:language
_XML_BAD_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TOKEN_BAD_CHAR = re.compile(r"[\s,<&]")


def _enum(kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise Invalid(f"{what}: {value!r} is not one of {', '.join(kind)}") from None


def _enums(kind: type[E], values: Iterable[Any], what: str) -> list[E]:
    if isinstance(values, str):
        raise Invalid(f"{what}: expected a list, got the string {values!r}")
    return [_enum(kind, v, what) for v in values]


def _token(value: Any, what: str) -> str:
    """CAP identifier or sender: no spaces, commas, ``<`` or ``&`` (CAP 1.2 section 3.2.1)."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"{what}: a non-empty string is required")
    bad = _TOKEN_BAD_CHAR.search(value)
    if bad:
        raise Invalid(f"{what}: {value!r} must not contain spaces, commas, '<' or '&' (found {bad.group()!r})")
    return value


def _text(value: Any, what: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what}: a string is required, got {type(value).__name__}")
    if not optional and not value.strip():
        raise Invalid(f"{what}: must not be empty")
    return value


def _pairs(values: Iterable[Any], what: str) -> list[tuple[str, str]]:
    """``(valueName, value)`` pairs of parameters, event codes and geocodes."""
    out = []
    for item in values:
        if not isinstance(item, tuple | list) or len(item) != 2 or not all(isinstance(v, str) for v in item):
            raise Invalid(f"{what}: expected (name, value) string pairs, got {item!r}")
        if not item[0].strip():
            raise Invalid(f"{what}: a name must not be empty")
        out.append((item[0], item[1]))
    return out


def _aware(value: Any, what: str, *, optional: bool = False) -> datetime | None:
    """An aware datetime with whole seconds (fractions dropped) and a whole-minute UTC offset."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        raise Invalid(f"{what}: a datetime is required, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise Invalid(f"{what}: naive datetime; CAP needs an explicit UTC offset")
    if offset % timedelta(minutes=1):
        raise Invalid(f"{what}: UTC offset {offset} has seconds; CAP offsets are whole minutes")
    return value.replace(microsecond=0)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not math.isfinite(value):
        raise Invalid(f"{what}: a finite number is required, got {value!r}")
    return float(value)


def _position(value: Any, what: str) -> tuple[float, float]:
    """A ``(lon, lat)`` WGS84 position in degrees."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise Invalid(f"{what}: a position is (lon, lat), got {value!r}")
    lon, lat = _number(value[0], what), _number(value[1], what)
    if not -90 <= lat <= 90:
        hint = " (lat/lon swapped? positions are (lon, lat))" if -90 <= lon <= 90 else ""
        raise Invalid(f"{what}: latitude {lat} out of range [-90, 90]{hint}")
    if not -180 <= lon <= 180:
        raise Invalid(f"{what}: longitude {lon} out of range [-180, 180]")
    return lon, lat


def format_datetime(value: datetime) -> str:
    """CAP form of an aware datetime: ``2026-12-19T20:15:00+08:00``; UTC as ``-00:00``, never ``Z``."""
    checked = _aware(value, "datetime")
    assert checked is not None
    text = checked.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def parse_datetime(text: str, what: str = "datetime") -> datetime:
    """Read a CAP date-time (exactly ``YYYY-MM-DDThh:mm:ss+hh:mm`` or ``-hh:mm``)."""
    value = text.strip()
    if not _CAP_DATETIME.fullmatch(value):
        raise Invalid(f"{what}: {text!r} is not a CAP date-time like 2026-12-19T20:15:00+08:00 "
                      "(whole seconds, explicit offset, no 'Z')")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{what}: {text!r} is not a valid date-time ({exc})") from None
    try:
        in_range(parsed)  # year 1 at +08:00 cannot even be converted to UTC
    except TimeRangeError as exc:
        raise Invalid(f"{what}: {exc}") from None
    return parsed


def _check_reference(value: Any, what: str) -> str:
    """One ``sender,identifier,sent`` triple."""
    if not isinstance(value, str):
        raise Invalid(f"{what}: a 'sender,identifier,sent' string is required, got {value!r}")
    parts = value.split(",")
    if len(parts) != 3:
        raise Invalid(f"{what}: {value!r} is not a 'sender,identifier,sent' triple")
    _token(parts[0], f"{what} sender")
    _token(parts[1], f"{what} identifier")
    parse_datetime(parts[2], f"{what} sent")
    return value
