-- HJ 212 data loggers identify themselves by MN alone (registry device attribute hj212_mn): two
-- devices with one MN would receive each other's readings, so the registry refuses that, and the
-- gateway's lookup of the devices that speak HJ 212 is an index scan.

CREATE UNIQUE INDEX devices_hj212_mn_key ON devices ((attributes->>'hj212_mn'))
    WHERE attributes ? 'hj212_mn';
