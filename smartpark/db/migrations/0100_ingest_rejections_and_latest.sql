-- Ingest: what was refused and why, and the latest reading of every (device, metric).
--
-- rejected_messages: one row per refused reading, or per refused message when the message as a
-- whole is at fault (unknown topic, park or gateway, malformed JSON, payload too large). The
-- device code is kept as sent; the ids are filled in as far as the topic resolved. A hypertable
-- so that retention is dropping old chunks.
-- telemetry_latest: kept by the ingester in the same transaction as the readings, so the API
-- answers "current value" without scanning the hypertable. A late reading never replaces a newer
-- one. fillfactor leaves room for HOT updates (only non-key columns change).

CREATE TABLE rejected_messages (
    received_at   timestamptz NOT NULL,
    topic         text NOT NULL,
    reason_code   text NOT NULL,
    reason        text NOT NULL,
    device        text,
    metric        text,
    device_id     int,
    enterprise_id int,
    park_id       int,
    excerpt       text NOT NULL DEFAULT ''
);
SELECT create_hypertable('rejected_messages', 'received_at', chunk_time_interval => interval '7 days');
CREATE INDEX rejected_messages_enterprise_idx ON rejected_messages (enterprise_id, received_at DESC);
CREATE INDEX rejected_messages_park_idx ON rejected_messages (park_id, received_at DESC);

CREATE TABLE telemetry_latest (
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    ts        timestamptz NOT NULL,
    value     float8 NOT NULL,
    flag      smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, metric_id)
) WITH (fillfactor = 70);
