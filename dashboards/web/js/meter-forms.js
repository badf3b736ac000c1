// The recording forms of the energy-management view: a manual reading, a file of them, a
// correction of one and a meter change. The API lets the park's admins and operators and an
// enterprise (its own devices) record; a read-only user or a regulator gets no form.
import * as api from "./api.js";
import { escape } from "./format.js";
import { field, numberOf, onSubmit, parkInstantOf, showErrors } from "./form-kit.js";
import { currentLang, t } from "./i18n.js";
import "./i18n-energy.js";
import { deviceName, metricName, unitOf } from "./names.js";

/** Whether the API lets this user record meter data (api/routes/energy_records.py: _recorder). */
export const canRecord = (me) => ["admin", "operator", "enterprise"].includes(me.role) && (me.categories || []).includes("energy");

/** The enterprise's devices with a register (counter), named as people call them, never by code. */
export function deviceChoices(ctx, entId, meters = []) {
  const meterOf = new Map(meters.filter((m) => m.device_id != null).map((m) => [m.device_id, m.code]));
  const counters = (d) => d.metrics.filter((c) => ctx.metricByCode.get(c)?.kind === "counter");
  const out = ctx.devices.filter((d) => d.enterprise_id === entId && counters(d).length)
    .map((d) => ({ device_id: d.device_id, code: d.code, metrics: counters(d),
      label: [deviceName(d), meterOf.get(d.device_id)].filter(Boolean).join(" · ") }));
  const seen = new Map();
  for (const c of out) seen.set(c.label, (seen.get(c.label) || 0) + 1);
  const nth = new Map();
  for (const c of out) {
    if (seen.get(c.label) < 2) continue;
    nth.set(c.label, (nth.get(c.label) || 0) + 1);
    c.label = `${c.label} (${nth.get(c.label)})`;
  }
  return out;
}

/** device id → the name its choice carries ("电表 · A1 区 · E1B"), for the tables and files. */
export function deviceNamer(ctx, entId, meters) {
  const names = new Map(deviceChoices(ctx, entId, meters).map((c) => [c.device_id, c.label]));
  return (id) => names.get(id) || ctx.names.device(id) || String(id);
}

/** A register reading as read: every decimal it has, up to three (format.num drops them from 1 000 up). */
export const readingText = (v) => (v == null ? "—" : Number(v).toLocaleString(currentLang() === "zh" ? "zh-CN" : "en-GB",
  { maximumFractionDigits: 3 }));

const options = (items, value, label) => items.map((x) => `<option value="${escape(value(x))}">${escape(label(x))}</option>`).join("");

/** Device and register selects; the value's unit follows the register chosen. */
function devicePicker(form, choices) {
  const dev = form.querySelector("[name=device]"), met = form.querySelector("[name=metric]");
  const sync = () => {
    const c = choices.find((x) => String(x.device_id) === dev.value);
    met.innerHTML = options(c?.metrics || [], (m) => m, (m) => metricName(m));
    syncUnit();
  };
  const syncUnit = () => { for (const u of form.querySelectorAll("[data-unit]")) u.textContent = unitOf(met.value); };
  dev.addEventListener("change", sync);
  met.addEventListener("change", syncUnit);
  sync();
  return sync;
}

const deviceFields = (choices) =>
  field("device", t("em.f.device"), `<select name="device">${options(choices, (c) => c.device_id, (c) => c.label)}</select>`)
  + field("metric", t("em.f.metric"), `<select name="metric"></select>`);

const valueInput = (name, label) =>
  field(name, label, `<span class="with-unit"><input name="${name}" inputmode="decimal" autocomplete="off"><i data-unit></i></span>`);

const timeInput = (name, label) => field(name, `${label} (${t("common.park_time")})`, `<input name="${name}" type="datetime-local">`);

const formError = `<small class="field-error form-error" data-error-for="" role="alert"></small>`;

function mount(host, name, title, body) {
  host.innerHTML = `<form class="em-form" data-form="${name}" novalidate><h4>${title}</h4><div class="fields">${body}</div>
    <div class="actions"><button type="submit" class="primary">${t("em.f.save")}</button>${formError}</div></form>`;
  return host.querySelector("form");
}

/** Enter one manual reading of a device's register. */
export function readingForm(host, { choices, onDone }) {
  const form = mount(host, "reading", t("em.f.reading"), deviceFields(choices) + timeInput("ts", t("em.at"))
    + valueInput("value", t("em.value")));
  const picked = devicePicker(form, choices);
  onSubmit(form, (d) => api.post(`/energy/devices/${d.get("device")}/readings`, {
    metric: d.get("metric"), ts: parkInstantOf(d.get("ts")), value: numberOf(d.get("value")),
  }), () => { form.reset(); picked(); return onDone(); });
}

/** Record a meter change: the old register's final reading, the new one's initial, when. */
export function changeForm(host, { choices, onDone }) {
  const form = mount(host, "change", t("em.f.change"), deviceFields(choices) + timeInput("changed_at", t("em.at"))
    + valueInput("old_final", t("em.old_final")) + valueInput("new_initial", t("em.new_initial"))
    + field("new_serial", t("em.f.serial"), `<input name="new_serial" maxlength="100" autocomplete="off">`)
    + field("note", t("em.f.note"), `<input name="note" maxlength="500" autocomplete="off">`));
  const picked = devicePicker(form, choices);
  onSubmit(form, (d) => api.post(`/energy/devices/${d.get("device")}/changes`, {
    metric: d.get("metric"), changed_at: parkInstantOf(d.get("changed_at")), old_final: numberOf(d.get("old_final")),
    new_initial: numberOf(d.get("new_initial")), new_serial: d.get("new_serial"), note: d.get("note"),
  }), () => { form.reset(); picked(); return onDone(); });
}

/** A correction of one manual reading, in a row below it: the new value and why. */
export function correctionForm(host, reading, { onDone }) {
  const unit = unitOf(reading.metric);
  host.innerHTML = `<form class="em-form inline" data-form="correction" novalidate>
    ${field("value", t("em.f.new_value"), `<span class="with-unit"><input name="value" inputmode="decimal" autocomplete="off"><i>${escape(unit)}</i></span>`)}
    ${field("reason", t("em.reason"), `<input name="reason" maxlength="500" autocomplete="off">`)}
    <div class="actions"><button type="submit" class="primary">${t("em.f.correct")}</button>
      <button type="button" data-cancel>${t("em.f.cancel")}</button>${formError}</div></form>`;
  const form = host.querySelector("form");
  form.querySelector("[data-cancel]").addEventListener("click", () => (host.closest("tr") || host).remove());
  onSubmit(form, (d) => api.post(`/energy/readings/${reading.reading_id}/corrections`, {
    value: numberOf(d.get("value")), reason: d.get("reason"),
  }), onDone);
  form.querySelector("[name=value]").focus();
}

// --- a file of manual readings ------------------------------------------------------------

const COLUMNS = { device: ["device", "设备编码"], metric: ["metric", "指标编码"], ts: ["time", "时间"], value: ["value", "读数"] };

function cells(line) {
  const out = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === "," || c === "\t") { out.push(cur.trim()); cur = ""; } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/**
 * A CSV of readings (header: device,metric,time,value or 设备编码,指标编码,时间,读数; times in
 * the park's zone "2026-07-15 12:00", or with an offset) as the import's body, with each
 * reading's line in the file and the problems found before sending.
 */
export function parseReadings(text) {
  const lines = text.replace(/^\ufeff/, "").split(/\r?\n/).map((l, i) => [i + 1, l]).filter(([, l]) => l.trim());
  if (!lines.length) return { readings: [], lines: [], problems: [{ line: 1, column: "", key: "err.empty_file" }] };
  const head = cells(lines[0][1]).map((h) => h.toLowerCase());
  const at = Object.fromEntries(Object.entries(COLUMNS).map(([k, names]) => [k, head.findIndex((h) => names.includes(h))]));
  const problems = Object.entries(at).filter(([, i]) => i < 0).map(([k]) => ({ line: lines[0][0], column: k, key: "err.no_column" }));
  const readings = [], at_line = [];
  for (const [n, l] of problems.length ? [] : lines.slice(1)) {
    const c = cells(l);
    const ts = c[at.ts] || "", value = numberOf(c[at.value]);
    const offset = /(Z|[+-]\d{2}:?\d{2})$/i.test(ts);
    const iso = offset ? ts.replace(" ", "T") : parkInstantOf(ts.replace(" ", "T"));
    if (!/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(ts)) problems.push({ line: n, column: "ts", key: "err.time" });
    if (typeof value !== "number") problems.push({ line: n, column: "value", key: "err.number" });
    readings.push({ device: c[at.device] || "", metric: c[at.metric] || "", ts: iso, value });
    at_line.push(n);
  }
  if (!problems.length && !readings.length) problems.push({ line: lines[0][0], column: "", key: "err.empty_file" });
  return { readings, lines: at_line, problems };
}

const columnLabel = (c) => (c ? t(`em.col.${c}`) : "");

function listProblems(slot, items) {
  slot.innerHTML = `<ul>${items.map((p) => `<li data-line="${p.line}" data-column="${escape(p.column)}" title="${escape(p.raw || "")}">`
    + `${escape(t("em.f.line").replace("{n}", p.line))}${p.column ? ` · ${escape(columnLabel(p.column))}` : ""}: ${escape(p.text)}</li>`).join("")}</ul>`;
}

/** Import a file of manual readings, all or none; every bad row and cell the API names is listed. */
export function importForm(host, { entId, onDone }) {
  host.innerHTML = `<form class="em-form" data-form="import" novalidate><h4>${t("em.f.import")}</h4>
    <p class="hint">${t("em.f.import_hint")}</p>
    <div class="fields">${field("file", t("em.f.file"), `<input name="file" type="file" accept=".csv,.txt,text/csv">`)}</div>
    <div class="actions"><button type="submit" class="primary">${t("em.f.upload")}</button>${formError}</div>
    <div class="import-problems" data-problems></div><p class="ok" data-imported></p></form>`;
  const form = host.querySelector("form");
  const slot = form.querySelector("[data-problems]"), done = form.querySelector("[data-imported]");
  onSubmit(form, async (d) => {
    slot.innerHTML = ""; done.textContent = "";
    const file = d.get("file");
    if (!file || !file.size) throw { status: 422, errors: [{ loc: ["body", "file"], type: "missing", msg: "" }] };
    const parsed = parseReadings(await file.text());
    if (parsed.problems.length) {
      listProblems(slot, parsed.problems.map((p) => ({ ...p, text: t(p.key) })));
      return null;
    }
    try {
      return await api.post(`/energy/enterprises/${entId}/readings/import`, { readings: parsed.readings });
    } catch (err) {
      if (err.status !== 422) throw err;
      const rows = [];
      const probe = document.createElement("div");
      probe.innerHTML = `<small data-error-for=""></small>`;
      for (const e of (err.errors?.length ? err.errors.map((x) => ({ ...err, errors: [x] })) : [err])) {
        showErrors(probe, e);
        const path = e.errors?.length ? e.errors[0].loc.slice(1).join(".") : String(err.detail);
        const m = /readings[.[](\d+)\]?\.(\w+)/.exec(path);
        rows.push({ line: m ? parsed.lines[+m[1]] : 1, column: m ? m[2] : "", text: probe.textContent, raw: probe.firstChild.title });
      }
      listProblems(slot, rows);
      return null;
    }
  }, (out) => {
    if (!out) return;
    form.reset();
    done.textContent = t("em.f.imported").replace("{n}", out.imported);
    return onDone();
  });
}
