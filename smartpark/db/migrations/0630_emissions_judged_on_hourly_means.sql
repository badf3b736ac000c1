-- Emission limits are judged on hourly means corrected to the reference O2 (aggregation.emissions,
-- limits from smartpark.limits), no longer per reading inside the rollups: the per-reading
-- exceedance columns of the rollup tables go.
--
-- indicator_daily / indicator_monthly keep their columns with these meanings from now on:
--   so2_kg, nox_kg, dust_kg    stack emitted mass: Σ over hours of hourly mean concentration ×
--                             hourly mean flow × 1 h / 10⁶; hours the source ran without a valid
--                             hourly mean are substituted per HJ 75-2017, F (stopped) hours emit 0
--   cod_kg, nh3n_kg            wastewater loads: Σ over valid hours of mean C × mean flow × 1 h / 1000
--   exceedance_minutes         60 per outlet-hour whose corrected hourly mean of any pollutant is
--                             above the outlet's limit
-- Days computed before this migration keep their old figures until recomputed.
ALTER TABLE rollup_15m DROP COLUMN IF EXISTS exceed_count, DROP COLUMN IF EXISTS exceed_minutes;
ALTER TABLE rollup_1h DROP COLUMN IF EXISTS exceed_count, DROP COLUMN IF EXISTS exceed_minutes;
ALTER TABLE rollup_1d DROP COLUMN IF EXISTS exceed_count, DROP COLUMN IF EXISTS exceed_minutes;
