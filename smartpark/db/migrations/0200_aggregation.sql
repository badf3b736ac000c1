-- Aggregation: rollups of raw telemetry, daily and monthly indicators, economic monthly reports.
-- Written only by the aggregation scheduler (`smartpark scheduler`) and `smartpark economic
-- import`; read by the API and dashboards with plain SQL.
--
-- rollup_15m, rollup_1h, rollup_1d: one row per (device_id, metric_id, bucket), valid readings
-- only (telemetry.flag = 0). Hypertables, so retention drops whole chunks.
--   bucket       timestamptz  bucket start. 15m and 1h are aligned to UTC; 1d starts at local
--                             midnight of the device's park time zone (parks.timezone).
--   count        int          readings in the bucket
--   sum, min, max, mean       float8 of the readings' values (metric unit)
--   first, first_ts           value and time of the earliest reading in the bucket
--   last, last_ts             value and time of the latest reading in the bucket
--   coverage     float8       share of expected readings present, 0..1 (expected spacing: device
--                             attribute interval_s, default 60 s)
--   consumption  float8       counters (metrics.kind = 'counter'): consumption in the metric unit
--                             attributed to the bucket: each reading's increase over the previous
--                             reading (possibly in an earlier bucket) belongs to the reading's
--                             bucket, so bucket totals add up across edges. Resets count from
--                             zero, rollovers wrap at the device attribute register_max,
--                             implausible jumps count zero. NULL for gauges and states.
--   resets       int          counter resets and rollovers in the bucket (0 for gauges)
--   jumps        int          implausible counter jumps, flagged and not summed
--   exceed_count int          readings above the metric's limit (aggregation.coefficients
--                             EMISSION_LIMITS, device attribute limit overrides); 0 without one
--   exceed_minutes float8     exceed_count × expected spacing, in minutes
--   computed_at  timestamptz  when the row was last recomputed
--
-- indicator_daily (local calendar day of the park) and indicator_monthly (local calendar month,
-- `month` is its first day): one row per enterprise, and one per park with enterprise_id NULL
-- (the park total = sum of its enterprises). Quantities over the period:
--   electricity_kwh, electricity_export_kwh, natural_gas_nm3, steam_t, heat_gj, raw_coal_t,
--   water_m3                   consumption per carrier (from counter rollups)
--   tce_equivalent, tce_equal  comprehensive energy (t standard coal, GB/T 2589-2020), electricity
--                             at equivalent value (0.1229 kgce/kWh) or at equal value (previous
--                             year's thermal power coal use); exported electricity deducted
--   co2_t                      t CO2: electricity (MEE/NBS factor of the park's grid_region and
--                             year), natural gas, raw coal, heat
--   so2_kg, nox_kg, dust_kg    stack emitted mass: Σ mean concentration × mean flow × 0.25 h / 10⁶
--                             over 15-minute rollups where both are present
--   cod_kg, nh3n_kg            wastewater loads: Σ mean C (mg/L) × mean flow (m³/h) × 0.25 h / 1000
--   exceedance_minutes         minutes above limits, all emission metrics together
--   readings                   valid readings behind the figures (data completeness)
--   computed_at
-- indicator_monthly adds (from economic_monthly; NULL when not reported; money in 10⁴ yuan):
--   output_value, value_added, tax, fixed_asset_investment, employees, land_area_mu,
--   tce_per_output, tce_per_value_added (tce per 10⁴ yuan), co2_per_output (t per 10⁴ yuan),
--   output_per_mu, tax_per_mu, investment_per_mu (10⁴ yuan per mu), enterprises (park rows:
--   number of enterprises in the park; 1 on enterprise rows)
--
-- aggregation_dirty_days: (park_id, local day) whose indicators need recomputing; written by
-- the rollup job and the economic import, consumed by the indicator job (internal).
--
-- economic_monthly: one row per (enterprise_id, month), month = first day of the month. Money
-- in 10⁴ yuan (万元): output_value (industrial output value), value_added (industrial value
-- added), tax, fixed_asset_investment; employees (headcount at month end); source (file name
-- or API), imported_at.

CREATE TABLE rollup_15m (
    device_id      int NOT NULL,
    metric_id      smallint NOT NULL,
    bucket         timestamptz NOT NULL,
    count          int NOT NULL,
    sum            float8 NOT NULL,
    min            float8 NOT NULL,
    max            float8 NOT NULL,
    mean           float8 NOT NULL,
    first          float8 NOT NULL,
    first_ts       timestamptz NOT NULL,
    last           float8 NOT NULL,
    last_ts        timestamptz NOT NULL,
    coverage       float8,
    consumption    float8,
    resets         int NOT NULL DEFAULT 0,
    jumps          int NOT NULL DEFAULT 0,
    exceed_count   int NOT NULL DEFAULT 0,
    exceed_minutes float8 NOT NULL DEFAULT 0,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, metric_id, bucket)
);
SELECT create_hypertable('rollup_15m', 'bucket', chunk_time_interval => interval '7 days');

CREATE TABLE rollup_1h (LIKE rollup_15m INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (device_id, metric_id, bucket));
SELECT create_hypertable('rollup_1h', 'bucket', chunk_time_interval => interval '30 days');

CREATE TABLE rollup_1d (LIKE rollup_15m INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (device_id, metric_id, bucket));
SELECT create_hypertable('rollup_1d', 'bucket', chunk_time_interval => interval '365 days');

CREATE TABLE economic_monthly (
    enterprise_id          int NOT NULL REFERENCES enterprises,
    month                  date NOT NULL CHECK (extract(day FROM month) = 1),
    output_value           float8 CHECK (output_value >= 0),
    value_added            float8,
    tax                    float8,
    fixed_asset_investment float8 CHECK (fixed_asset_investment >= 0),
    employees              int CHECK (employees >= 0),
    source                 text NOT NULL DEFAULT '',
    imported_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (enterprise_id, month)
);

CREATE TABLE indicator_daily (
    park_id                int NOT NULL REFERENCES parks,
    enterprise_id          int REFERENCES enterprises,
    day                    date NOT NULL,
    electricity_kwh        float8 NOT NULL DEFAULT 0,
    electricity_export_kwh float8 NOT NULL DEFAULT 0,
    natural_gas_nm3        float8 NOT NULL DEFAULT 0,
    steam_t                float8 NOT NULL DEFAULT 0,
    heat_gj                float8 NOT NULL DEFAULT 0,
    raw_coal_t             float8 NOT NULL DEFAULT 0,
    water_m3               float8 NOT NULL DEFAULT 0,
    tce_equivalent         float8 NOT NULL DEFAULT 0,
    tce_equal              float8 NOT NULL DEFAULT 0,
    co2_t                  float8 NOT NULL DEFAULT 0,
    so2_kg                 float8 NOT NULL DEFAULT 0,
    nox_kg                 float8 NOT NULL DEFAULT 0,
    dust_kg                float8 NOT NULL DEFAULT 0,
    cod_kg                 float8 NOT NULL DEFAULT 0,
    nh3n_kg                float8 NOT NULL DEFAULT 0,
    exceedance_minutes     float8 NOT NULL DEFAULT 0,
    readings               bigint NOT NULL DEFAULT 0,
    computed_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicator_daily_key UNIQUE NULLS NOT DISTINCT (park_id, enterprise_id, day)
);
CREATE INDEX indicator_daily_day_idx ON indicator_daily (day);

CREATE TABLE indicator_monthly (
    LIKE indicator_daily INCLUDING DEFAULTS,
    output_value           float8,
    value_added            float8,
    tax                    float8,
    fixed_asset_investment float8,
    employees              int,
    land_area_mu           float8,
    tce_per_output         float8,
    tce_per_value_added    float8,
    co2_per_output         float8,
    output_per_mu          float8,
    tax_per_mu             float8,
    investment_per_mu      float8,
    enterprises            int NOT NULL DEFAULT 1
);
ALTER TABLE indicator_monthly RENAME COLUMN day TO month;
ALTER TABLE indicator_monthly ADD CONSTRAINT indicator_monthly_key UNIQUE NULLS NOT DISTINCT (park_id, enterprise_id, month);
ALTER TABLE indicator_monthly ADD FOREIGN KEY (park_id) REFERENCES parks;
ALTER TABLE indicator_monthly ADD FOREIGN KEY (enterprise_id) REFERENCES enterprises;
CREATE INDEX indicator_monthly_month_idx ON indicator_monthly (month);

CREATE TABLE aggregation_dirty_days (
    park_id int NOT NULL,
    day     date NOT NULL,
    PRIMARY KEY (park_id, day)
);
