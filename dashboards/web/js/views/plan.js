// The park plan (园区一张图) as a view of its own: the plan with every device in its zone coloured
// by its state, alarm pins by severity (critical ones pulse), click -> the device's detail.
// Three API answers: the plan, the devices' states, the firing alarms. A regulator sees it too,
// with its bureau's devices only, read-only (the API scopes the plan and the states).
import * as api from "../api.js";
import { chart, loadEcharts } from "../charts.js";
import { escape } from "../format.js";
import { t } from "../i18n.js";
import "../i18n-ops.js";
import { drawPlan, loadPlan, planLegend, statesById } from "../plan.js";

const STATE_POLL_MS = 15_000; // devices turn offline by silence: no event says so

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: [], alarms: true });

export async function firingAlarms(parkId) {
  const page = await api.alarms({ state: ["firing"], park_id: parkId, limit: 500 });
  return page.items || [];
}

export async function render(el, ctx) {
  el.innerHTML = `<div class="panel plan-panel"><h3><span>${t("plan.title")} · ${escape(t("plan.click"))}</span>
    <span class="plan-legend" id="plan-legend"></span></h3><div class="chart plan-chart" id="plan"></div></div>`;
  const parkId = ctx.park?.park_id;
  const box = el.querySelector("#plan");
  loadEcharts().catch(console.error); // evaluated while the plan travels, not after it
  const [loaded, alarms] = await Promise.all([loadPlan(parkId), firingAlarms(parkId)]);
  const { plan } = loaded;
  let { states } = loaded;
  let current = alarms;
  if (!plan) {
    box.outerHTML = `<div class="empty" data-empty="1">${t("plan.none")}</div>`;
    return {};
  }
  const c = chart(box);
  const onDevice = (id) => { location.hash = `#/device?id=${id}`; };
  const redraw = () => {
    drawPlan(c, { plan, states, alarms: current, ctx, onDevice });
    el.querySelector("#plan-legend").innerHTML = planLegend(states.summary, plan.unplaced);
  };
  redraw();
  const reloadAlarms = async () => { current = await firingAlarms(parkId); redraw(); };
  const reloadStates = async () => { states = statesById(await api.get(`/parks/${parkId}/device-states`)); redraw(); };
  const timer = setInterval(() => reloadStates().catch(console.warn), STATE_POLL_MS);
  let pending = null;
  return {
    onEvent(ev) {
      if (ev.type === "alarm" || ev.type === "alert") pending ||= setTimeout(() => { pending = null; reloadAlarms().catch(console.warn); }, 500);
    },
    async refresh() { await Promise.allSettled([reloadStates(), reloadAlarms()]); },
    destroy() { clearInterval(timer); clearTimeout(pending); },
  };
}
