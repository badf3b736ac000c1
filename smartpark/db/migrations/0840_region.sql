-- The regional level (Articles 21, 22): parks submit signed Article 21 packages to a region.
--
-- Region side (a smartpark instance run as the autonomous region's office, its own database):
--   region_parks: each park registered with its Ed25519 public key (32 raw bytes), key_id the
--     first 16 bytes of its sha256 in hex (the envelope names the key it was signed with), the
--     league/city (盟市) it belongs to and the class it was designated (Article 13).
--   region_submissions: every revision of every package, as signed (canonical JSON bytes, the
--     signature, their sha256); (park, period, revision) once, a nonce once per park.
--   region_viewers: which API users (role readonly) see one league's parks or one park's result.
-- Park side:
--   region_outbox: signed packages waiting for the region's acknowledgement, sent as stored on
--     every try (so a retry is byte-identical and the region stores it once).

CREATE TABLE region_parks (
    park_code        text PRIMARY KEY CHECK (park_code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    league           text NOT NULL CHECK (league ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    public_key       bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    key_id           text NOT NULL UNIQUE,
    designated_class smallint CHECK (designated_class IN (1, 2)),
    registered_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_parks_league_idx ON region_parks (league);

CREATE TABLE region_submissions (
    park_code   text NOT NULL REFERENCES region_parks ON DELETE CASCADE,
    period      text NOT NULL CHECK (period ~ '^20[0-9]{2}(-(0[1-9]|1[0-2]))?$'),
    revision    int NOT NULL CHECK (revision >= 1),
    nonce       text NOT NULL,
    created_at  timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    package     bytea NOT NULL,
    signature   bytea NOT NULL,
    digest      bytea NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (park_code, period, revision),
    UNIQUE (park_code, nonce)
);

CREATE TABLE region_viewers (
    user_id   int PRIMARY KEY REFERENCES api_users ON DELETE CASCADE,
    league    text,
    park_code text REFERENCES region_parks ON DELETE CASCADE,
    CHECK ((league IS NULL) <> (park_code IS NULL))
);

CREATE TABLE region_outbox (
    outbox_id       bigserial PRIMARY KEY,
    park_code       text NOT NULL,
    period          text NOT NULL CHECK (period ~ '^20[0-9]{2}(-(0[1-9]|1[0-2]))?$'),
    revision        int NOT NULL CHECK (revision >= 1),
    envelope        bytea NOT NULL,
    content_digest  bytea NOT NULL,
    queued_at       timestamptz NOT NULL DEFAULT now(),
    attempts        int NOT NULL DEFAULT 0,
    next_try_at     timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    acknowledged_at timestamptz,
    refused_at      timestamptz,
    UNIQUE (park_code, period, revision)
);
CREATE INDEX region_outbox_due_idx ON region_outbox (next_try_at)
    WHERE acknowledged_at IS NULL AND refused_at IS NULL;
