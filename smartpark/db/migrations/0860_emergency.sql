-- Safety and emergency management: major hazard sources, emergency plans, resources, incidents.
--
-- emergency_hazards(hazard_id serial pk, park_id, enterprise_id null /* park-level when null */,
--     code unique per park, name, kind /* major_hazard | risk_point */, unit_kind /* production |
--     storage */, substances jsonb /* [{substance, quantity_t, threshold_t, beta}] */,
--     exposed_people, ratio_sum /* Σ q/Q */, r_value /* α Σ β q/Q */, grade /* 1..4 per
--     GB 18218-2018 4.3, null below S = 1 */, zone, plan_x, plan_y /* on the park plan, 0..1 */,
--     responsible jsonb /* {name, phone} */, incident_type, updated_at): emergency/registry_store.py.
-- emergency_hazard_devices(hazard_id, device_id, pk both): the devices that monitor a hazard;
--     an alarm of such a device carries the hazard (joined at read time).
-- emergency_plans(plan_id serial pk, park_id, code unique per park, name, incident_type,
--     hazard_codes text[] /* the hazards it is for; empty: every hazard of its type */,
--     steps jsonb /* [{title, role, checklist [text], notify {receivers, contacts, rosters}}] */).
-- emergency_resources(resource_id serial pk, park_id, enterprise_id null, code unique per park,
--     kind /* team | supply | equipment */, name, quantity, unit, zone, contact).
-- emergency_incidents(incident_id bigserial pk, park_id, enterprise_id null, hazard_id null,
--     zone, title, incident_type, level /* 1 (I, 特别重大) .. 4 (IV, 一般) */, state /* reported |
--     responding | controlled | closed */, commander, drill, opened_by, opened_at,
--     first_alarm_at, responding_at, controlled_at, closed_at, plan_id null, plan_name, rule null
--     /* the rule that opened it */): emergency/incident_store.py owns this and the tables below.
-- emergency_incident_alarms(incident_id, alert_id, linked_at, pk both): the alarms of an
--     incident; one alarm belongs to at most one open incident (the rule's duplicate guard).
-- emergency_incident_events(event_id bigserial pk, incident_id, at, kind, by, text, data jsonb):
--     the incident's own timeline (alarm events are joined from alert_events when read).
-- emergency_incident_steps(incident_id, step_no, title, role, checklist jsonb, notify jsonb,
--     done_at, done_by, pk (incident_id, step_no)): the plan instantiated for the incident.
-- emergency_incident_photos(photo_id bigserial pk, incident_id, stored_name /* random, in the
--     private directory */, content_type, size_bytes, sha256, caption, uploaded_by, uploaded_at).

CREATE TABLE emergency_hazards (
    hazard_id      serial PRIMARY KEY,
    park_id        int NOT NULL REFERENCES parks ON DELETE CASCADE,
    enterprise_id  int REFERENCES enterprises ON DELETE CASCADE,
    code           text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind           text NOT NULL CHECK (kind IN ('major_hazard', 'risk_point')),
    unit_kind      text NOT NULL DEFAULT 'storage' CHECK (unit_kind IN ('production', 'storage')),
    substances     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(substances) = 'array'),
    exposed_people int NOT NULL DEFAULT 0 CHECK (exposed_people >= 0),
    ratio_sum      float8,
    r_value        float8,
    grade          smallint CHECK (grade BETWEEN 1 AND 4),
    zone           text NOT NULL DEFAULT '',
    plan_x         float8 CHECK (plan_x BETWEEN 0 AND 1),
    plan_y         float8 CHECK (plan_y BETWEEN 0 AND 1),
    responsible    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(responsible) = 'object'),
    incident_type  text NOT NULL DEFAULT 'gas_leak',
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (park_id, code)
);

CREATE TABLE emergency_hazard_devices (
    hazard_id int NOT NULL REFERENCES emergency_hazards ON DELETE CASCADE,
    device_id int NOT NULL REFERENCES devices ON DELETE CASCADE,
    PRIMARY KEY (hazard_id, device_id)
);
CREATE INDEX emergency_hazard_devices_device ON emergency_hazard_devices (device_id);

CREATE TABLE emergency_plans (
    plan_id       serial PRIMARY KEY,
    park_id       int NOT NULL REFERENCES parks ON DELETE CASCADE,
    code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    incident_type text NOT NULL,
    hazard_codes  text[] NOT NULL DEFAULT '{}',
    steps         jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) > 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (park_id, code)
);

CREATE TABLE emergency_resources (
    resource_id   serial PRIMARY KEY,
    park_id       int NOT NULL REFERENCES parks ON DELETE CASCADE,
    enterprise_id int REFERENCES enterprises ON DELETE CASCADE,
    code          text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    kind          text NOT NULL CHECK (kind IN ('team', 'supply', 'equipment')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    quantity      float8 NOT NULL CHECK (quantity >= 0),
    unit          text NOT NULL DEFAULT '',
    zone          text NOT NULL DEFAULT '',
    contact       text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (park_id, code)
);

CREATE TABLE emergency_incidents (
    incident_id    bigserial PRIMARY KEY,
    park_id        int NOT NULL REFERENCES parks ON DELETE CASCADE,
    enterprise_id  int REFERENCES enterprises ON DELETE CASCADE,
    hazard_id      int REFERENCES emergency_hazards ON DELETE SET NULL,
    zone           text NOT NULL DEFAULT '',
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    incident_type  text NOT NULL,
    level          smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    state          text NOT NULL DEFAULT 'reported'
                   CHECK (state IN ('reported', 'responding', 'controlled', 'closed')),
    commander      text NOT NULL DEFAULT '',
    drill          boolean NOT NULL DEFAULT false,
    opened_by      text NOT NULL,
    opened_at      timestamptz NOT NULL DEFAULT now(),
    first_alarm_at timestamptz,
    responding_at  timestamptz,
    controlled_at  timestamptz,
    closed_at      timestamptz,
    plan_id        int REFERENCES emergency_plans ON DELETE SET NULL,
    plan_name      text,
    rule           text
);
CREATE INDEX emergency_incidents_park ON emergency_incidents (park_id, opened_at DESC);

CREATE TABLE emergency_incident_alarms (
    incident_id bigint NOT NULL REFERENCES emergency_incidents ON DELETE CASCADE,
    alert_id    bigint NOT NULL REFERENCES alerts ON DELETE CASCADE,
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX emergency_incident_alarms_alert ON emergency_incident_alarms (alert_id);

CREATE TABLE emergency_incident_events (
    event_id    bigserial PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES emergency_incidents ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('opened', 'alarm', 'state', 'level', 'commander', 'step',
                                              'notified', 'message', 'action', 'note', 'photo')),
    by          text NOT NULL,
    text        text NOT NULL DEFAULT '',
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX emergency_incident_events_incident ON emergency_incident_events (incident_id, event_id);

CREATE TABLE emergency_incident_steps (
    incident_id bigint NOT NULL REFERENCES emergency_incidents ON DELETE CASCADE,
    step_no     int NOT NULL CHECK (step_no >= 1),
    title       text NOT NULL,
    role        text NOT NULL DEFAULT '',
    checklist   jsonb NOT NULL DEFAULT '[]',
    notify      jsonb NOT NULL DEFAULT '{}',
    done_at     timestamptz,
    done_by     text,
    PRIMARY KEY (incident_id, step_no)
);

CREATE TABLE emergency_incident_photos (
    photo_id     bigserial PRIMARY KEY,
    incident_id  bigint NOT NULL REFERENCES emergency_incidents ON DELETE CASCADE,
    stored_name  text NOT NULL UNIQUE,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   int NOT NULL CHECK (size_bytes > 0),
    sha256       text NOT NULL,
    caption      text NOT NULL DEFAULT '',
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
