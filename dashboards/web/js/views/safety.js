// Safety: gas detectors coloured against their alarm levels, fire alarms, the alarm list with
// acknowledge + comment. Alarms are re-read every few seconds besides the live stream.
import { alarmList } from "../alarm-list.js";
import { escape } from "../format.js";
import { t } from "../i18n.js";
import { incidentsPanel, openIncidentButton, opensIncidents, seesIncidents, wireOpenIncident } from "../incidents.js";
import { gasLevel } from "../limits.js";
import { onDutyPanel, seesDuty } from "../paging.js";
import { deviceName, metricName, withUnit, zoneName } from "../names.js";
import { parkLatest } from "../states.js";
import { byDevice } from "./environment.js";

const GAS = ["safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct"];

export const liveSelection = () => ({ metrics: [...GAS, "safety.fire_alarm"], alarms: true });

/** The safety alarms with their filters, sort and the critical-alarm sound. */
export function alarmPanel(el, ctx, scope = {}) {
  const extra = opensIncidents(ctx) ? openIncidentButton : null;
  if (extra) wireOpenIncident(el);
  return alarmList(el, ctx, { categories: ["safety"], scope, key: "safety", extra });
}

export async function render(el, ctx, { enterpriseId } = {}) {
  el.innerHTML = `
    <div class="grid cols-3">
      ${seesIncidents(ctx) ? `<div class="panel span-3"><h3>${t("emg.incidents")}</h3><div id="incidents"></div></div>` : ""}
      <div class="panel span-3"><h3>${t("alarms.list")}</h3><div id="alarm-list"></div></div>
      <div class="panel span-2"><h3>${t("safety.gas")}<span id="gas-count"></span></h3><div class="gauges scroll" id="gas"></div></div>
      <div class="panel"><h3>${t("safety.fire")}</h3><div id="fire" class="scroll"></div></div>
      ${seesDuty(ctx) ? `<div class="panel span-3"><h3>${t("paging.on_duty")}</h3><div id="on-duty" class="scroll"></div></div>` : ""}
    </div>`;
  const state = new Map(); // device_id -> {metric: value}

  const RANK = { bad: 0, warn: 1, "": 2 };
  function drawGas() {
    const cards = [];
    const detectors = ctx.devices.filter((x) => x.kind === "gas_detector" && (!enterpriseId || x.enterprise_id === enterpriseId))
      .map((d) => {
        const m = state.get(d.device_id) || {};
        const levels = GAS.map((g) => gasLevel(g, m[g]));
        return { d, m, worst: levels.includes("bad") ? "bad" : levels.includes("warn") ? "warn" : "" };
      })
      // The detectors in alarm first, then the highest combustible-gas readings.
      .sort((a, b) => RANK[a.worst] - RANK[b.worst] || (b.m["safety.lel_pct"] ?? 0) - (a.m["safety.lel_pct"] ?? 0));
    const alarming = detectors.filter((x) => x.worst).length;
    el.querySelector("#gas-count").textContent = `${alarming} / ${detectors.length}`;
    for (const { d, m, worst } of detectors) {
      const values = GAS.filter((g) => d.metrics.includes(g))
        .map((g) => `<span class="${gasLevel(g, m[g]) !== "ok" ? "st-" + gasLevel(g, m[g]) : ""}"><em>${escape(metricName(g))}</em> ${escape(withUnit(g, m[g]))}</span>`);
      cards.push(`<div class="gauge ${worst}" data-device="${d.device_id}"><div class="t">
        ${escape(ctx.names.enterprise(d.enterprise_id) || "")} · ${escape(deviceName(d))}</div><div class="v">${values.join("")}</div></div>`);
    }
    el.querySelector("#gas").innerHTML = cards.join("") || `<div class="empty" data-empty="1">${t("safety.no_devices")}</div>`;
  }

  function drawFire() {
    const rows = ctx.devices.filter((x) => x.kind === "fire_alarm" && (!enterpriseId || x.enterprise_id === enterpriseId))
      .map((d) => {
        const on = (state.get(d.device_id) || {})["safety.fire_alarm"] >= 1;
        return `<tr><td>${escape(ctx.names.enterprise(d.enterprise_id) || "")}</td><td>${escape(zoneName(d.zone))}</td>
          <td class="${on ? "st-bad" : "st-ok"}">${t(on ? "safety.fire_on" : "safety.fire_ok")}</td></tr>`;
      });
    el.querySelector("#fire").innerHTML = rows.length ? `<table><tbody>${rows.join("")}</tbody></table>` : `<div class="empty" data-empty="1">${t("safety.no_devices")}</div>`;
  }

  async function loadLatest() {
    const rows = await parkLatest(ctx, [...GAS, "safety.fire_alarm"], { enterpriseId });
    for (const [id, m] of byDevice(rows)) {
      state.set(id, Object.fromEntries(Object.entries(m).map(([k, r]) => [k, r.value])));
    }
    drawGas();
    drawFire();
  }

  const [alarms, duty, incidents] = await Promise.all([
    alarmPanel(el.querySelector("#alarm-list"), ctx, enterpriseId ? { enterprise_id: enterpriseId } : {}),
    seesDuty(ctx) ? onDutyPanel(el.querySelector("#on-duty"), ctx) : null,
    seesIncidents(ctx) ? incidentsPanel(el.querySelector("#incidents"), ctx) : null,
    loadLatest().catch(console.warn),
  ]);
  let redraw = null;
  return {
    onEvent(ev) {
      if (ev.type === "reading" && (GAS.includes(ev.metric) || ev.metric === "safety.fire_alarm")) {
        const m = state.get(ev.device_id) || {};
        m[ev.metric] = ev.value;
        state.set(ev.device_id, m);
        redraw ||= setTimeout(() => { redraw = null; drawGas(); drawFire(); }, 500);
      } else if (ev.type === "alarm" || ev.type === "alert") {
        alarms.load().catch(console.warn);
      }
    },
    async refresh() { await loadLatest(); },
    destroy() { alarms.stop(); duty?.stop(); incidents?.stop(); clearTimeout(redraw); },
  };
}
