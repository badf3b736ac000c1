// Names and units from the API's metric catalogue, in the page's language: no metric code,
// device code or English word reaches the Chinese page.
import { escape, num } from "./format.js";
import { currentLang, t } from "./i18n.js";

let byCode = new Map();

export function setCatalogue(metrics) {
  byCode = new Map(metrics.map((m) => [m.code, m]));
}

export function metricName(code) {
  const m = byCode.get(code);
  if (!m) return t("common.other_metric");
  return currentLang() === "zh" ? m.name_zh : m.name_en;
}

/** The metric's unit as shown ("" for dimensionless and states). */
export function unitOf(code) {
  const u = byCode.get(code)?.unit ?? "";
  return u === "1" || u === "0/1" || u === "pH" ? "" : u;
}

/** The catalogue unit of an energy carrier (t of raw coal, GJ of heat …). */
export function carrierUnit(carrier) {
  for (const m of byCode.values()) if (m.carrier === carrier) return m.unit;
  return "";
}

/** "12.3 mg/m³" */
export function withUnit(code, value, digits = 1) {
  const u = unitOf(code);
  return u ? `${num(value, digits)} ${u}` : num(value, digits);
}

/** "A1 区" / "zone A1" */
export function zoneName(zone) {
  if (!zone) return "";
  return currentLang() === "zh" ? `${zone} 区` : `zone ${zone}`;
}

/** A device as people call it: its registry name, else its kind and zone (never its code). */
export function deviceName(d) {
  if (!d) return "";
  if (d.name && d.name !== d.code) return d.name;
  return [t("kind." + d.kind), zoneName(d.zone)].filter(Boolean).join(" · ");
}

/** A metric's name with its unit, for table headers and axis names: "烟气二氧化硫浓度（mg/m³）". */
export function metricLabel(code) {
  const u = unitOf(code);
  const name = escape(metricName(code));
  if (!u) return name;
  return currentLang() === "zh" ? `${name}（${u}）` : `${name} (${u})`;
}
