// The rules the views colour values with, read once from the API (GET /reference/aqi and
// /reference/limits): the very tables the statistics and the alarms use, never a copy here.
import * as api from "./api.js";

let aqiRef = { categories: [], colours: [] };
let limitsRef = { outlets: [], gas_levels: {}, o2_band: [null, null], wastewater: {} };
let outlets = new Map();

/** Fetch the reference tables; per-outlet limits for the outlets the user may see. */
export async function loadReference(query = {}) {
  const [aqi, limits] = await Promise.all([api.get("/reference/aqi"), api.get("/reference/limits", query)]);
  setReference({ aqi, limits });
}

/** The reference tables as the page's context brings them ({aqi, limits}). */
export function setReference({ aqi, limits }) {
  aqiRef = aqi;
  limitsRef = limits;
  outlets = new Map(limitsRef.outlets.map((o) => [o.device_id, o]));
}

/** {o2_ref_pct, o2_ceiling_pct, limits: {metric: {value, unit, source}}} of an outlet, or null. */
export function outletLimits(deviceId) {
  return outlets.get(deviceId) || null;
}

/** GB 8978-1996 pH band of wastewater outlets (every grade). */
export function phBand() {
  return Object.values(limitsRef.wastewater)[0]?.ph_band || [null, null];
}

/** Reference-oxygen correction C × (21 − O2_ref) / (21 − O2); null above the outlet's O2
 * ceiling (source not firing: not evaluable) or without the figures. */
export function o2Corrected(measured, o2Measured, o2Ref, ceiling) {
  if (measured == null || o2Measured == null || o2Ref == null || ceiling == null || o2Measured > ceiling) return null;
  return (measured * (21 - o2Ref)) / (21 - o2Measured);
}

/** "ok" | "warn" | "bad" for a gas reading (GB/T 50493-2019 setpoints, rounded toward safety). */
export function gasLevel(metric, value) {
  if (value == null) return "ok";
  if (metric === "safety.o2_pct") {
    const [low, high] = limitsRef.o2_band;
    return value < low || value > high ? "bad" : "ok";
  }
  const levels = limitsRef.gas_levels[metric];
  if (!levels) return "ok";
  if (value >= levels[1]) return "bad";
  return value >= levels[0] ? "warn" : "ok";
}

/** HJ 633 category (1..6) of an AQI; 0 for none ("NA"). */
export function aqiLevel(aqi) {
  if (aqi == null) return 0;
  const c = aqiRef.categories.find((x) => x.max == null || aqi <= x.max);
  return c ? c.level : 0;
}

export function aqiColour(level) {
  return aqiRef.colours[level - 1] || "transparent";
}

export function aqiName(level, lang) {
  const c = aqiRef.categories.find((x) => x.level === level);
  return c ? (lang === "zh" ? c.zh : c.en) : "NA";
}
