-- Data loggers' clocks as the HJ 212 server last found them, and what bounds the packet log.
-- Written by ingest/hj212/clock_store.py only (the HJ 212 server's clock check,
-- ingest/hj212/clock.py); read by the API (`GET /api/v1/hj212/clocks`).
--
-- hj212_logger_clock: one row per data logger (device) whose time was asked (CN 1011).
--   checked_at  timestamptz  when the logger's answer arrived
--   skew_s      float8       the logger's time minus the platform's at that moment (s; the
--                            logger's SystemTime has whole seconds, so ±1 s is resolution)
--   set_at      timestamptz  when the logger last confirmed a time setting (CN 1012, ExeRtn=1)
--   set_skew_s  float8       the skew that setting corrected
--   sets        int          time settings confirmed so far
--
-- hj212_packets gets a BRIN index on received_at: retention deletes by age
-- (forwarding/store.py, run by the scheduler) and a BRIN index costs the insert path nothing
-- worth measuring, since rows arrive in received_at order.

CREATE TABLE hj212_logger_clock (
    device_id  int PRIMARY KEY REFERENCES devices (device_id) ON DELETE CASCADE,
    checked_at timestamptz NOT NULL,
    skew_s     float8 NOT NULL CHECK (skew_s = skew_s AND abs(skew_s) < 1e10),
    set_at     timestamptz,
    set_skew_s float8,
    sets       int NOT NULL DEFAULT 0 CHECK (sets >= 0)
);

CREATE INDEX hj212_packets_received_at ON hj212_packets USING brin (received_at);
