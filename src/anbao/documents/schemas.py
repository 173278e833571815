"""Document schemas."""

from __future__ import annotations

from pydantic import Field

from anbao.core.schemas import Out


class DocumentOut(Out):
    name: str = Field(description="work-plan | plan-CODE | risk-report | assignments")
    title: str
    url: str
