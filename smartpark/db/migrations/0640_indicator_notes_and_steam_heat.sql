-- Indicator figures say why a figure is missing or not computed with the data year's own
-- coefficient, and count purchased steam in CO2 through its heat.
--
-- indicator_daily, indicator_monthly:
--   steam_heat_gj  float8  heat of the steam consumed above feedwater at 20 °C, GJ:
--                          Σ mass (t) × (enthalpy − 83.74 kJ/kg) × 10⁻³ per steam meter, the
--                          enthalpy from the device attribute steam_enthalpy_kj_kg, default
--                          2777.1 kJ/kg (saturated steam at 1.0 MPa absolute). CO2 counts it at
--                          the heat factor (0.11 tCO2/GJ) like purchased heat.
--   tce_equal, co2_t       now NULL when a coefficient is missing for the data year (before the
--                          tables: electricity equal value from data year 2016, grid CO2
--                          factors from 2021); the other figures of the row stand.
--   notes          jsonb   figure -> text: "missing: <why>" for a NULL figure, or the key of the
--                          coefficient used and why it is not the data year's own one for the
--                          park's region (a provincial figure missing, the latest published year
--                          standing in for a later data year). {} when every figure is exact.
--                          Monthly rows merge their days' notes.
-- indicator_monthly:
--   coverage       jsonb   per economic figure, how many enterprises reported it and of how
--                          many (park rows; enterprise rows 0 or 1 of 1); the intensities divide
--                          the energy of exactly those enterprises by their economic figures.
--
-- Readings stamped on receipt (telemetry.flag 64, valid data without a device timestamp) count
-- in rollups from this version on, as in alarms: rollup_* "valid readings" are flag 0 or 64.

ALTER TABLE indicator_daily
    ADD COLUMN steam_heat_gj float8 NOT NULL DEFAULT 0,
    ADD COLUMN notes jsonb NOT NULL DEFAULT '{}'::jsonb,
    ALTER COLUMN tce_equal DROP NOT NULL,
    ALTER COLUMN co2_t DROP NOT NULL;

ALTER TABLE indicator_monthly
    ADD COLUMN steam_heat_gj float8 NOT NULL DEFAULT 0,
    ADD COLUMN notes jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN coverage jsonb NOT NULL DEFAULT '{}'::jsonb,
    ALTER COLUMN tce_equal DROP NOT NULL,
    ALTER COLUMN co2_t DROP NOT NULL;
