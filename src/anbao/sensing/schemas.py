from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from anbao.core.schemas import In, Out, UTCTime

Finite = Annotated[float, Field(allow_inf_nan=False)]


class ReadingIn(In):
    """One reading. ``sensor`` is the device code; either ``value`` or ``values`` is required."""

    sensor: str = Field(min_length=1, max_length=40, description="Device code (camera or sensor)")
    at: AwareDatetime = Field(description="Measurement time with a time zone offset")
    value: float | None = Field(default=None, description="The measurement, in the sensor's unit of measure")
    values: dict[str, float] | None = Field(default=None, description="Several named measurements")
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=120,
                                        description="A retry with the same key is stored once")

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("value must be a finite number")
        return v

    @field_validator("values")
    @classmethod
    def _finite_values(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and not all(math.isfinite(x) for x in v.values()):
            raise ValueError("values must be finite numbers")
        return v

    @model_validator(mode="after")
    def _some_value(self) -> ReadingIn:
        if self.value is None and not self.values:
            raise ValueError("a reading needs value or values")
        return self


class ReadingItem(TypedDict):
    """The ingest path's own form of :class:`ReadingIn`: the same fields and limits, validated by
    pydantic-core alone (no Python validators), a whole batch at a time. The ingest loop checks the
    rest: "value or values", and ``at``, which stays text here so that the usual UTC form can be
    turned into the stored form by slicing (an ISO 8601 time with an offset, or a datetime)."""

    __pydantic_config__ = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[misc]

    sensor: Annotated[str, Field(min_length=1, max_length=40)]
    at: Annotated[str, Field(max_length=40)] | datetime
    value: NotRequired[Finite | None]
    values: NotRequired[dict[str, Finite] | None]
    idempotency_key: NotRequired[Annotated[str, Field(min_length=1, max_length=120)] | None]


class Rejected(Out):
    index: int = Field(description="Position of the item in the batch (0-based)")
    loc: list[str | int]
    msg: str


class IngestResult(Out):
    accepted: int = Field(description="Items stored now")
    duplicates: int = Field(description="Items whose idempotency key was already stored (not stored again)")
    rejected: list[Rejected]


class ReadingOut(Out):
    id: int
    device_id: int
    zone_id: int | None
    at: UTCTime
    value: float | None
    values: dict[str, float] | None
    received_at: UTCTime
    source: str
    idem_key: str | None


class DeadLetterOut(Out):
    id: int
    received_at: UTCTime
    source: str = Field(description="Door the message came through, e.g. mqtt")
    topic: str | None
    event_id: int | None = Field(description="The event the message was for, when it is known")
    payload: str = Field(description="The message as UTF-8 text (undecodable bytes replaced), at most 64 KiB")
    reason: str
