"""Users, API keys, tokens and health checks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.auth import Bureau, Role
from api.schemas.common import Out


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int = Field(description="epoch seconds")


class _UserScope(Out):
    """Who a user is and the slice of the park tree they see (fields in this order in both)."""

    user_id: int
    name: str
    role: Role
    park_id: int | None
    enterprise_id: int | None
    bureaus: list[Bureau]


class PrincipalOut(_UserScope):
    categories: list[str]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    role: Role
    park_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    bureaus: list[Bureau] = Field(default_factory=list, max_length=2)


class UserOut(_UserScope):
    created_at: datetime
    disabled_at: datetime | None


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=200)
    expires_at: datetime | None = None


class KeyOut(Out):
    key_id: int
    user_id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewKeyOut(Out):
    key_id: int
    user_id: int
    prefix: str
    key: str = Field(description="shown once; only its sha256 is stored")


class HealthOut(Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
