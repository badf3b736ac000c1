-- A 'metrics' role: a Prometheus scraper's user, whose key reads /metrics and nothing else.
--
-- Every webhook notification is signed: a webhook receiver stored without a secret (by any
-- writer: the API, `smartpark alerting receiver`, a script) gets a random one of 256 bits
-- (gen_random_uuid draws from the server's strong random source), and existing ones get one now.
-- The API generates the secret itself so that it can show it once; the others set a known one
-- with PATCH /receivers/{id}.

ALTER TABLE api_users DROP CONSTRAINT api_users_role_check;
ALTER TABLE api_users ADD CONSTRAINT api_users_role_check
    CHECK (role IN ('admin', 'operator', 'enterprise', 'regulator', 'readonly', 'metrics'));

CREATE FUNCTION alert_receiver_random_secret() RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') $$;

CREATE FUNCTION alert_receivers_signed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.channel = 'webhook' AND NEW.secret IS NULL THEN
        NEW.secret := alert_receiver_random_secret();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER alert_receivers_signed BEFORE INSERT OR UPDATE ON alert_receivers
    FOR EACH ROW EXECUTE FUNCTION alert_receivers_signed();

UPDATE alert_receivers SET secret = alert_receiver_random_secret()
    WHERE channel = 'webhook' AND secret IS NULL;
