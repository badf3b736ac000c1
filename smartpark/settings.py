"""Settings shared by every service, from the environment (``SMARTPARK_`` prefix) or a .env file.

Built on demand by :func:`get_settings` (cached), never at import time, so tests can set the
environment first and call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_state_dir() -> Path:
    # One machine-wide instance of the local services: every checkout shares it.
    if os.geteuid() == 0:
        return Path("/var/lib/smartpark")
    return Path.home() / ".local" / "share" / "smartpark"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPARK_", env_file=".env", extra="ignore")

    # The servers. A runtime process needs them set; the operations side (`smartpark up`,
    # `smartpark services env`, the test fixtures) fills them in from the local services'
    # credentials under state_dir when they are unset.
    database_url: str | None = None
    mqtt_url: str | None = None  # platform services' account: mqtt://user:password@host:port
    mqtt_admin_url: str | None = None  # dynamic-security admin account

    state_dir: Path = Field(default_factory=_default_state_dir)
    pg_port: int = 55432
    mqtt_port: int = 11883

    # MQTT contract
    topic_root: str = "smartpark/v1"
    ingest_share_group: str = "ingest"
    alerting_share_group: str = "alerting"
    max_payload_bytes: int = 256 * 1024

    # Ingest
    # Larger batches halve the database's CPU per reading; the broker's in-flight window
    # (1 000 messages per worker) still bounds what is held unacknowledged.
    batch_max_readings: int = 20000
    batch_max_ms: int = 200
    accept_past_days: float = 30.0
    accept_future_s: float = 300.0

    # Park defaults
    timezone: str = "Asia/Shanghai"

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8040

    metrics_port: int = 0  # Prometheus exporter of non-HTTP services; 0 = off


class SettingMissing(RuntimeError):
    """A process started without a setting it cannot run without."""


def required(value: str | None, env: str) -> str:
    """The value, or a clear error naming the environment variable that should have set it."""
    if not value:
        raise SettingMissing(
            f"{env} is not set: point it at the server, or start through `smartpark up`, which passes"
            ' the local services\' URLs (in a shell: eval "$(smartpark services env)")'
        )
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
