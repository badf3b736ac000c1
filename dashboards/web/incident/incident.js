// The incident view (/incident/?id=N): timeline, plan checklist, map with the hazard and the
// nearest resources, live readings of the zone. Operators tick steps, move the state and add
// notes; the incident's enterprise adds notes; the others follow. New events are polled from
// /emergency/events every few seconds, the zone's readings every 10 s.
import * as api from "../js/api.js";
import { chart, draw, echartsReady, lineOption } from "../js/charts.js";
import { clock, escape, setZone, time, zoneLabel } from "../js/format.js";
import { applyStatic, currentLang, onLangChange, setLang, t } from "../js/i18n.js";
import "../js/i18n-emergency.js";

const EVENTS_MS = 3000;
const READINGS_MS = 10_000;
const STATES = ["reported", "responding", "controlled", "closed"];
const stateName = (s) => t(`emg.state_${s}`);
const typeName = (k) => { const v = t(`emg.type_${k}`); return v === `emg.type_${k}` ? k : v; };
const $ = (s) => document.querySelector(s);
const id = Number(new URLSearchParams(location.search).get("id"));
let me = null;
let lastEvent = 0;
let readingsChart = null;
let current = null; // the incident last loaded: redrawn in the other language
const metricNames = new Map(); // code -> {zh, en}, from the catalogue
const metricName = (code) => metricNames.get(code)?.[currentLang()] || code;

const secondsBetween = (a, b) => (a && b ? Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000) : null);
function hms(s) {
  if (s == null) return "—";
  const r = Math.round(s);
  return `${Math.floor(r / 3600)}:${String(Math.floor((r % 3600) / 60)).padStart(2, "0")}:${String(r % 60).padStart(2, "0")}`;
}
const dl = (pairs) => pairs.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join("");

function facts(inc) {
  $("#inc-title").textContent = `#${inc.incident_id} ${inc.title}`;
  $("#inc-badges").innerHTML = [
    `<span class="badge level-${inc.level}">${escape(t(`emg.level_${inc.level}`))}</span>`,
    `<span class="badge state-${inc.state}">${escape(stateName(inc.state))}</span>`,
    inc.drill ? `<span class="badge drill">${t("emg.drill")}</span>` : "",
  ].join("");
  const z = ` (${zoneLabel()})`;
  $("#inc-facts").innerHTML = dl([
    [t("emg.enterprise"), inc.enterprise_name || "—"], [t("emg.hazard"), inc.hazard_name ? `${inc.hazard_name} (${inc.hazard_code})` : "—"],
    [t("emg.zone"), inc.zone || "—"], [t("emg.type"), typeName(inc.incident_type)], [t("emg.commander"), inc.commander || "—"],
    [t("emg.first_alarm") + z, time(inc.first_alarm_at)], [t("emg.opened_at") + z, `${time(inc.opened_at)} · ${inc.opened_by}`],
    [t("emg.alarms"), inc.alarms.map((a) => `${a.device_code || ""} ${metricName(a.metric)}`).join("; ") || "—"],
  ]);
  const acks = inc.alarms.map((a) => a.acknowledged_at).filter(Boolean);
  if (!inc.rule) acks.push(inc.opened_at);
  const ack = acks.sort()[0];
  $("#inc-durations").innerHTML = dl([
    [t("emg.to_ack"), hms(secondsBetween(inc.first_alarm_at, ack))],
    [t("emg.to_response"), hms(secondsBetween(inc.first_alarm_at, inc.responding_at))],
    [t("emg.to_control"), hms(secondsBetween(inc.first_alarm_at, inc.controlled_at))],
    [t("emg.to_close"), hms(secondsBetween(inc.first_alarm_at, inc.closed_at))],
  ]);
}

const operates = () => me && ["admin", "operator"].includes(me.role);

function actions(inc) {
  const box = $("#inc-actions");
  if (inc.state === "closed") {
    box.hidden = false; // the after-action report, for whoever sees the incident
    box.innerHTML = ["xlsx", "pdf"].map((f) => `<button type="button" data-report="${f}">${t("emg.report")} ${f.toUpperCase()}</button>`).join("");
  } else {
    box.hidden = !operates();
    const next = STATES.slice(STATES.indexOf(inc.state) + 1);
    box.innerHTML = next.map((s) => `<button type="button" data-to="${s}">→ ${escape(stateName(s))}</button>`).join("");
  }
  $("#inc-note").hidden = inc.state === "closed" || !(operates() || (me && me.role === "enterprise"));
}

function steps(inc) {
  $("#inc-plan-name").textContent = inc.plan_name || t("emg.no_plan");
  $("#inc-steps").innerHTML = inc.steps.map((s) => `<li class="${s.done_at ? "done" : ""}" data-step="${s.step_no}">
    <b>${escape(s.title)}</b> <small>${escape(s.role)}</small>
    ${s.done_at ? `<small>✓ ${escape(s.done_by)} ${escape(clock(s.done_at))}</small>`
      : operates() && inc.state !== "closed" ? `<button type="button" data-tick="${s.step_no}">${t("emg.done")}</button>` : ""}
    ${s.checklist.length ? `<ul>${s.checklist.map((c) => `<li>${escape(c)}</li>`).join("")}</ul>` : ""}</li>`).join("");
}

/** "lead-1 (email)" with the channel in the page's language. */
const sentTo = (s) => String(s).replace(/\((\w+)\)$/, (_, ch) => `(${t(`paging.ch_${ch}`)})`);

/** An event as [kind, text] in the page's language: what the system wrote is said from its data. */
function eventWords(e, inc) {
  const d = e.data || {};
  const [source, sub] = e.kind.split(":");
  const alarm = (aid) => { const a = inc.alarms.find((x) => x.alert_id === aid); return `#${aid} ${a ? `${a.device_code || ""} ${metricName(a.metric)}` : ""}`; };
  if (source === "alarm" && sub) return [t(`emg.ev_${sub}`), `${alarm(d.alert_id)}${d.comment ? `: ${d.comment}` : ""}`];
  if (source === "page") return [t("emg.ev_page"), `${d.receiver || ""} (${t(`paging.ch_${d.channel}`)})${sub === "ok" ? "" : " ✕"}`];
  switch (e.kind) {
    case "opened": return [t("emg.ev_opened"), ""];
    case "alarm": return [t("emg.ev_alarm"), alarm(d.alert_id)];
    case "notified": return [t("emg.ev_notified"), (d.sent || []).map(sentTo).join(", ") || t("emg.nobody")];
    case "step": return [t("emg.ev_step"), `${t("emg.step")} ${d.step_no}: ${inc.steps.find((s) => s.step_no === d.step_no)?.title || ""}`];
    case "state": return [t("emg.ev_state"), `${stateName(d.from)} → ${stateName(d.to)}${e.text ? ` · ${e.text}` : ""}`];
    case "level": return [t("emg.ev_level"), `${t(`emg.level_${d.from}`)} → ${t(`emg.level_${d.to}`)}`];
    default: return [t(`emg.ev_${e.kind}`), e.text];
  }
}

function timeline(inc) {
  $("#inc-events").innerHTML = [...inc.timeline].reverse().map((e) => {
    const [kind, text] = eventWords(e, inc);
    const by = e.by === "system" ? t("emg.system") : e.by;
    return `<li data-kind="${escape(e.kind)}"><time>${escape(clock(e.at))}</time>
    <span class="kind">${escape(kind)}</span>${escape(by)}${text ? ` · ${escape(text)}` : ""}</li>`;
  }).join("");
  for (const el of document.querySelectorAll(".zone-label")) el.textContent = `${t("emg.times")} ${zoneLabel()}`;
}

/** The plan's region of a zone as fractions of its width and height, or null. */
function zoneCentre(svgDoc, viewBox, enterprise, zone) {
  const rect = svgDoc.querySelector(`rect[name="${CSS.escape(`${enterprise}/${zone}`)}"]`);
  if (!rect || !viewBox) return null;
  const n = (a) => Number(rect.getAttribute(a) || 0);
  return [(n("x") + n("width") / 2 - viewBox[0]) / viewBox[2], (n("y") + n("height") / 2 - viewBox[1]) / viewBox[3]];
}

async function map(inc) {
  const box = $("#inc-map");
  const pins = [];
  // positioned through the CSSOM, not a style attribute (the page's CSP rules out inline styles)
  const pin = (kind, text, [x, y]) => {
    const el = document.createElement("span");
    el.className = `pin ${kind}`;
    el.textContent = text;
    el.style.left = `${x * 100}%`;
    el.style.top = `${y * 100}%`;
    return el;
  };
  $("#inc-resources").innerHTML = inc.nearest_resources.slice(0, 8).map((r) => `<li><span class="kind">${escape(t(`emg.rank_${r.rank}`))}</span>
    ${escape(r.name)} × ${escape(r.quantity)}${escape(r.unit)} · ${escape(r.enterprise || t("emg.park"))} ${escape(r.zone || "")}</li>`).join("");
  let plan = null;
  try { plan = await api.get(`/parks/${inc.park_id}/plan`); } catch { plan = null; }
  if (!plan) { $("#inc-map-note").textContent = t("emg.no_map"); box.innerHTML = ""; return; }
  const svgDoc = new DOMParser().parseFromString(plan.svg, "image/svg+xml");
  const vb = (svgDoc.documentElement.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  const viewBox = vb.length === 4 && vb.every(Number.isFinite) ? vb : null;
  const hazardAt = inc.hazard_x != null ? [inc.hazard_x, inc.hazard_y] : zoneCentre(svgDoc, viewBox, inc.enterprise_code, inc.zone);
  if (hazardAt) pins.push(pin("hazard", `⚠ ${inc.hazard_name || inc.zone}`, hazardAt));
  for (const r of inc.nearest_resources.slice(0, 8)) {
    const at = r.enterprise && r.zone ? zoneCentre(svgDoc, viewBox, r.enterprise, r.zone) : null;
    if (at) pins.push(pin("resource", r.name, [at[0], at[1] + 0.05]));
  }
  const img = document.createElement("img");
  img.alt = "plan";
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(plan.svg)}`;
  box.replaceChildren(img, ...pins);
}

async function readings() {
  const out = await api.get(`/emergency/incidents/${id}/readings`);
  readingsChart ||= chart($("#inc-chart"));
  const series = out.series.map((s) => ({ name: `${s.device} ${metricName(s.metric)}`, data: s.points }));
  draw(readingsChart, lineOption(series, { zoom: true }), series.length === 0);
}

async function load() {
  const inc = await api.get(`/emergency/incidents/${id}`);
  setZone(inc.timezone);
  current = inc;
  facts(inc); actions(inc); steps(inc); timeline(inc);
  $("#incident").hidden = false;
  $("#inc-error").hidden = true;
  return inc;
}

async function poll() {
  const first = lastEvent === 0; // the first poll only finds where the feed stands
  let mine = false;
  for (;;) {
    const out = await api.get("/emergency/events", { after: lastEvent, limit: 500 });
    lastEvent = out.last_event_id;
    mine ||= out.items.some((e) => e.incident_id === id);
    if (out.items.length < 500) break;
  }
  if (!first && mine) await load();
}

function wire() {
  document.body.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    try {
      if (b.dataset.tick) await api.post(`/emergency/incidents/${id}/steps/${b.dataset.tick}/done`, {});
      else if (b.dataset.to) await api.post(`/emergency/incidents/${id}/state`, { to: b.dataset.to });
      else if (b.dataset.report) { await download(b.dataset.report); return; }
      else return;
      await load();
    } catch (err) { showError(err); }
  });
  $("#inc-note").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api.post(`/emergency/incidents/${id}/notes`, { kind: $("#inc-note-kind").value, text: $("#inc-note-text").value });
      $("#inc-note-text").value = "";
      await load();
    } catch (err) { showError(err); }
  });
}

/** The report file: fetched with the token (a plain link would carry no credential). */
async function download(format) {
  const res = await fetch(`/api/v1/emergency/incidents/${id}/report?format=${format}`, {
    headers: { Authorization: `Bearer ${await api.currentToken()}` },
  });
  if (!res.ok) throw new Error(`${res.status} report`);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await res.blob());
  a.download = `incident-${id}-after-action.${format}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function showError(err) {
  $("#inc-error").hidden = false;
  $("#inc-error").textContent = String(err.message || err);
}

async function start() {
  me = await api.me();
  $("#login").hidden = true;
  const catalogue = await api.metrics().catch(() => []);
  for (const m of Array.isArray(catalogue) ? catalogue : catalogue.items || []) metricNames.set(m.code, { zh: m.name_zh, en: m.name_en });
  const inc = await load();
  wire();
  await Promise.all([echartsReady(), map(inc), readings(), poll()]);
  setInterval(() => poll().catch(showError), EVENTS_MS);
  setInterval(() => readings().catch(showError), READINGS_MS);
  setInterval(() => { $("#clock").textContent = clock(Date.now()); }, 1000);
  document.body.dataset.ready = "1";
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try { await api.login($("#api-key").value); await start(); } catch (err) { $("#login-error").textContent = String(err.message || err); }
});

/** The language switch of the ops-centre page: the same labels, kept in the same place. */
function showLang() { $("#lang").textContent = t("emg.lang"); document.title = t("emg.incidents"); }
$("#lang").addEventListener("click", () => setLang(currentLang() === "zh" ? "en" : "zh"));
onLangChange(() => {
  showLang();
  if (!current) return;
  facts(current); actions(current); steps(current); timeline(current);
  map(current).catch(showError);
  readings().catch(showError);
});
applyStatic(document);
showLang();

if (!Number.isInteger(id) || id < 1) showError(new Error(t("emg.which")));
else if (api.storedKey()) start().catch(showError);
else $("#login").hidden = false;
