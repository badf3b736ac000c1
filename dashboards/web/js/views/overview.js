// Park overview: today's and this month's energy against the last period, live load, AQI now,
// active alarms by category.
import { byCategory, activeAlarms } from "../alarms.js";
import { chart, pieOption } from "../charts.js";
import { change, escape, num, parkDate, parkMonth, pct } from "../format.js";
import { currentLang, t } from "../i18n.js";
import { AQI_COLOURS, AQI_NAMES, aqiLevel } from "../limits.js";
import * as api from "../api.js";
import { figures } from "../stats.js";

const KPIS = [
  { key: "electricity", unit: "kWh" },
  { key: "water", unit: "m³" },
  { key: "natural_gas", unit: "Nm³" },
  { key: "steam", unit: "t" },
  { key: "tce", unit: "tce" },
  { key: "co2", unit: "t" },
];

function kpiCard(k, today, yesterday, month, lastMonth) {
  const d1 = change(today?.[k.key], yesterday?.[k.key]);
  const d2 = change(month?.[k.key], lastMonth?.[k.key]);
  const cls = (d) => (d == null ? "" : d > 0 ? "up" : "down");
  return `<div class="panel kpi" data-kpi="${k.key}">
    <span class="name">${t("carrier." + k.key)}</span>
    <span class="value" data-role="today">${num(today?.[k.key])}<small>${k.unit}</small></span>
    <span class="sub"><span>${t("period.today")} · ${t("period.yesterday")} ${num(yesterday?.[k.key])}</span>
      <span class="delta ${cls(d1)}">${pct(d1)}</span></span>
    <span class="sub"><span>${t("period.month")} ${num(month?.[k.key])}</span>
      <span class="delta ${cls(d2)}" title="${t("period.last_month")} ${num(lastMonth?.[k.key])}">${pct(d2)}</span></span>
  </div>`;
}

export async function render(el, ctx) {
  const tz = ctx.timezone;
  el.innerHTML = `
    <div class="toolbar"><h2>${escape(ctx.park?.name ?? "")}</h2></div>
    <div class="grid cols-6" id="kpis"></div>
    <div class="grid cols-3" style="margin-top:12px">
      <div class="panel" id="live-panel"><h3>${t("energy.load")}</h3>
        <div class="kpi"><span class="value" id="live-load">—<small>kW</small></span>
        <span class="sub"><span id="live-count"></span><span id="live-ts"></span></span></div>
        <div class="chart" id="load-spark" style="height:180px"></div></div>
      <div class="panel" id="aqi-panel"><h3>${t("aqi.now")}</h3><div id="aqi"></div></div>
      <div class="panel"><h3>${t("alarms.active_by_category")}</h3><div class="chart" id="alarm-pie"></div></div>
    </div>`;

  const power = new Map(); // device_id -> latest kW
  let lastTs = null;
  let received = 0;
  const spark = chart(el.querySelector("#load-spark"));
  const points = [];

  function showLoad() {
    let total = 0;
    for (const v of power.values()) total += v;
    el.querySelector("#live-load").innerHTML = `${num(total, 0)}<small>kW</small>`;
    el.querySelector("#live-count").textContent = `${power.size} ${currentLang() === "zh" ? "台电表" : "meters"}`;
    el.querySelector("#live-ts").textContent = lastTs ? new Date(lastTs).toLocaleTimeString() : "";
    el.querySelector("#live-load").dataset.received = String(received);
    points.push([Date.now(), Math.round(total)]);
    if (points.length > 720) points.shift();
    spark.setOption({ grid: { left: 40, right: 8, top: 10, bottom: 20 }, xAxis: { type: "time" },
      yAxis: { type: "value", scale: true, splitLine: { lineStyle: { color: "#24405a" } } },
      tooltip: { trigger: "axis" }, backgroundColor: "transparent",
      series: [{ type: "line", showSymbol: false, areaStyle: { opacity: 0.2 }, data: points }] });
  }

  async function loadKpis() {
    const today = parkDate(tz), yesterday = parkDate(tz, -1);
    const month = parkMonth(tz), lastMonth = parkMonth(tz, -1);
    const res = await Promise.allSettled([
      figures(ctx, "day", today), figures(ctx, "day", yesterday),
      figures(ctx, "month", month), figures(ctx, "month", lastMonth),
    ]);
    const [a, b, c, d] = res.map((r) => (r.status === "fulfilled" ? r.value : null));
    el.querySelector("#kpis").innerHTML = KPIS.map((k) => kpiCard(k, a, b, c, d)).join("");
    showAqi(a?.aqi ?? null);
  }

  async function showAqi(fromStats) {
    let aqi = fromStats;
    let primary = null;
    if (aqi == null) {
      // The hourly AQI series of the park's stations, when the statistics carry none.
      try {
        const rows = await api.latest({ park_id: ctx.park.park_id, metric: "air.aqi" });
        if (rows.length) aqi = Math.max(...rows.map((r) => r.value));
      } catch { /* metric not in the catalogue: leave it empty */ }
    }
    const level = aqiLevel(aqi);
    const box = el.querySelector("#aqi");
    box.innerHTML = aqi == null
      ? `<div class="empty">${t("common.unavailable")}</div>`
      : `<div class="aqi-box"><span class="big" style="background:${AQI_COLOURS[level - 1]}">${Math.round(aqi)}</span>
         <span>${AQI_NAMES[currentLang()][level - 1]}${primary ? `<br>${t("aqi.primary")}: ${escape(primary)}` : ""}</span></div>`;
  }

  const pie = chart(el.querySelector("#alarm-pie"));
  async function loadAlarms() {
    let counts = {};
    try { counts = byCategory(await activeAlarms()); } catch (err) { console.warn(err); }
    const cats = ["safety", "emissions", "environment", "energy"];
    pie.setOption(pieOption(cats.map((c) => ({ name: t("category." + c), value: counts[c] || 0 }))));
    el.querySelector("#alarm-pie").dataset.total = String(Object.values(counts).reduce((x, y) => x + y, 0));
  }

  async function loadLatestPower() {
    const rows = await api.latest({ park_id: ctx.park.park_id, metric: "elec.power_kw" });
    for (const r of rows) { power.set(r.device_id, r.value); if (!lastTs || r.ts > lastTs) lastTs = r.ts; }
    showLoad();
  }

  await Promise.allSettled([loadKpis(), loadAlarms(), loadLatestPower()]);
  return {
    onEvent(ev) {
      if (ev.type === "reading" && ev.metric === "elec.power_kw") {
        power.set(ev.device_id, ev.value);
        received += 1;
        if (!lastTs || ev.ts > lastTs) lastTs = ev.ts;
        showLoad();
      } else if (ev.type === "alarm" || ev.type === "alert") {
        loadAlarms();
      }
    },
    async refresh() { await Promise.allSettled([loadKpis(), loadAlarms()]); },
  };
}
