-- API principals: users with one role and a scope, their API keys, and the token signing secret.
--
-- Keys are never stored: only sha256 of the whole key, found through its public prefix, so a
-- leaked table cannot be replayed. A key is revoked by stamping revoked_at (kept for the audit).
-- Roles: admin (everything), operator (one park), enterprise (its own enterprise), regulator
-- (one park, categories environment and/or emergency), readonly (one park, or all when null).

CREATE TABLE api_users (
    user_id       serial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'enterprise', 'regulator', 'readonly')),
    park_id       int REFERENCES parks ON DELETE CASCADE,
    enterprise_id int REFERENCES enterprises ON DELETE CASCADE,
    categories    text[] NOT NULL DEFAULT '{}'
                  CHECK (categories <@ ARRAY['environment', 'emergency']::text[]),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK (role <> 'operator' OR park_id IS NOT NULL),
    CHECK (role <> 'enterprise' OR enterprise_id IS NOT NULL),
    CHECK (role <> 'regulator' OR (park_id IS NOT NULL AND cardinality(categories) > 0))
);

CREATE TABLE api_keys (
    key_id       serial PRIMARY KEY,
    user_id      int NOT NULL REFERENCES api_users ON DELETE CASCADE,
    prefix       text NOT NULL UNIQUE,
    key_hash     bytea NOT NULL,
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- One row: the HMAC secret of short-lived tokens, shared by every API process.
CREATE TABLE api_token_secret (
    id         smallint PRIMARY KEY CHECK (id = 1),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
