// Period figures of the park or one enterprise: the API's statistics when it has them, else
// consumption summed from the rollups (series with aggregate=consumption) for the carriers.
import * as api from "./api.js";

export const CARRIERS = [
  { key: "electricity", metric: "elec.import_kwh", unit: "kWh" },
  { key: "water", metric: "water.volume_m3", unit: "m³" },
  { key: "natural_gas", metric: "gas.volume_nm3", unit: "Nm³" },
  { key: "steam", metric: "steam.mass_t", unit: "t" },
];

/** "+08:00" for a time zone at a given instant. */
export function tzOffset(timezone, at = new Date()) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
    .formatToParts(at).find((p) => p.type === "timeZoneName").value; // "GMT+08:00" or "GMT"
  return part === "GMT" ? "+00:00" : part.slice(3);
}

/** [from, to) ISO instants of the park-local day or month starting on `date` (YYYY-MM-DD). */
export function periodRange(period, date, timezone) {
  const [y, m, d] = date.split("-").map(Number);
  const start = period === "month" ? new Date(Date.UTC(y, m - 1, 1)) : new Date(Date.UTC(y, m - 1, d));
  const end = period === "month" ? new Date(Date.UTC(y, m, 1)) : new Date(Date.UTC(y, m - 1, d + 1));
  const iso = (dt) => `${dt.toISOString().slice(0, 10)}T00:00:00${tzOffset(timezone, dt)}`;
  return [iso(start), iso(end)];
}

/** Pull the figures out of a statistics answer, whichever of the documented shapes it has. */
export function fromStatistics(s) {
  const carriers = s.energy_by_carrier || s.consumption || s.carriers || {};
  const pick = (...names) => {
    for (const n of names) {
      const v = n.split(".").reduce((o, k) => (o == null ? o : o[k]), s);
      if (typeof v === "number") return v;
      if (v && typeof v.value === "number") return v.value;
    }
    return null;
  };
  const carrier = (name, ...alt) => {
    const v = carriers[name];
    if (typeof v === "number") return v;
    if (v && typeof v === "object") return v.amount ?? v.value ?? v.quantity ?? null;
    return pick(...alt);
  };
  return {
    electricity: carrier("electricity", "electricity_kwh", "elec_kwh"),
    water: carrier("water", "water_m3"),
    natural_gas: carrier("natural_gas", "gas_nm3", "natural_gas_nm3"),
    steam: carrier("steam", "steam_t"),
    tce: pick("tce", "total_tce", "energy_tce", "energy.tce"),
    co2: pick("co2_t", "co2", "co2_tonnes"),
    aqi: pick("aqi", "aqi.aqi"),
  };
}

/** Carrier totals of a period summed from the rollups, for `devices` (those with counters). */
export async function fromRollups(devices, period, date, timezone) {
  const [from, to] = periodRange(period, date, timezone);
  const pairs = [];
  for (const d of devices) for (const c of CARRIERS) if (d.metrics?.includes(c.metric)) pairs.push([d.device_id, c.metric]);
  const out = { electricity: null, water: null, natural_gas: null, steam: null, tce: null, co2: null, aqi: null };
  if (!pairs.length) return out;
  const series = await api.series(pairs, { from, to, interval: period === "month" ? "month" : "1d", aggregate: "consumption" });
  for (const s of series) {
    const c = CARRIERS.find((x) => x.metric === s.metric);
    const sum = s.values.reduce((a, v) => a + (v ?? 0), 0);
    out[c.key] = (out[c.key] ?? 0) + sum;
  }
  return out;
}

/** Figures for the park (or one enterprise with `enterpriseId`). */
export async function figures(ctx, period, date, { enterpriseId } = {}) {
  try {
    const s = enterpriseId
      ? await api.enterpriseStatistics(enterpriseId, period, date)
      : await api.parkStatistics(ctx.park.park_id, period, date);
    const f = fromStatistics(s);
    if (f.electricity != null || f.tce != null) return f;
  } catch (err) {
    if (!(err instanceof api.ApiError) || (err.status !== 404 && err.status !== 405)) throw err;
  }
  const devs = enterpriseId ? ctx.devices.filter((d) => d.enterprise_id === enterpriseId) : ctx.devices;
  return fromRollups(devs, period, date, ctx.timezone);
}
