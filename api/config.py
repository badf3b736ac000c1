"""Limits and knobs of the HTTP API (``SMARTPARK_API_`` prefix), apart from the kernel settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPARK_API_", env_file=".env", extra="ignore")

    pool_min: int = 2
    pool_max: int = 10
    statement_timeout_ms: int = 5000  # one slow query must not hold a pooled connection
    max_body_bytes: int = 1024 * 1024
    page_size: int = 100
    max_page_size: int = 1000
    max_points: int = 20000  # points per series response, all series together
    max_series: int = 50  # (device, metric) pairs per series request
    max_raw_range_days: float = 7.0  # raw readings; rollups allow longer
    max_range_days: float = 3660.0
    token_ttl_s: int = 900
    overview_ttl_s: float = 5.0  # one overview answer shared per (park, scope); 0: none
    live_poll_s: float = 1.0
    live_max_devices: int = 500
    cors_origins: list[str] = []


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
