"""Pydantic base classes shared by the domain schemas, and the limits every input obeys.

:class:`In` checks every value of every input field, however deep (docs/limits.md):

- text: no NUL and no control character other than tab and line breaks (PostgreSQL refuses NUL,
  the DOCX writer cannot write the others), nor the non-characters U+FFFE / U+FFFF or lone surrogates;
- whole numbers: within :data:`INT_MIN` .. :data:`INT_MAX` (a PostgreSQL ``integer``), unless the
  field declares its own bounds;
- decimals: finite (no NaN or infinity, which JSON cannot carry back);
- times: within :data:`anbao.core.time.EARLIEST` .. :data:`anbao.core.time.LATEST`;
- lists and maps: at most :data:`MAX_ITEMS` entries unless the field declares its own ``max_length``,
  and at most :data:`MAX_VALUES` values in one field all nested levels together.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from anbao.core.time import TimeRangeError, in_range

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
Code = Field(pattern=CODE_PATTERN, description="Short identifier, unique within the event (A-Z a-z 0-9 _ . -)")

#: a PostgreSQL ``integer`` column: ids, counts, offsets
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: entries of a list or map field that declares no ``max_length`` of its own
MAX_ITEMS = 1000
#: values in one field, every nested level counted (a geometry's coordinates, a free-form map)
MAX_VALUES = 200_000
#: characters no stored text may hold: C0 controls but tab, LF, CR; DEL; C1 controls; U+FFFE/U+FFFF; surrogates
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, else None."""
    m = BAD_CHARS.search(value)
    if m is None:
        return None
    return f"contains the control character U+{ord(m.group()):04X} at position {m.start()}; text may not hold " \
           "control characters other than tab and line breaks"


def _utc(value: datetime) -> datetime:
    try:
        return in_range(value)
    except TimeRangeError as exc:
        raise ValueError(str(exc)) from None


#: an aware datetime shown in UTC ("...Z"), whatever offset it came in with; out of range is a ValueError
UTCTime = Annotated[datetime, AfterValidator(_utc)]


class _Walk:
    """Counts the values of one field while checking them."""

    def __init__(self) -> None:
        self.count = 0

    def check(self, value: Any, top_limit: int | None, bounded_int: bool) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES} values in one field (limit 'values per field')")
        if isinstance(value, str):
            if (problem := text_problem(value)) is not None:
                raise ValueError(problem)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            if bounded_int and not INT_MIN <= value <= INT_MAX:
                raise ValueError(f"{value} is outside the range of whole numbers {INT_MIN} .. {INT_MAX}")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{value} is not a finite number")
        elif isinstance(value, datetime):
            _utc(value)
        elif isinstance(value, list | tuple | set | frozenset | dict):
            if top_limit is not None and len(value) > top_limit:
                raise ValueError(f"{len(value)} entries: at most {top_limit} (limit 'list items')")
            if self.count + len(value) > MAX_VALUES:
                raise ValueError(f"more than {MAX_VALUES} values in one field (limit 'values per field')")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            for item in items:  # nested levels: only the field's total counts (a ring of a geometry is long)
                self.check(item, None, True)


def _declared(metadata: list[Any]) -> tuple[int | None, bool]:
    """The field's own ``max_length`` and whether it leaves whole numbers to the default bounds."""
    max_len = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    own_bounds = any(isinstance(m, annotated_types.Le | annotated_types.Lt | annotated_types.Ge |
                                annotated_types.Gt | annotated_types.Interval) for m in metadata)
    return max_len, not own_bounds


class In(BaseModel):
    """Input: unknown fields are an error, strings are stripped, every value is within the limits above."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _within_limits(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or isinstance(value, BaseModel):
            return value  # a nested input model checked its own fields
        field = cls.model_fields.get(info.field_name or "")
        max_len, bounded_int = _declared(field.metadata if field is not None else [])
        if isinstance(value, list | tuple) and value and all(isinstance(v, BaseModel) for v in value):
            if max_len is None and len(value) > MAX_ITEMS:
                raise ValueError(f"{len(value)} entries: at most {MAX_ITEMS} (limit 'list items')")
            return value
        _Walk().check(value, max_len if max_len is not None else MAX_ITEMS, bounded_int)
        return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(Out):
    created_at: UTCTime
    updated_at: UTCTime


__all__ = ["CODE_PATTERN", "INT_MAX", "INT_MIN", "MAX_ITEMS", "MAX_VALUES", "Code", "In", "Out", "Stamped",
           "UTCTime", "text_problem"]
