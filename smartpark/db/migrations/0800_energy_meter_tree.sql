-- energy_meters: the meter tree of each park (energy/meters.py), registry data an admin loads
-- through the API. One row per meter:
--   meter_id       serial
--   park_id        the park
--   enterprise_id  the enterprise the meter measures; NULL: the park's own intake and feeders
--   code           unique in the park, what formulas and parents name
--   name           free text
--   carrier        electricity, water, natural_gas, steam, heat or raw_coal
--   role           main (an enterprise's or the park's incoming meter), sub (below another
--                  meter, already inside its parent's figure) or virtual (computed by formula)
--   parent_id      the meter this one is below (NULL at the top); an enterprise's main meter
--                  may sit below the park's intake
--   device_id      the device that measures it (NULL for virtual meters); one node per device
--   formula        virtual meters only: codes with signs, e.g. "M1 - M2 + M3"
--   tariff         code of a time-of-use schedule (energy/tariffs.py) for electricity meters
--   contracted_kw  contracted capacity or maximum demand, kW (NULL: none)
--   attributes     jsonb (tariff prices, calibration dates, ...)
-- Totals count each energy once: a device counts in its enterprise's figures unless it is a
-- node of the tree with role sub or virtual, or a node of the park's own (enterprise_id NULL).

CREATE TABLE energy_meters (
    meter_id      serial PRIMARY KEY,
    park_id       int NOT NULL REFERENCES parks (park_id) ON DELETE CASCADE,
    enterprise_id int REFERENCES enterprises (enterprise_id) ON DELETE CASCADE,
    code          text NOT NULL,
    name          text NOT NULL DEFAULT '',
    carrier       text NOT NULL,
    role          text NOT NULL CHECK (role IN ('main', 'sub', 'virtual')),
    parent_id     int REFERENCES energy_meters (meter_id) ON DELETE SET NULL,
    device_id     int UNIQUE REFERENCES devices (device_id) ON DELETE CASCADE,
    formula       text,
    tariff        text,
    contracted_kw float8 CHECK (contracted_kw > 0),
    attributes    jsonb NOT NULL DEFAULT '{}',
    UNIQUE (park_id, code),
    CHECK ((role = 'virtual') = (device_id IS NULL)),
    CHECK ((role = 'virtual') = (formula IS NOT NULL))
);
CREATE INDEX energy_meters_enterprise ON energy_meters (enterprise_id);
