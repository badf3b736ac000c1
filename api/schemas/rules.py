"""Alert rules, silences and notification receivers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from api.schemas.alarms import AlarmCategory
from api.schemas.common import In, Out


class RuleOut(Out):
    rule_id: str
    definition: dict[str, Any]
    metric: str
    severity: str
    category: str
    enabled: bool
    updated_at: datetime
    updated_by: str


class SilenceIn(In):
    matchers: list[str] = Field(min_length=1, max_length=50, description="label matchers: park=demo, alertname=~lel-.*")
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime
    comment: str = Field(default="", max_length=2000)


class SilenceOut(Out):
    silence_id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime


Channel = Literal["webhook", "mqtt", "email", "wecom", "dingtalk", "feishu", "sms"]
Secrets = dict[str, Annotated[str, StringConstraints(min_length=1, max_length=500)]]
CONFIG_DOC = (
    "channel settings that are not secret: email {host, port, security: starttls|tls|none, username,"
    " from, to, ca_file}; sms {provider: tencent|http, to, sdk_app_id, sign_name, template_id, region,"
    " body}; any {language: zh|en, per_minute}"
)
SECRETS_DOC = (
    "named secrets, written only (GET answers their names): email {password}; wecom {key}; dingtalk"
    " {access_token, secret}; feishu {hook_token, secret}; sms {secret_id, secret_key} or {hmac}"
)


class ReceiverIn(In):
    name: str = Field(min_length=1, max_length=128)
    park_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="null: every park (admins only)")
    categories: list[AlarmCategory] = Field(min_length=1, max_length=4)
    channel: Channel
    config: dict[str, Any] = Field(default_factory=dict, max_length=20, description=CONFIG_DOC)
    secrets: Secrets = Field(default_factory=dict, max_length=5, description=SECRETS_DOC)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    group_by: list[str] = Field(default_factory=lambda: ["park", "category", "alertname"], max_length=10)
    group_wait_s: float = Field(default=0, ge=0, le=3600)
    group_interval_s: float = Field(default=30, ge=0, le=86400)
    repeat_interval_s: float = Field(default=14400, ge=60, le=604800)
    enabled: bool = True


class ReceiverPatch(In):
    categories: list[AlarmCategory] | None = Field(default=None, min_length=1, max_length=4)
    config: dict[str, Any] | None = Field(default=None, max_length=20, description=CONFIG_DOC)
    secrets: Secrets | None = Field(default=None, max_length=5, description="replaces every secret; " + SECRETS_DOC)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    group_by: list[str] | None = Field(default=None, max_length=10)
    group_wait_s: float | None = Field(default=None, ge=0, le=3600)
    group_interval_s: float | None = Field(default=None, ge=0, le=86400)
    repeat_interval_s: float | None = Field(default=None, ge=60, le=604800)
    enabled: bool | None = None


class ReceiverOut(Out):
    receiver_id: int
    name: str
    park_id: int | None
    categories: list[str]
    channel: str
    url: str | None
    has_secret: bool
    config: dict[str, Any]
    secret_names: list[str] = Field(description="the names of the stored secrets, never their values")
    group_by: list[str]
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float
    enabled: bool
    created_at: datetime


class NewReceiverOut(ReceiverOut):
    generated_secret: str | None = Field(
        description="the signing secret made for a webhook created without one: shown once, never again"
    )
