"""Pydantic base classes shared by the domain schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
Code = Field(pattern=CODE_PATTERN, description="Short identifier, unique within the event (A-Z a-z 0-9 _ . -)")


#: an aware datetime shown in UTC ("...Z"), whatever offset it came in with
UTCTime = Annotated[datetime, AfterValidator(lambda d: d.astimezone(UTC))]


class In(BaseModel):
    """Input: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(Out):
    created_at: UTCTime
    updated_at: UTCTime
