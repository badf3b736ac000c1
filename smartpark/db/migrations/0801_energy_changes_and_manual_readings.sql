-- energy_meter_changes (energy/changes.py): a meter replaced in place. The device keeps its id
-- (the tree and the history stay); the change records the old register's final reading and the
-- new one's initial reading, so the consumption across the change is exact:
-- (old_final - last reading before) + (first reading after - new_initial).
--   change_id      bigserial
--   device_id, metric_id   the register changed
--   changed_at     when the old meter was read for the last time and the new one installed
--   old_final, new_initial register values, metric unit
--   new_serial     the new meter's serial number
--   note, recorded_by, recorded_at
--
-- energy_manual_readings (energy/manual.py): readings entered by hand or imported (coal weighed,
-- meters without a gateway). A correction never deletes nor overwrites: it is a new row that
-- supersedes the old one (supersedes -> the old id; the old row's superseded_by -> the new id),
-- with who, when and why; the old value stays in the old row. Current readings are those not
-- superseded.
--   reading_id     bigserial
--   device_id, metric_id, ts, value   the reading
--   source         'page' or 'import'
--   entered_by, entered_at, reason     who, when, why (reason required for a correction)
--   supersedes, superseded_by          the correction chain

CREATE TABLE energy_meter_changes (
    change_id    bigserial PRIMARY KEY,
    device_id    int NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    metric_id    smallint NOT NULL,
    changed_at   timestamptz NOT NULL,
    old_final    float8 NOT NULL CHECK (old_final >= 0),
    new_initial  float8 NOT NULL CHECK (new_initial >= 0),
    new_serial   text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_id, metric_id, changed_at)
);

CREATE TABLE energy_manual_readings (
    reading_id    bigserial PRIMARY KEY,
    device_id     int NOT NULL REFERENCES devices (device_id) ON DELETE CASCADE,
    metric_id     smallint NOT NULL,
    ts            timestamptz NOT NULL,
    value         float8 NOT NULL,
    source        text NOT NULL CHECK (source IN ('page', 'import')),
    entered_by    text NOT NULL,
    entered_at    timestamptz NOT NULL DEFAULT now(),
    reason        text NOT NULL DEFAULT '',
    supersedes    bigint REFERENCES energy_manual_readings (reading_id),
    superseded_by bigint REFERENCES energy_manual_readings (reading_id)
);
CREATE INDEX energy_manual_readings_series ON energy_manual_readings (device_id, metric_id, ts);
