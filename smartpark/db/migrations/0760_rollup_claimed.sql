-- rollup_claimed: touched 15-minute buckets the rollup job has taken off telemetry_touched and
-- not yet written. The job stages keys here in a short transaction of its own, then rolls them
-- up and deletes them in its long one: ingest's inserts into telemetry_touched wait only for the
-- short one (they once waited for the whole rollup batch, which stalled ingest under load), and a
-- crash between the two leaves the keys here for the next run. Owner: smartpark.db.touched.
CREATE TABLE rollup_claimed (
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    bucket    timestamptz NOT NULL,
    PRIMARY KEY (device_id, metric_id, bucket)
);
