// Thresholds the views colour values against; the same figures (and sources) as the default
// alert rules (alerting/default_rules.yaml), so the page and the alarms agree.

/** Stack concentrations at reference O2, mg/m³: ultra-low emission limits for coal power. */
export const STACK_LIMITS = { "stack.so2_mgm3": 35, "stack.nox_mgm3": 50, "stack.dust_mgm3": 10 };

/** Wastewater: GB 8978-1996 table 4 grade 1 (a permit's own limit replaces it). */
export const WASTEWATER_LIMITS = { "ww.cod_mgl": [null, 100], "ww.nh3n_mgl": [null, 15], "ww.ph": [6, 9] };

/** Gas detectors, GB/T 50493-2019: [first level, second level]; O2 as a [low, high] band. */
export const GAS_LEVELS = {
  "safety.lel_pct": [25, 50],
  "safety.h2s_ppm": [7.05, 14.1],
  "safety.co_ppm": [17.2, 34.3],
};
export const O2_BAND = [19.5, 23.5];

/** Reference-oxygen correction: C_ref = C_meas × (21 − O2_ref) / (21 − O2_meas). */
export function o2Corrected(measured, o2Measured, o2Ref) {
  if (measured == null || o2Measured == null || o2Ref == null || o2Measured >= 21) return null;
  return (measured * (21 - o2Ref)) / (21 - o2Measured);
}

/** "ok" | "warn" | "bad" for a gas reading. */
export function gasLevel(metric, value) {
  if (value == null) return "ok";
  if (metric === "safety.o2_pct") return value < O2_BAND[0] || value > O2_BAND[1] ? "bad" : "ok";
  const levels = GAS_LEVELS[metric];
  if (!levels) return "ok";
  if (value >= levels[1]) return "bad";
  return value >= levels[0] ? "warn" : "ok";
}

/** HJ 633 AQI category (1..6) and its colour. */
export const AQI_COLOURS = ["#00e400", "#ffff00", "#ff7e00", "#ff0000", "#99004c", "#7e0023"];
export function aqiLevel(aqi) {
  if (aqi == null) return 0;
  const bounds = [50, 100, 150, 200, 300];
  const i = bounds.findIndex((b) => aqi <= b);
  return i === -1 ? 6 : i + 1;
}
export const AQI_NAMES = {
  zh: ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"],
  en: ["Good", "Moderate", "Unhealthy for sensitive groups", "Unhealthy", "Very unhealthy", "Hazardous"],
};
