"""The one settings object of a process, from the environment (``SMARTPARK_`` prefix) or a .env file.

Each command's entry point resolves it once (:func:`get_settings`) and passes it, or the section it
needs, to what it runs; nothing below an entry point reads the environment. One section per
service (``settings.ingest``, ``settings.api``, ``settings.aggregation``, ``settings.forward``); each section keeps the
environment names it always had (``SMARTPARK_BATCH_MAX_MS``, ``SMARTPARK_API_POOL_MAX``,
``SMARTPARK_AGG_ROLLUP_EVERY_S`` …). Built on demand, never at import time, so tests can set the
environment first and call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """MQTT -> TimescaleDB ingest (``SMARTPARK_BATCH_*``, ``SMARTPARK_ACCEPT_*``)."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_", env_file=".env", extra="ignore")

    # Larger batches halve the database's CPU per reading; the broker's in-flight window
    # (1 000 messages per worker) still bounds what is held unacknowledged.
    batch_max_readings: int = 20000
    batch_max_ms: int = 200
    accept_past_days: float = 30.0
    accept_future_s: float = 300.0
    # Quota per enterprise (ingest/quota.py): messages per second sustained and at once that the
    # ingester takes from one enterprise's topics; the rest is refused (quota_exceeded). 0 = none.
    ingest_messages_per_s_per_enterprise: float = Field(default=1000.0, ge=0)
    ingest_message_burst_per_enterprise: int = Field(default=20_000, ge=1)
    # Refused input (ingest/rejections.py): per minute and process, one source (an MQTT topic's
    # enterprise, an HJ 212 peer address) adds at most this many rows to rejected_messages,
    # repeats counted on them, the rest on one more row; so many sources are kept apart.
    rejections_rows_per_source_minute: int = Field(default=20, ge=1, le=10_000)
    rejections_sources_per_minute: int = Field(default=1000, ge=1, le=1_000_000)


class Hj212Settings(BaseSettings):
    """The HJ 212 server's limits (``SMARTPARK_HJ212_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_HJ212_", env_file=".env", extra="ignore")

    # Logins (ingest/hj212/lockout.py): after this many failures within the window an MN, or a
    # source address, is locked out for lockout_s, doubled at each lockout in a row up to
    # max_lockout_s. An MN's lockout spares the address it last logged in from.
    failures_per_mn: int = Field(default=5, ge=1)
    failures_per_address: int = Field(default=20, ge=1)
    failure_window_s: float = Field(default=600.0, gt=0)
    lockout_s: float = Field(default=60.0, gt=0)
    max_lockout_s: float = Field(default=3600.0, gt=0)
    # frames of split uploads held for reassembly, per connection and in all (bytes)
    split_bytes_per_connection: int = Field(default=256 * 1024, ge=1024)
    split_bytes_total: int = Field(default=16 * 1024 * 1024, ge=1024)
    # where `smartpark up --demo` has the simulated data loggers upload (SMARTPARK_HJ212_SERVER)
    server: str = "127.0.0.1:8212"
    # The platform's requests to data loggers (ingest/hj212/requests.py): at most this many
    # outstanding per logger, each given up after request_timeout_s.
    requests_per_logger: int = Field(default=1, ge=1, le=16)
    request_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    # History recovery (ingest/hj212/recovery.py): every recovery_every_s, gaps of the last
    # recovery_lookback_h up to recovery_settle_s ago; a range is asked again after
    # recovery_retry_after_s at the earliest, one request spans recovery_max_range_h at most.
    # recovery_every_s = 0 turns recovery off.
    recovery_every_s: float = Field(default=300.0, ge=0, le=86_400)
    recovery_lookback_h: float = Field(default=48.0, gt=0, le=24 * 31)
    recovery_settle_s: float = Field(default=600.0, ge=0, le=86_400)
    recovery_retry_after_s: float = Field(default=3600.0, gt=0, le=7 * 86_400)
    recovery_max_range_h: float = Field(default=6.0, gt=0, le=24 * 31)
    # Clocks (ingest/hj212/clock.py): each logger's time asked every clock_every_s (0: never),
    # set to the platform's when off by more than max_clock_skew_s.
    clock_every_s: float = Field(default=3600.0, ge=0, le=7 * 86_400)
    max_clock_skew_s: float = Field(default=60.0, gt=0, le=86_400)


class ApiSettings(BaseSettings):
    """Limits and knobs of the HTTP API (``SMARTPARK_API_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_API_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8040
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
    # A token's key and user are re-read at most this often per process (api.standing): revoking
    # a key or disabling a user ends its tokens within this time.
    token_check_s: float = 1.0
    # Failed API-key authentications per source address and window before 429 (api.throttle).
    auth_fail_limit: int = 20
    auth_fail_window_s: float = 60.0
    overview_ttl_s: float = 5.0  # one overview answer shared per (park, scope); 0: none
    live_poll_s: float = 1.0
    live_max_devices: int = 500
    live_recheck_s: float = 2.0  # an open live stream re-checks its credential this often
    live_max_per_user: int = 8  # concurrent live streams of one user per API process
    cors_origins: list[str] = []


class AggregationSettings(BaseSettings):
    """The aggregation scheduler (``SMARTPARK_AGG_`` prefix)."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_AGG_", env_file=".env", extra="ignore")

    rollup_every_s: Annotated[float, Field(gt=0, le=60)] = 20.0  # a reading is in its 15-min rollup within a minute
    indicators_every_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    rollup_batch: Annotated[int, Field(ge=100, le=1_000_000)] = 20_000  # touched buckets per transaction
    indicator_batch: Annotated[int, Field(ge=1, le=100_000)] = 400  # dirty (park, day) per transaction
    default_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0  # expected reading spacing (coverage)
    # A meter's consumption over a gap across midnight (or a month end): shared by time between
    # the days (linear), or all in the later reading's day (later). See aggregation.apportion.
    gap_apportionment: Literal["linear", "later"] = "linear"
    # After a pass that wrote this many 15-minute rows (a back-fill), refresh the planner's
    # statistics of the rollup tables at once (0 = never): the indicator queries that follow
    # would otherwise be planned for empty chunks, 24 s instead of 0.6 s on the demo's week.
    analyze_after_rows: Annotated[int, Field(ge=0)] = 100_000
    # How long the database keeps raw telemetry (the hot tier); the storage settings decide
    # what happens to it afterwards (storage.retention). 0 keeps it forever.
    telemetry_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 90

    def raw_telemetry_from_ms(self, now_s: float) -> int:
        """Where raw telemetry may begin in the database (a day's margin): gaps of older days
        cannot be searched again, so their stored apportionment stands (0: kept forever)."""
        days = self.telemetry_retention_days
        return 0 if days == 0 else int((now_s - (days - 1) * 86_400) * 1000)


# Five years and the leap days they can hold: the 排污许可管理条例 (2021) Art. 19 asks for
# original monitoring records "不得少于5年" (docs/storage.md).
FIVE_YEARS_DAYS = 5 * 365 + 2


class StorageSettings(BaseSettings):
    """Retention by category, the cold tier and the columnstore (``SMARTPARK_STORAGE_`` prefix).

    The hot tier's age is ``SMARTPARK_AGG_TELEMETRY_RETENTION_DAYS`` (the rollup and indicator
    jobs read raw telemetry there, and the cold tier for old periods); each category's raw data is
    kept, hot or cold, for its own number of days. Sources of the defaults: docs/storage.md.
    """

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_STORAGE_", env_file=".env", extra="ignore")

    retention_every_h: Annotated[float, Field(gt=0, le=168)] = 6.0
    # raw telemetry per metric category, hot and cold together (0: forever)
    emissions_days: Annotated[int, Field(ge=0, le=36_500)] = FIVE_YEARS_DAYS
    environment_days: Annotated[int, Field(ge=0, le=36_500)] = FIVE_YEARS_DAYS
    energy_days: Annotated[int, Field(ge=0, le=36_500)] = 3 * 365 + 1
    safety_days: Annotated[int, Field(ge=0, le=36_500)] = 366
    rollup_15m_days: Annotated[int, Field(ge=0, le=36_500)] = 400
    rollup_1h_days: Annotated[int, Field(ge=0, le=36_500)] = 1100
    rollup_1d_days: Annotated[int, Field(ge=0, le=36_500)] = 0
    rejected_messages_days: Annotated[int, Field(ge=1, le=365)] = 30  # bounded: anyone may add to it
    # the HJ 212 packet log (forwarding, history requests): long enough for a bureau to ask a
    # quarter's history again; packets still queued for a target are kept whatever their age
    hj212_packets_days: Annotated[int, Field(ge=0, le=36_500)] = 180
    # Where cold chunks go: a local folder or a URI pyarrow.fs resolves (s3://…, gs://…).
    # None: no cold tier, raw telemetry stays hot for the longest category's retention.
    cold_url: str | None = Field(default=None, repr=False)  # may carry an object store's credentials
    zstd_level: Annotated[int, Field(ge=1, le=22)] = 9
    # Where the server has TimescaleDB's columnstore: chunks older than this are converted (0: never).
    columnstore_after_days: Annotated[int, Field(ge=0, le=36_500)] = 7

    @field_validator("emissions_days", "environment_days")
    @classmethod
    def _at_least_the_law(cls, days: int) -> int:
        if 0 < days < FIVE_YEARS_DAYS:
            raise ValueError(
                f"{days} days is shorter than the 5 years (排污许可管理条例 Art. 19) monitoring records are kept"
            )
        return days


class NotifySettings(BaseSettings):
    """Paging (``SMARTPARK_NOTIFY_`` prefix): acknowledge links in messages, HMAC-signed with
    ``ack_secret`` (unset: messages carry no link), the address people open them at, and how long
    a link stays valid."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_NOTIFY_", env_file=".env", extra="ignore")

    ack_secret: str | None = Field(default=None, repr=False, min_length=16)
    public_url: str = "http://127.0.0.1:8040"
    ack_ttl_s: Annotated[float, Field(gt=0, le=7 * 86400)] = 86400.0


class ForwardSettings(BaseSettings):
    """HJ 212 forwarding to upstream platforms (``SMARTPARK_FORWARD_`` prefix); the targets
    themselves are data (`smartpark hj212 targets load`)."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_FORWARD_", env_file=".env", extra="ignore")

    reload_s: Annotated[float, Field(gt=0, le=3600)] = 30.0  # targets re-read from the database
    report_s: Annotated[float, Field(gt=0, le=300)] = 2.0  # status table and gauges refreshed


class RegionSettings(BaseSettings):
    """A park's submissions to its region (``SMARTPARK_REGION_`` prefix; region/): where the
    region's API is, the park's private key file (mode 0600) and how the outbox retries."""

    model_config = SettingsConfigDict(env_prefix="SMARTPARK_REGION_", env_file=".env", extra="ignore")

    url: str | None = None  # the region instance's base URL, e.g. https://region.example:8040
    key_file: Path | None = None  # the park's Ed25519 private key (smartpark region keygen)
    # the park's API key at the region (a readonly user granted the park): reads its own result
    api_key: str | None = Field(default=None, repr=False)
    retry_every_s: Annotated[float, Field(gt=0, le=3600)] = 30.0  # the outbox job's period
    retry_max_s: Annotated[float, Field(gt=0, le=86_400)] = 3600.0  # longest wait between tries
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 20.0


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
    # URLs carry passwords: kept out of repr, so a failing test or a logged settings object
    # never prints them
    database_url: str | None = Field(default=None, repr=False)
    mqtt_url: str | None = Field(default=None, repr=False)  # platform services' account: mqtt://user:password@host:port
    mqtt_admin_url: str | None = Field(default=None, repr=False)  # dynamic-security admin account

    state_dir: Path = Field(default_factory=_default_state_dir)
    pg_port: int = 55432
    mqtt_port: int = 11883

    # MQTT contract
    topic_root: str = "smartpark/v1"
    ingest_share_group: str = "ingest"
    alerting_share_group: str = "alerting"
    max_payload_bytes: int = 256 * 1024

    # Park defaults
    timezone: str = "Asia/Shanghai"

    metrics_port: int = 0  # Prometheus exporter of non-HTTP services; 0 = off
    # A park model file that `smartpark up` loads (docker-compose's init container).
    registry_file: Path | None = None

    # Webhook receivers may target only public addresses, plus these networks (CIDRs, JSON list):
    # loopback, link-local and private targets are refused otherwise (smartpark.webhook_targets).
    webhook_allowed_networks: list[str] = []

    # The sections: each reads its own environment names when the settings are built.
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    hj212: Hj212Settings = Field(default_factory=Hj212Settings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    aggregation: AggregationSettings = Field(default_factory=AggregationSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    forward: ForwardSettings = Field(default_factory=ForwardSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    region: RegionSettings = Field(default_factory=RegionSettings)

    @field_validator("registry_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value


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
