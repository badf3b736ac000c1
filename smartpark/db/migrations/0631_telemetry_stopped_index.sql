-- Hours a source was stopped (HJ 212 flag F) decide whether an hour without valid data is
-- substituted (HJ 75-2017) or emits nothing; aggregation.emissions looks them up per outlet over
-- the three months before a day. F readings are rare, so a partial index costs ingest almost
-- nothing and spares that look-up a scan of every stack reading.
CREATE INDEX IF NOT EXISTS telemetry_stopped ON telemetry (device_id, ts) WHERE (flag & 63) = 1;
