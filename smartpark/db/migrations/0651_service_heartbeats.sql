-- Heartbeats of the long-running services (ingest, alerting, scheduler, hj212, api), one row per
-- process, written every few seconds by smartpark.heartbeat.Publisher with the time the
-- service's loop last went round (beat_at, not the time of writing: a stuck loop shows as an
-- old beat) and its lag. Read by the API (GET /api/v1/health/services, /readyz) so that the
-- page can say since when alarms or statistics are stale.
CREATE TABLE service_heartbeats (
    service       text NOT NULL CHECK (service ~ '^[a-z0-9_.-]{1,64}$'),
    host          text NOT NULL,
    pid           int NOT NULL,
    beat_at       timestamptz NOT NULL,
    lag_s         float8,
    detail        jsonb NOT NULL DEFAULT '{}',  -- service figures, e.g. alerting's longest_pause_s
    stale_after_s float8 NOT NULL CHECK (stale_after_s > 0),
    written_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, host, pid)
);
