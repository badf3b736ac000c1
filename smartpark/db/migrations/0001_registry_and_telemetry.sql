-- Registry (parks -> enterprises -> gateways/devices), the metric catalogue, raw telemetry.
--
-- telemetry is narrow (one row per reading) so every metric shares one hypertable; its primary
-- key (device_id, metric_id, ts) makes redelivered readings a no-op (ON CONFLICT DO NOTHING).
-- flag: 0 = valid monitoring data; 1..7 = HJ 212 data flags F M S D C T B; +64 = no ts in the
-- payload, receipt time used (see smartpark/catalogue.py).
-- telemetry_touched: the 15-minute buckets that new or late readings fell into, written in the
-- same transaction as the readings, consumed by the aggregation scheduler.

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE parks (
    park_id      serial PRIMARY KEY,
    code         text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name         text NOT NULL,
    timezone     text NOT NULL DEFAULT 'Asia/Shanghai',
    grid_region  text NOT NULL DEFAULT 'national',
    land_area_mu float8 CHECK (land_area_mu >= 0),
    attributes   jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE enterprises (
    enterprise_id serial PRIMARY KEY,
    park_id       int NOT NULL REFERENCES parks,
    code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name          text NOT NULL,
    industry      text NOT NULL DEFAULT 'other',
    land_area_mu  float8 CHECK (land_area_mu >= 0),
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (park_id, code)
);

CREATE TABLE gateways (
    gateway_id    serial PRIMARY KEY,
    enterprise_id int NOT NULL REFERENCES enterprises,
    code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    mqtt_username text NOT NULL UNIQUE,
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (enterprise_id, code)
);

CREATE TABLE devices (
    device_id     serial PRIMARY KEY,
    enterprise_id int NOT NULL REFERENCES enterprises,
    gateway_id    int REFERENCES gateways,
    code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    kind          text NOT NULL,
    name          text NOT NULL DEFAULT '',
    zone          text NOT NULL DEFAULT '',
    mqtt_username text UNIQUE,
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (enterprise_id, code)
);
CREATE INDEX devices_gateway_idx ON devices (gateway_id);

CREATE TABLE metrics (
    metric_id   smallint PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    unit        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('counter', 'gauge', 'state')),
    category    text NOT NULL CHECK (category IN ('energy', 'emissions', 'environment', 'safety')),
    min_value   float8 NOT NULL,
    max_value   float8 NOT NULL,
    carrier     text,
    description text NOT NULL DEFAULT ''
);

CREATE TABLE device_metrics (
    device_id int NOT NULL REFERENCES devices ON DELETE CASCADE,
    metric_id smallint NOT NULL REFERENCES metrics,
    PRIMARY KEY (device_id, metric_id)
);

CREATE TABLE telemetry (
    ts        timestamptz NOT NULL,
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    value     float8 NOT NULL,
    flag      smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, metric_id, ts)
);
SELECT create_hypertable('telemetry', 'ts', chunk_time_interval => interval '1 day');

CREATE TABLE telemetry_touched (
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    bucket    timestamptz NOT NULL,
    PRIMARY KEY (device_id, metric_id, bucket)
);
