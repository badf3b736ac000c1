-- alerting_coverage: how many safety readings of each park the alerting service judged, per
-- 15-minute bucket of the readings' own time. Beside rollup_15m's counts of what was stored, it
-- shows readings that reached storage but never reached the alarms (a stale member of the
-- alerting group's shared subscription takes its share unseen; a wrong ACL or topic filter
-- likewise), which no heartbeat would show. Owner: alerting.coverage.
CREATE TABLE alerting_coverage (
    park_id  int NOT NULL,
    bucket   timestamptz NOT NULL,
    readings bigint NOT NULL,
    PRIMARY KEY (park_id, bucket)
);
