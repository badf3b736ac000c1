// Number, time and unit formatting shared by the views. Every time on the page is shown in the
// park's time zone (setZone at sign-in), whatever zone the browser runs in, and is labelled.
import { currentLang } from "./i18n.js";

let zone = "Asia/Shanghai";

/** The park's IANA time zone: every later time() and parkDate() uses it. */
export function setZone(timezone) {
  zone = timezone;
  partsCache.clear();
  offsets.clear();
}

export const parkZone = () => zone;

const locale = () => (currentLang() === "zh" ? "zh-CN" : "en-GB");

// Making an Intl formatter costs far more than using one (a chart's axis formats every label):
// each is made once per locale, zone and options.
const formatters = new Map();
function kept(make, ...key) {
  const k = key.join("|");
  let f = formatters.get(k);
  if (!f) formatters.set(k, (f = make()));
  return f;
}

export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const d = abs >= 1000 ? 0 : digits;
  const lc = locale();
  return kept(() => new Intl.NumberFormat(lc, { maximumFractionDigits: d, minimumFractionDigits: 0 }), "num", lc, d).format(Number(value));
}

/** Short axis numbers: 12 300 -> "1.2万" (zh) or "12.3k" (en), so labels fit the axis. */
export function compact(value) {
  if (value == null) return "";
  const lc = locale();
  return kept(() => new Intl.NumberFormat(lc, { notation: "compact", maximumFractionDigits: 1 }), "compact", lc).format(value);
}

/** A change against the previous period in % (null when there is nothing to compare). */
export function change(now, before) {
  if (now == null || before == null || before === 0) return null;
  return ((now - before) / Math.abs(before)) * 100;
}

export function pct(value) {
  if (value === null || value === undefined) return "—";
  return `${value > 0 ? "+" : ""}${value.toFixed(1)}%`;
}

const partsCache = new Map();
function formatter(options) {
  const key = JSON.stringify(options);
  if (!partsCache.has(key)) partsCache.set(key, new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", ...options }));
  return partsCache.get(key);
}

/** {year, month, day, hour, minute, second} of an instant in the park's zone. */
export function parkParts(ts) {
  const d = typeof ts === "number" ? new Date(ts) : new Date(ts);
  const out = {};
  for (const p of formatter({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(d)) {
    if (p.type !== "literal") out[p.type] = p.value;
  }
  return out;
}

/** "2026-12-06 14:05:03" in the park's zone. */
export function time(ts) {
  if (!ts) return "—";
  const p = parkParts(ts);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** "14:05:03" in the park's zone. */
export function clock(ts) {
  if (!ts) return "—";
  const p = parkParts(ts);
  return `${p.hour}:${p.minute}:${p.second}`;
}

// Offsets by quarter hour: zones change their offset on a quarter hour, and a chart's points
// would otherwise each cost a formatToParts.
const QUARTER_MS = 900_000;
const offsets = new Map();

/** The park zone's offset from UTC at an instant, in ms (DST-aware). */
export function offsetMs(ts) {
  const quarter = Math.floor(ts / QUARTER_MS);
  let off = offsets.get(quarter);
  if (off === undefined) {
    const at = quarter * QUARTER_MS;
    const p = parkParts(at);
    off = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - at;
    if (offsets.size > 20_000) offsets.clear();
    offsets.set(quarter, off);
  }
  return off;
}

/** "UTC+08:00": the label every time on the page carries. */
export function zoneLabel(ts = Date.now()) {
  const minutes = Math.round(offsetMs(ts) / 60000);
  const sign = minutes < 0 ? "-" : "+";
  const a = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

/** Calendar date (YYYY-MM-DD) in the park's time zone, `offsetDays` days from now. */
export function parkDate(timezone = zone, offsetDays = 0, now = new Date()) {
  const d = new Date(now.getTime() + offsetDays * 86400000);
  return kept(() => new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }), "date", timezone).format(d);
}

/** First day of the month `offsetMonths` from the park's current month (YYYY-MM-01). */
export function parkMonth(timezone = zone, offsetMonths = 0, now = new Date()) {
  const [y, m] = parkDate(timezone, 0, now).split("-").map(Number);
  const idx = y * 12 + (m - 1) + offsetMonths;
  return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, "0")}-01`;
}

export function escape(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
