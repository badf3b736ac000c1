-- A broker username names one account: a device provisioned with the username of an existing
-- gateway (or the other way round) would reset that gateway's broker password. Each table's
-- UNIQUE constraint covers itself only, so this trigger checks the other table, under a
-- transaction-level advisory lock on the name so that two concurrent inserts cannot both pass.

CREATE FUNCTION broker_username_is_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.mqtt_username IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('broker-username:' || NEW.mqtt_username));
    IF (TG_TABLE_NAME = 'devices' AND EXISTS (SELECT 1 FROM gateways WHERE mqtt_username = NEW.mqtt_username))
       OR (TG_TABLE_NAME = 'gateways' AND EXISTS (SELECT 1 FROM devices WHERE mqtt_username = NEW.mqtt_username))
    THEN
        RAISE unique_violation USING
            MESSAGE = format('broker user %L is taken by a %s', NEW.mqtt_username,
                             CASE TG_TABLE_NAME WHEN 'devices' THEN 'gateway' ELSE 'device' END);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER gateways_broker_username BEFORE INSERT OR UPDATE OF mqtt_username ON gateways
    FOR EACH ROW EXECUTE FUNCTION broker_username_is_free();
CREATE TRIGGER devices_broker_username BEFORE INSERT OR UPDATE OF mqtt_username ON devices
    FOR EACH ROW EXECUTE FUNCTION broker_username_is_free();
