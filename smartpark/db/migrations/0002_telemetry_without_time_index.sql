-- TimescaleDB adds an index on ts alone to every hypertable. Every query of raw telemetry names
-- its series (device, metric) and time range, which the primary key serves; time-only scans are
-- pruned by chunk. The extra index cost 1-4 µs per inserted row on the ingest path.
DROP INDEX IF EXISTS telemetry_ts_idx;
