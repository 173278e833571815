"""Pydantic base classes shared by the domain schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
Code = Field(pattern=CODE_PATTERN, description="Short identifier, unique within the event (A-Z a-z 0-9 _ . -)")


class In(BaseModel):
    """Input: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Stamped(Out):
    created_at: datetime
    updated_at: datetime
