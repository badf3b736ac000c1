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
    heat: e.heat_gj ?? null,
    raw_coal: e.raw_coal_t ?? null,
    tce: e.tce_equivalent ?? null,
    co2: e.co2_t ?? null,
    so2_kg: m.so2_kg ?? null,
    nox_kg: m.nox_kg ?? null,
    exceedance_minutes: m.exceedance_minutes ?? null,
    aqi: row?.aqi ?? null, // {aqi, level, category, category_en, primary, iaqi}
    readings: row?.readings ?? 0,
    tce_by_carrier: row?.tce_by_carrier ?? null,
  };
}

/** Sum of the figures' `key` over days; null when none has it. */
function total(days, key) {
  let sum = null;
  for (const f of days) if (f?.[key] != null) sum = (sum ?? 0) + f[key];
  return sum;
}

/**
 * This month so far against the same elapsed days of last month (days 1..n, n the complete
 * days of this month, clamped to last month's length): {now, before, change, complete}.
 * `complete` is false when last month lacks any of those days (no indicators, or no readings):
 * a back-filled single day must not be read as a whole month.
 */
export function monthToDate(byDay, key, today) {
  const first = today.slice(0, 8) + "01";
  const lastFirst = addMonths(first, -1);
  const elapsed = Number(today.slice(8, 10)) - 1; // complete days of this month
  const lastLength = Number(addDays(first, -1).slice(8, 10));
  const n = Math.min(elapsed, lastLength);
  const thisDays = [], lastDays = [];
  for (let i = 0; i < n; i += 1) {
    thisDays.push(byDay.get(addDays(first, i)));
    lastDays.push(byDay.get(addDays(lastFirst, i)));
  }
  const now = total([...thisDays, byDay.get(today)], key); // the month so far, today included
  const complete = n > 0 && lastDays.every((f) => f && f.readings > 0 && f[key] != null)
    && thisDays.every((f) => f && f[key] != null);
  const before = complete ? total(lastDays, key) : null;
  const same = complete ? total(thisDays, key) : null;
  const change = complete && before ? ((same - before) / Math.abs(before)) * 100 : null;
  return { now, before, change, complete, days: n };
}

/** Every enterprise of the park ranked by `by` over [from, to) in one answer. */
export function ranking(ctx, { period, from, to, by = "tce_equivalent", limit }) {
  return api.get(`/statistics/parks/${ctx.park.park_id}/ranking`, { period, from, to, by, limit });
}

/** The park's load (Σ of its meters' mean kW) per bucket: [[ts_ms, kW], ...]. */
export async function parkLoad(ctx, from, to, interval = "15m") {
  const out = await api.get(`/statistics/parks/${ctx.park.park_id}/load`, { from, to, interval });
  return out.ts.map((ts, i) => [ts, out.values[i] == null ? null : Math.round(out.values[i])]);
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
