// Park overview: today's and this month's energy against the last period, live load, AQI now,
// active alarms by category.
import { chart, pieOption, sumSeries } from "../charts.js";
import { change, escape, num, parkDate, parkMonth, pct } from "../format.js";
import { currentLang, t } from "../i18n.js";
import { aqiColour, aqiLevel, aqiName } from "../limits.js";
import * as api from "../api.js";
import { addDays, addMonths, periods } from "../stats.js";

const SPARK_STEP_MS = 10_000; // one point of the live load curve per 10 s

const KPIS = [
  { key: "electricity", unit: "kWh" },
  { key: "water", unit: "m³" },
  { key: "natural_gas", unit: "Nm³" },
  { key: "steam", unit: "t" },
  { key: "tce", unit: "tce" },
  { key: "co2", unit: "t" },
];

/** Share of the park-local day and month elapsed, to compare a period so far with a whole one. */
export function elapsed(timezone, now = new Date()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: timezone, hourCycle: "h23",
    year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })
    .formatToParts(now).map((p) => [p.type, Number(p.value)]));
  const dayShare = (parts.hour * 60 + parts.minute) / 1440;
  const monthDays = new Date(Date.UTC(parts.year, parts.month, 0)).getUTCDate();
  return { day: Math.max(dayShare, 1 / 96), month: Math.max((parts.day - 1 + dayShare) / monthDays, 1 / 96 / monthDays) };
}

const scaled = (v, f) => (v == null ? null : v / f);

function kpiCard(k, today, yesterday, month, lastMonth, share) {
  // Today and this month so far, pro-rated to a whole period, against the whole last one.
  const d1 = change(scaled(today?.[k.key], share.day), yesterday?.[k.key]);
  const d2 = change(scaled(month?.[k.key], share.month), lastMonth?.[k.key]);
  const cls = (d) => (d == null ? "" : d > 0 ? "up" : "down");
  return `<div class="panel kpi" data-kpi="${k.key}">
    <span class="name">${t("carrier." + k.key)}</span>
    <span class="value" data-role="today">${num(today?.[k.key])}<small>${k.unit}</small></span>
    <span class="sub"><span>${t("period.today")} · ${t("period.yesterday")} ${num(yesterday?.[k.key])}</span>
      <span class="delta ${cls(d1)}" title="${t("vs.prorated")}">${pct(d1)}</span></span>
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
    const now = Date.now();
    if (points.length && now - points[points.length - 1][0] < SPARK_STEP_MS) points[points.length - 1][1] = Math.round(total);
    else points.push([now, Math.round(total)]);
    if (points.length > 720) points.shift();
    spark.setOption({ grid: { left: 8, right: 8, top: 10, bottom: 20, containLabel: true }, xAxis: { type: "time" },
      yAxis: { type: "value", scale: true, splitLine: { lineStyle: { color: "#24405a" } } },
      tooltip: { trigger: "axis" }, backgroundColor: "transparent",
      series: [{ type: "line", showSymbol: false, areaStyle: { opacity: 0.2 }, data: points }] });
  }

  async function loadKpis() {
    const today = parkDate(tz), month = parkMonth(tz);
    const [days, months] = await Promise.all([
      periods(ctx, "day", addDays(today, -1), addDays(today, 1)),
      periods(ctx, "month", addMonths(month, -1), addMonths(month, 1)),
    ]);
    const a = days.get(today), b = days.get(addDays(today, -1));
    const c = months.get(month), d = months.get(addMonths(month, -1));
    el.querySelector("#kpis").innerHTML = KPIS.map((k) => kpiCard(k, a, b, c, d, elapsed(tz))).join("");
    // Today's AQI so far, else yesterday's daily AQI.
    showAqi(a?.aqi ?? b?.aqi ?? null, a?.aqi ? t("period.today") : t("period.yesterday"));
  }

  function showAqi(info, when) {
    const box = el.querySelector("#aqi");
    if (!info) { box.innerHTML = `<div class="empty">${t("common.unavailable")}</div>`; return; }
    const level = info.level || aqiLevel(info.aqi);
    const shown = info.aqi == null ? "NA" : info.aqi; // HJ 633-2026: an item missing, the others not above 100
    const primary = (info.primary || []).join(", ");
    const iaqi = Object.entries(info.iaqi || {}).map(([k, v]) => `<tr><td>${escape(k)}</td><td class="num">${v}</td></tr>`).join("");
    box.innerHTML = `<div class="aqi-box" data-aqi="${shown}"><span class="big" style="background:${aqiColour(level)}">${shown}</span>
      <span>${escape(aqiName(level, currentLang()))} · ${escape(when)}${primary ? `<br>${t("aqi.primary")}: ${escape(primary)}` : ""}</span></div>
      <table style="margin-top:8px"><thead><tr><th>IAQI</th><th class="num"></th></tr></thead><tbody>${iaqi}</tbody></table>`;
  }

  const pie = chart(el.querySelector("#alarm-pie"));
  async function loadAlarms() {
    const counts = {};
    try {
      // Counts from the API (all open alarms, however many), not a page of the list.
      for (const r of await api.get("/alarms/summary", { park_id: ctx.park?.park_id })) {
        if (r.state === "firing") counts[r.category] = (counts[r.category] || 0) + r.n;
      }
    } catch (err) { console.warn(err); }
    const cats = ["safety", "emissions", "environment", "energy"];
    pie.setOption(pieOption(cats.filter((c) => counts[c]).map((c) => ({ name: t("category." + c), value: counts[c] }))), true);
    el.querySelector("#alarm-pie").dataset.total = String(Object.values(counts).reduce((x, y) => x + y, 0));
  }

  async function seedSpark() {
    // The last six hours from the 15-minute rollups, so the curve is not empty before live data.
    const pairs = ctx.devices.filter((d) => d.metrics?.includes("elec.power_kw")).map((d) => [d.device_id, "elec.power_kw"]);
    if (!pairs.length) return;
    const to = new Date();
    const from = new Date(to.getTime() - 6 * 3600 * 1000);
    const series = await api.series(pairs, { from: from.toISOString(), to: to.toISOString(), interval: "15m", aggregate: "avg" });
    points.unshift(...sumSeries(series).map(([ts, v]) => [ts, Math.round(v)]));
  }

  async function loadLatestPower() {
    const rows = await api.latest({ park_id: ctx.park.park_id, metric: "elec.power_kw" });
    for (const r of rows) { power.set(r.device_id, r.value); if (!lastTs || r.ts > lastTs) lastTs = r.ts; }
    showLoad();
  }

  await seedSpark().catch(console.warn);
  const settled = await Promise.allSettled([loadKpis(), loadAlarms(), loadLatestPower()]);
  for (const r of settled) if (r.status === "rejected") console.warn(r.reason);
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
