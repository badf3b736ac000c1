// The park plan (园区一张图), drawn with ECharts' SVG map support: the park's SVG from the API
// (regions: plots named by enterprise code, zones "enterprise/zone"), its devices placed on it
// coloured by their live state, and alarm pins coloured by severity; critical ones pulse.
// Shared by the plan view and the big screen's centre.
import * as api from "./api.js";
import { time } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-ops.js";
import { deviceName, metricName, withUnit } from "./names.js";
import { textScale } from "./charts.js";

export const SEVERITY_COLOUR = { critical: "#ff2d55", major: "#ff5d5d", minor: "#f5c04a", warning: "#e8d36a" };
const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, warning: 3 };
const ONLINE = "#3ccf8e";
const OFFLINE = "#6b7f90";

/** The plan and the device states of a park, in two calls made together. */
export async function loadPlan(parkId) {
  const [plan, states] = await Promise.all([
    api.get(`/parks/${parkId}/plan`).catch((err) => { if (err.status === 404) return null; throw err; }),
    api.get(`/parks/${parkId}/device-states`),
  ]);
  return { plan, states: statesById(states) };
}

export function statesById(answer) {
  const out = new Map();
  const c = answer.devices;
  for (let i = 0; i < c.device_id.length; i++) {
    out.set(c.device_id[i], { online: c.online[i] === 1, lastSeen: c.last_seen[i], enterpriseId: c.enterprise_id[i] });
  }
  out.summary = { online: answer.online, total: answer.total };
  return out;
}

/** The worst firing alarm of each device: Map(device_id -> alarm). */
export function worstAlarms(alarms) {
  const out = new Map();
  for (const a of alarms) {
    const had = out.get(a.device_id);
    if (!had || SEVERITY_RANK[a.severity] < SEVERITY_RANK[had.severity]) out.set(a.device_id, a);
  }
  return out;
}

let registered = null; // the map name last registered, and its SVG

/**
 * Draw the plan into chart `c`. `ctx` gives names (devById, entById); `alarms` the firing alarms;
 * `onDevice(id)` is called on a click on a device or a pin.
 */
export function drawPlan(c, { plan, states, alarms, ctx, onDevice }) {
  const name = `park-plan-${plan.park_id}`;
  // A redraw of the same plan keeps where the user zoomed and panned to.
  const same = c.getDom().dataset.map === name;
  c.getDom().dataset.map = name;
  const worst = worstAlarms(alarms);
  const d = plan.devices;
  const points = [];
  const pins = { critical: [], other: [] };
  for (let i = 0; i < d.device_id.length; i++) {
    const id = d.device_id[i];
    const st = states.get(id);
    const alarm = worst.get(id);
    const dev = ctx.devById?.get(id);
    const colour = alarm ? SEVERITY_COLOUR[alarm.severity] : st?.online ? ONLINE : OFFLINE;
    points.push({ name: deviceName(dev), value: [d.x[i], d.y[i], id], itemStyle: { color: colour } });
    if (alarm) {
      (alarm.severity === "critical" ? pins.critical : pins.other).push({
        name: deviceName(dev), value: [d.x[i], d.y[i], id], alarm, itemStyle: { color: SEVERITY_COLOUR[alarm.severity] },
      });
    }
  }
  // Plots with a firing alarm get a red outline.
  const plotOf = new Map(plan.enterprises.enterprise_id.map((e, i) => [e, plan.enterprises.code[i]]));
  const alarmedPlots = new Set();
  for (const a of worst.values()) {
    const code = plotOf.get(a.enterprise_id);
    if (code) alarmedPlots.add(code);
  }
  const s = textScale();
  const tip = (p) => {
    const id = p.value?.[2];
    if (id == null) return "";
    const dev = ctx.devById?.get(id);
    const st = states.get(id);
    const ent = ctx.entById?.get(st?.enterpriseId)?.name ?? "";
    const alarm = p.data.alarm || worst.get(id);
    const lines = [`${ent}`, `${deviceName(dev)} · ${t(st?.online ? "plan.online" : "plan.offline")}`,
      `${t("dev.last_seen")}: ${st?.lastSeen ? time(st.lastSeen) : t("dev.never")}`];
    if (alarm) lines.push(`${t("sev." + alarm.severity)}: ${metricName(alarm.metric)} ${withUnit(alarm.metric, alarm.value ?? alarm.trigger_value)}`);
    return lines.map((l) => l.replace(/[<&]/g, (ch) => (ch === "<" ? "&lt;" : "&amp;"))).join("<br>");
  };
  const regions = [...alarmedPlots].map((code) => ({ name: code, itemStyle: { borderColor: "#ff5d5d", borderWidth: 3 } }));
  const option = {
    backgroundColor: "transparent",
    tooltip: { trigger: "item", formatter: tip, textStyle: { fontSize: 12 * s } },
    geo: same ? { regions } : {
      map: name, roam: true, layoutCenter: ["50%", "50%"], layoutSize: "100%",
      selectedMode: false, label: { show: false }, emphasis: { label: { show: false }, itemStyle: { areaColor: "#245a80" } },
      tooltip: { show: false }, regions,
    },
    series: [
      { id: "devices", type: "scatter", coordinateSystem: "geo", symbolSize: 7 * s, data: points, z: 3,
        emphasis: { scale: 1.6 } },
      { id: "pins", type: "scatter", coordinateSystem: "geo", symbol: "pin", symbolSize: 26 * s, symbolOffset: [0, "-45%"],
        data: pins.other, z: 4 },
      // Critical alarms pulse (a ripple twice a second), the wall's eye-catcher.
      { id: "critical", type: "effectScatter", coordinateSystem: "geo", symbol: "pin", symbolSize: 30 * s, symbolOffset: [0, "-45%"],
        rippleEffect: { period: 1, scale: 3, brushType: "stroke" }, showEffectOn: "render", data: pins.critical, z: 5 },
    ],
  };
  c.run((real) => {
    if (registered?.name !== name || registered.svg !== plan.svg) {
      window.echarts.registerMap(name, { svg: plan.svg });
      registered = { name, svg: plan.svg };
    }
    real.setOption(option, same ? { replaceMerge: ["series"] } : true);
    real.off("click");
    real.on("click", (p) => { const id = p.value?.[2]; if (id != null && onDevice) onDevice(id); });
    const dom = c.getDom(); // drawn: what the tests and the page's figures wait for
    dom.dataset.empty = "0";
    dom.dataset.devices = String(points.length);
    dom.dataset.pins = String(pins.critical.length + pins.other.length);
  });
}

/** Legend of the plan's colours, as HTML. */
export function planLegend(summary, unplaced = 0) {
  return [
    `<span class="plan-key"><i class="dot dot-online"></i>${t("plan.online")}</span>`,
    `<span class="plan-key"><i class="dot dot-offline"></i>${t("plan.offline")}</span>`,
    ...["critical", "major", "minor", "warning"].map((sv) => `<span class="plan-key"><i class="dot dot-${sv}"></i>${t("sev." + sv)}</span>`),
    summary ? `<span class="plan-key" data-role="online">${t("plan.online")} ${summary.online} / ${summary.total}</span>` : "",
    unplaced ? `<span class="plan-key muted">${unplaced} ${t("plan.unplaced")}</span>` : "",
  ].filter(Boolean).join("");
}
