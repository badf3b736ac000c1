"""Completeness rows: one per group (device, enterprise, park or category) and period."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Out


class CompletenessOut(Out):
    device: int | None = Field(None, description="device_id (by=device)")
    enterprise: int | None = Field(None, description="enterprise_id (by=enterprise)")
    park: int | None = Field(None, description="park_id (by=park)")
    category: str | None = Field(None, description="metric category (by=category)")
    period: str = Field(description="YYYY-MM-DD, YYYY-MM, or from/to for the whole range")
    expected: float = Field(description="readings owed at the devices' declared intervals")
    received: float = Field(description="readings stored, valid or flagged (capped at expected per series)")
    valid: float = Field(description="readings with data flag N")
    transmission_rate: float | None = Field(description="received / expected (传输率)")
    validity_rate: float | None = Field(description="valid / received (有效率)")
    effective_rate: float | None = Field(description="transmission × validity (有效传输率)")
