"""Settings of the aggregation scheduler (``SMARTPARK_AGG_`` environment variables)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aggregation.retention import RetentionPolicy


class AggregationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPARK_AGG_", env_file=".env", extra="ignore")

    rollup_every_s: Annotated[float, Field(gt=0, le=60)] = 20.0  # a reading is in its 15-min rollup within a minute
    indicators_every_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    retention_every_h: Annotated[float, Field(gt=0, le=168)] = 6.0
    rollup_batch: Annotated[int, Field(ge=100, le=1_000_000)] = 20_000  # touched buckets per transaction
    indicator_batch: Annotated[int, Field(ge=1, le=100_000)] = 400  # dirty (park, day) per transaction
    default_interval_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0  # expected reading spacing (coverage)
    # After a pass that wrote this many 15-minute rows (a back-fill), refresh the planner's
    # statistics of the rollup tables at once (0 = never): the indicator queries that follow
    # would otherwise be planned for empty chunks, 24 s instead of 0.6 s on the demo's week.
    analyze_after_rows: Annotated[int, Field(ge=0)] = 100_000
    telemetry_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 90
    rollup_15m_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 400
    rollup_1h_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 1100
    rollup_1d_retention_days: Annotated[int, Field(ge=0, le=36_500)] = 0  # 0 keeps forever

    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            self.telemetry_retention_days,
            self.rollup_15m_retention_days,
            self.rollup_1h_retention_days,
            self.rollup_1d_retention_days,
        )
