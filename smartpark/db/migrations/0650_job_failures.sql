-- Failures of the scheduled jobs, isolated per (job, park, day) so that one bad input stops
-- only its own park and day (an economic report for a month outside the coefficient tables
-- once stopped the statistics of every park). Owner: aggregation.failures.
--
-- aggregation_failures: the (job, park, local day) that failed, its last error, how often it
-- failed, and when it is tried again (exponential backoff); the row goes when it succeeds.
-- rollup_held: touched 15-minute buckets of a park whose rollup failed, out of the queue until
-- retry_at, then queued again.
CREATE TABLE aggregation_failures (
    job             text NOT NULL CHECK (job IN ('rollups', 'indicators')),
    park_id         int NOT NULL REFERENCES parks ON DELETE CASCADE,
    day             date NOT NULL,
    error           text NOT NULL,
    attempts        int NOT NULL DEFAULT 1 CHECK (attempts > 0),
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    retry_at        timestamptz NOT NULL,
    PRIMARY KEY (job, park_id, day)
);
CREATE INDEX aggregation_failures_retry ON aggregation_failures (job, retry_at);

CREATE TABLE rollup_held (
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    bucket    timestamptz NOT NULL,
    retry_at  timestamptz NOT NULL,
    PRIMARY KEY (device_id, metric_id, bucket)
);
CREATE INDEX rollup_held_retry ON rollup_held (retry_at);
