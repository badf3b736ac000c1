-- consumption_moves: per (device, counter metric, park-local day), the consumption that linear
-- apportionment of gaps across midnight (SMARTPARK_AGG_GAP_APPORTIONMENT=linear) adds to the
-- rollups' daily consumption (negative: takes away, from the day of an interval's later
-- reading). Written by the indicator job from raw telemetry; kept so that a day recomputed after
-- its raw telemetry has expired (retention) keeps the figures it had. The amounts of one
-- interval sum to zero.
--   device_id, metric_id   the counter
--   day                    local calendar day of the device's park
--   amount                 in the metric's unit

CREATE TABLE consumption_moves (
    device_id int NOT NULL,
    metric_id smallint NOT NULL,
    day       date NOT NULL,
    amount    float8 NOT NULL,
    PRIMARY KEY (device_id, metric_id, day)
);
