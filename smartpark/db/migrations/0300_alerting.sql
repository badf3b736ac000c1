-- Alerting: rules, alarms and their history, silences, receivers, the notification outbox.
--
-- alert_rules(rule_id text pk, definition jsonb /* the YAML shape, alerting/rules.py
--     rule_to_dict */, metric, severity, category, enabled, updated_at, updated_by)
-- alerts(alert_id bigserial pk, rule_id, series_key /* 'd:{device_id}' | 'g:{gateway_id}' */,
--     park_id, enterprise_id, device_id null, gateway_id null, metric, severity, category,
--     state /* pending | firing | resolved | cancelled */, labels jsonb, summary,
--     trigger_value /* value that raised it */, value /* latest */, started_at /* first breach */,
--     firing_at, resolved_at, resolved_by /* null: the condition cleared; else who cleared it */,
--     acknowledged_at, acknowledged_by, assignee, assigned_at, updated_at)
--     At most one open (pending or firing) alarm per (rule_id, series_key): partial unique index.
--     The open alarms are also the evaluation state the service restores after a restart.
-- alert_events(event_id bigserial pk, alert_id, at, kind /* pending firing resolved cancelled
--     acknowledged assigned cleared commented */, by /* 'system' for the evaluator */, comment,
--     value): every transition and every operator action.
-- alert_silences(silence_id serial pk, matchers jsonb /* ["park=demo", "alertname=~lel-.*"] */,
--     starts_at, ends_at, created_by, comment, created_at): matching alarms are not notified.
-- alert_receivers(receiver_id serial pk, name unique, park_id null /* all parks */, categories
--     text[], channel /* webhook | mqtt */, url /* webhook */, secret /* HMAC-SHA256 key */,
--     group_by text[], group_wait_s, group_interval_s, repeat_interval_s, enabled)
-- alert_notifications(notification_id bigserial pk, receiver_id, group_key, status /* firing |
--     resolved */, payload jsonb, created_at, attempts, next_attempt_at, delivered_at,
--     last_error): the durable outbox; a row is delivered once, retried with backoff until then.
-- alert_notified(alert_id, receiver_id, status, notification_id, at): which alarm state reached
--     which receiver, so grouping resumes after a restart without repeating or losing one.

CREATE TABLE alert_rules (
    rule_id    text PRIMARY KEY CHECK (rule_id ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
    definition jsonb NOT NULL,
    metric     text NOT NULL,
    severity   text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    category   text NOT NULL CHECK (category IN ('safety', 'emissions', 'environment', 'energy')),
    enabled    boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'system'
);

CREATE TABLE alerts (
    alert_id        bigserial PRIMARY KEY,
    rule_id         text NOT NULL,
    series_key      text NOT NULL CHECK (series_key ~ '^[dg]:[0-9]+$'),
    park_id         int NOT NULL REFERENCES parks ON DELETE CASCADE,
    enterprise_id   int REFERENCES enterprises ON DELETE CASCADE,
    device_id       int REFERENCES devices ON DELETE CASCADE,
    gateway_id      int REFERENCES gateways ON DELETE CASCADE,
    metric          text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    category        text NOT NULL CHECK (category IN ('safety', 'emissions', 'environment', 'energy')),
    state           text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'cancelled')),
    labels          jsonb NOT NULL DEFAULT '{}',
    summary         text NOT NULL DEFAULT '',
    trigger_value   float8,
    value           float8,
    started_at      timestamptz NOT NULL,
    firing_at       timestamptz,
    resolved_at     timestamptz,
    resolved_by     text,
    acknowledged_at timestamptz,
    acknowledged_by text,
    assignee        text,
    assigned_at     timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alerts_one_open_per_series ON alerts (rule_id, series_key)
    WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_park_started ON alerts (park_id, started_at DESC);
CREATE INDEX alerts_open ON alerts (state) WHERE state IN ('pending', 'firing');

CREATE TABLE alert_events (
    event_id bigserial PRIMARY KEY,
    alert_id bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
    at       timestamptz NOT NULL DEFAULT now(),
    kind     text NOT NULL CHECK (kind IN ('pending', 'firing', 'resolved', 'cancelled', 'acknowledged',
                                           'assigned', 'cleared', 'commented')),
    by       text NOT NULL,
    comment  text NOT NULL DEFAULT '' CHECK (length(comment) <= 4000),
    value    float8
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);

CREATE TABLE alert_silences (
    silence_id serial PRIMARY KEY,
    matchers   jsonb NOT NULL CHECK (jsonb_typeof(matchers) = 'array' AND jsonb_array_length(matchers) > 0),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_by text NOT NULL,
    comment    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE TABLE alert_receivers (
    receiver_id       serial PRIMARY KEY,
    name              text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    park_id           int REFERENCES parks ON DELETE CASCADE,
    categories        text[] NOT NULL
                      CHECK (cardinality(categories) > 0
                             AND categories <@ ARRAY['safety', 'emissions', 'environment', 'energy']::text[]),
    channel           text NOT NULL CHECK (channel IN ('webhook', 'mqtt')),
    url               text CHECK (url IS NULL OR url ~ '^https?://'),
    secret            text,
    group_by          text[] NOT NULL DEFAULT ARRAY['park', 'category', 'alertname'],
    group_wait_s      float8 NOT NULL DEFAULT 0 CHECK (group_wait_s BETWEEN 0 AND 3600),
    group_interval_s  float8 NOT NULL DEFAULT 30 CHECK (group_interval_s BETWEEN 0 AND 86400),
    repeat_interval_s float8 NOT NULL DEFAULT 14400 CHECK (repeat_interval_s BETWEEN 60 AND 604800),
    enabled           boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (channel <> 'webhook' OR url IS NOT NULL)
);

CREATE TABLE alert_notifications (
    notification_id bigserial PRIMARY KEY,
    receiver_id     int NOT NULL REFERENCES alert_receivers ON DELETE CASCADE,
    group_key       text NOT NULL,
    status          text NOT NULL CHECK (status IN ('firing', 'resolved')),
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text
);
CREATE INDEX alert_notifications_due ON alert_notifications (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE alert_notified (
    alert_id        bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
    receiver_id     int NOT NULL REFERENCES alert_receivers ON DELETE CASCADE,
    status          text NOT NULL CHECK (status IN ('firing', 'resolved')),
    notification_id bigint NOT NULL REFERENCES alert_notifications ON DELETE CASCADE,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_id, receiver_id, status)
);
