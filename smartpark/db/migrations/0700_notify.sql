-- Paging people: channels beyond webhooks, escalation, duty rosters, acknowledge links, the
-- notification log.
--
-- alert_receivers gains the channels email | wecom | dingtalk | feishu | sms, a `config` jsonb
--     of the channel's settings that are not secret (SMTP host, port, security, from, to; robot
--     endpoint; SMS provider, template, numbers) and a `secrets` jsonb of named secrets (SMTP
--     password, robot key / token / signing secret, SMS key). The API answers only their names.
-- notify_contacts(contact_id serial pk, park_id null, name unique, email, phone): people a
--     policy level or a roster names.
-- notify_rosters(roster_id serial pk, park_id null, name unique, definition jsonb /* rotation,
--     members, handoff, overrides, holidays: alerting/rosters.py */): who is on duty when.
-- notify_policies(policy_id serial pk, park_id null, name unique, matchers jsonb, definition
--     jsonb /* levels, repeat: alerting/escalation.py */, enabled): escalation of the alarms
--     whose labels match.
-- notify_escalations(alert_id, policy_id, level /* levels notified so far */, next_at, repeats,
--     done_at, pk (alert_id, policy_id)): where each alarm is in its policy, so escalation
--     resumes after a restart.
-- notify_attempts(attempt_id bigserial pk, at, receiver_id, channel, target, budget_key,
--     notification_ids bigint[], alert_ids bigint[], result /* ok | error | deferred */, error,
--     latency_ms): every delivery attempt of the paging channels; the log per alarm.
-- notify_ack_uses(digest text pk, alert_id, used_at, by): acknowledge links already used.

ALTER TABLE alert_receivers DROP CONSTRAINT alert_receivers_channel_check;
ALTER TABLE alert_receivers ADD CONSTRAINT alert_receivers_channel_check
    CHECK (channel IN ('webhook', 'mqtt', 'email', 'wecom', 'dingtalk', 'feishu', 'sms'));
ALTER TABLE alert_receivers ADD COLUMN config jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(config) = 'object');
ALTER TABLE alert_receivers ADD COLUMN secrets jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(secrets) = 'object');

CREATE TABLE notify_contacts (
    contact_id serial PRIMARY KEY,
    park_id    int REFERENCES parks ON DELETE CASCADE,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    email      text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
    phone      text CHECK (phone IS NULL OR phone ~ '^\+?[0-9]{5,20}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify_rosters (
    roster_id  serial PRIMARY KEY,
    park_id    int REFERENCES parks ON DELETE CASCADE,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify_policies (
    policy_id  serial PRIMARY KEY,
    park_id    int REFERENCES parks ON DELETE CASCADE,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    matchers   jsonb NOT NULL CHECK (jsonb_typeof(matchers) = 'array' AND jsonb_array_length(matchers) > 0),
    definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    enabled    boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notify_escalations (
    alert_id   bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
    policy_id  int NOT NULL REFERENCES notify_policies ON DELETE CASCADE,
    level      int NOT NULL DEFAULT 0 CHECK (level >= 0),
    started_at timestamptz NOT NULL,
    next_at    timestamptz NOT NULL,
    repeats    int NOT NULL DEFAULT 0,
    done_at    timestamptz,
    done_why   text,
    PRIMARY KEY (alert_id, policy_id)
);
CREATE INDEX notify_escalations_due ON notify_escalations (next_at) WHERE done_at IS NULL;

CREATE TABLE notify_attempts (
    attempt_id       bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    receiver_id      int REFERENCES alert_receivers ON DELETE SET NULL,
    channel          text NOT NULL,
    target           text NOT NULL,
    budget_key       text NOT NULL,
    notification_ids bigint[] NOT NULL,
    alert_ids        bigint[] NOT NULL,
    result           text NOT NULL CHECK (result IN ('ok', 'error', 'deferred')),
    error            text CHECK (length(error) <= 2000),
    latency_ms       float8 NOT NULL DEFAULT 0
);
CREATE INDEX notify_attempts_alerts ON notify_attempts USING gin (alert_ids);
CREATE INDEX notify_attempts_budget ON notify_attempts (budget_key, at) WHERE result = 'ok';

CREATE TABLE notify_ack_uses (
    digest   text PRIMARY KEY,
    alert_id bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
    used_at  timestamptz NOT NULL DEFAULT now(),
    by       text NOT NULL
);
