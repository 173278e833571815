"""Time helpers: everything stored is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


#: every time the API accepts lies in [EARLIEST, LATEST) (docs/limits.md): wide enough for any event and
#: any history, narrow enough that converting it to UTC or adding a day never overflows
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: one rule for every time observed in the field (readings, incident reports, unit positions):
#: at most this far in the future (a clock ahead) ...
FIELD_MAX_FUTURE = timedelta(minutes=5)
#: ... and at most this old (a device that stored and forwards late)
FIELD_MAX_PAST = timedelta(days=7)


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached storage."""


class TimeRangeError(ValueError):
    """A time outside :data:`EARLIEST` .. :data:`LATEST` (or one that cannot be expressed in UTC)."""


def in_range(value: datetime) -> datetime:
    """``value`` in UTC (a naive value is taken as UTC); :class:`TimeRangeError` when out of range.

    Year 1 with a positive offset or 9999-12-31 with a negative one cannot even be converted to UTC
    (OverflowError in Python): that is reported the same way, never as a server error.
    """
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise TimeRangeError(f"time {value.isoformat()} is outside the accepted range "
                             f"{EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d} (UTC)")
    return utc


def field_time_problem(at: datetime, now: datetime) -> str | None:
    """Why a time observed in the field is refused (in the future, or older than the limit), else None."""
    if at > now + FIELD_MAX_FUTURE:
        return f"time {at.isoformat()} is in the future (clock error?)"
    if at < now - FIELD_MAX_PAST:
        return f"time {at.isoformat()} is more than {FIELD_MAX_PAST.days} days old"
    return None


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime column that accepts only aware datetimes and always returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError("naive datetime; a time zone is required")
        value = in_range(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
