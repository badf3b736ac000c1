// Period figures of the park or one enterprise from the API's statistics (aggregation's daily
// and monthly indicators): energy by carrier, tce, CO2, emissions, AQI.
import * as api from "./api.js";

/** Figures of one statistics row, named as the views use them (null where the row has none). */
export function figuresOf(row) {
  const e = row?.energy || {};
  const m = row?.emissions || {};
  return {
    period: row?.period ?? null,
    electricity: e.electricity_kwh ?? null,
    water: e.water_m3 ?? null,
    natural_gas: e.natural_gas_nm3 ?? null,
    steam: e.steam_t ?? null,
    tce: e.tce_equivalent ?? null,
    co2: e.co2_t ?? null,
    so2_kg: m.so2_kg ?? null,
    nox_kg: m.nox_kg ?? null,
    exceedance_minutes: m.exceedance_minutes ?? null,
    aqi: row?.aqi ?? null, // {aqi, level, category, category_en, primary, iaqi}
  };
}

/** Add `days` to a YYYY-MM-DD date (calendar arithmetic, no time zone involved). */
export function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Add `months` to the first day of a month (YYYY-MM-01). */
export function addMonths(month, months) {
  const [y, m] = month.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1 + months, 1)).toISOString().slice(0, 10);
}

/**
 * Figures per period start between `from` (inclusive) and `to` (exclusive), for the park or,
 * with `enterpriseId`, one enterprise: Map("YYYY-MM-DD" -> figures).
 */
export async function periods(ctx, period, from, to, { enterpriseId } = {}) {
  const query = { period, from, to };
  const answer = enterpriseId
    ? await api.get(`/statistics/enterprises/${enterpriseId}`, query)
    : await api.get(`/statistics/parks/${ctx.park.park_id}`, query);
  return new Map(answer.rows.map((r) => [r.period, figuresOf(r)]));
}

/** [from, to) ISO instants of a park-local day starting on `date` (YYYY-MM-DD). */
export function dayRange(date, timezone) {
  const at = new Date(`${date}T12:00:00Z`);
  const part = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
    .formatToParts(at).find((p) => p.type === "timeZoneName").value; // "GMT+08:00" or "GMT"
  const offset = part === "GMT" ? "+00:00" : part.slice(3);
  return [`${date}T00:00:00${offset}`, `${addDays(date, 1)}T00:00:00${offset}`];
}
