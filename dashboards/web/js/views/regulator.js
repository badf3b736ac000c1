// Regulator: the alarms of the bureau's categories across the park, and which enterprises have them.
import { alarmList } from "../alarm-list.js";
import { activeAlarms } from "../alarms.js";
import { barOption, chart, draw } from "../charts.js";
import { escape } from "../format.js";
import { t } from "../i18n.js";
import { incidentsPanel, seesIncidents } from "../incidents.js";

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: [], alarms: true });

export async function render(el, ctx) {
  const cats = ctx.me.categories || [];
  const incidents = ctx.me.role === "regulator" && seesIncidents(ctx); // the emergency bureau's
  const bureaus = (ctx.me.bureaus || []).map((b) => t("reg." + b)).join(" · ") || cats.map((c) => t("category." + c)).join(" · ");
  el.innerHTML = `
    <div class="toolbar"><h2>${t("reg.title")}</h2><span>${t("reg.bureau")}: ${escape(bureaus)}</span></div>
    <div class="grid cols-3">
      <div class="panel"><h3>${t("reg.exceedances")}</h3><div class="chart tall" id="reg-ents"></div></div>
      <div class="panel span-2"><h3>${t("alarms.list")}</h3><div id="reg-alarms"></div></div>
      ${incidents ? `<div class="panel span-3"><h3>${t("emg.incidents")}</h3><div id="reg-incidents"></div></div>` : ""}
    </div>`;
  const bars = chart(el.querySelector("#reg-ents"));

  async function load() {
    const items = (await activeAlarms()).filter((a) => !cats.length || cats.includes(a.category));
    const counts = new Map();
    for (const a of items) counts.set(a.enterprise_id, (counts.get(a.enterprise_id) || 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
    draw(bars, barOption(top.map(([id]) => ctx.names.enterprise(id) || t("common.enterprise")), top.map(([, n]) => n),
      { horizontal: true, color: "#ff7e00", unit: t("reg.count") }), !top.length);
  }

  const [list, incidentList] = await Promise.all([
    alarmList(el.querySelector("#reg-alarms"), ctx, { categories: cats.length ? cats : undefined, key: "regulator" }),
    incidents ? incidentsPanel(el.querySelector("#reg-incidents"), ctx) : null,
    load().catch(console.warn),
  ]);
  const timer = setInterval(() => { if (!document.querySelector("#ack-dialog")) load().catch(console.warn); }, 10000);
  return {
    onEvent(ev) { if (ev.type === "alarm" || ev.type === "alert") { load().catch(console.warn); list.load().catch(console.warn); } },
    async refresh() { await Promise.all([load(), list.load()]); },
    destroy() { clearInterval(timer); list.stop(); incidentList?.stop(); },
  };
}
