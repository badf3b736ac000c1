// Number, date and unit formatting shared by the views.
import { currentLang } from "./i18n.js";

export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  const d = abs >= 1000 ? 0 : digits;
  return Number(value).toLocaleString(currentLang() === "zh" ? "zh-CN" : "en-GB", {
    maximumFractionDigits: d, minimumFractionDigits: 0,
  });
}

/** A change against the previous period, as "+12.3%" (null when there is nothing to compare). */
export function change(now, before) {
  if (now == null || before == null || before === 0) return null;
  return ((now - before) / Math.abs(before)) * 100;
}

export function pct(value) {
  if (value === null || value === undefined) return "—";
  return `${value > 0 ? "+" : ""}${value.toFixed(1)}%`;
}

export function time(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  return d.toLocaleString(currentLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

/** Calendar date (YYYY-MM-DD) in the park's time zone, `offsetDays` days from now. */
export function parkDate(timezone, offsetDays = 0, now = new Date()) {
  const d = new Date(now.getTime() + offsetDays * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

/** First day of the month `offsetMonths` from the park's current month (YYYY-MM-01). */
export function parkMonth(timezone, offsetMonths = 0, now = new Date()) {
  const [y, m] = parkDate(timezone, 0, now).split("-").map(Number);
  const idx = y * 12 + (m - 1) + offsetMonths;
  return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, "0")}-01`;
}

export function escape(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
