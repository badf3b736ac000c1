// Park overview: today's and this month's energy by carrier (coal and heat included) with an
// honest month-over-month, the park's load today with live points, the share of tce by carrier,
// AQI now, active alarms by category and the enterprises using the most energy.
import * as api from "../api.js";
import { barOption, chart, draw, lineOption, pieOption } from "../charts.js";
import { clock, escape, num, parkDate, parkMonth, pct } from "../format.js";
import { currentLang, t } from "../i18n.js";
import { carrierUnit, metricName } from "../names.js";
import { addDays, addMonths, dayRange, monthToDate, parkLoad, periods, ranking } from "../stats.js";
import { completenessPanel } from "../completeness.js";
import { latestRows } from "../states.js";

const SPARK_STEP_MS = 10_000; // one live point of the load curve per 10 s
// Readings come a device at a time (a whole park's on connecting); the curve is drawn again
// once per this much, not per reading.
const REDRAW_MS = 250;
const CARRIERS = ["electricity", "water", "natural_gas", "steam", "heat", "raw_coal"];
const KPIS = [...CARRIERS.map((c) => ({ key: c, unit: () => carrierUnit(c) })),
  { key: "tce", unit: () => t("unit.tce") }, { key: "co2", unit: () => t("unit.t") }];
// The AQI core's pollutant names and the catalogue metric each stands for.
const POLLUTANT = { PM25: "air.pm25_ugm3", PM10: "air.pm10_ugm3", SO2: "air.so2_ugm3", NO2: "air.no2_ugm3",
  CO: "air.co_mgm3", O3: "air.o3_ugm3", O3_8H: "air.o3_ugm3" };
export const pollutantName = (p) => (POLLUTANT[p] ? metricName(POLLUTANT[p]) : t("common.other_metric"));

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: ["elec.power_kw"], alarms: true });

function kpiCard(k, today, yesterday, mtd) {
  const unit = escape(k.unit());
  const cls = mtd.change == null ? "" : mtd.change > 0 ? "up" : "down";
  const vs = mtd.complete
    ? `<span class="delta ${cls}" data-role="mom" title="${escape(t("vs.equal_days").replace("{n}", mtd.days))}">${t("vs")} ${pct(mtd.change)}</span>`
    : `<span class="delta incomplete" data-role="mom" title="${escape(t("vs.incomplete_title"))}">${t("vs.incomplete")}</span>`;
  return `<div class="panel kpi" data-kpi="${k.key}">
    <span class="name">${t("carrier." + k.key)}</span>
    <span class="value" data-role="today">${num(today?.[k.key])}<small>${unit}</small></span>
    <span class="sub"><span>${t("period.yesterday")}</span><span>${num(yesterday?.[k.key])} ${unit}</span></span>
    <span class="sub"><span>${t("period.month")} ${num(mtd.now)}</span>${vs}</span>
  </div>`;
}

export async function render(el, ctx) {
  const tz = ctx.timezone;
  el.innerHTML = `
    <div class="toolbar"><h2>${escape(ctx.park?.name ?? "")}</h2></div>
    <div class="grid cols-8" id="kpis"></div>
    <div class="grid cols-3 gap-top">
      <div class="panel" id="live-panel"><h3>${t("energy.load")}<span class="kpi-inline"><span class="value" id="live-load">—</span>
        <small id="live-ts"></small></span></h3>
        <div class="chart" id="load-spark"></div></div>
      <div class="panel"><h3>${t("energy.share")}</h3><div class="chart" id="carrier-pie"></div></div>
      <div class="panel" id="aqi-panel"><h3>${t("aqi.now")}</h3><div id="aqi"></div></div>
      <div class="panel"><h3>${t("alarms.active_by_category")}</h3><div class="chart" id="alarm-pie"></div></div>
      <div class="panel span-2"><h3>${t("energy.top")}</h3><div class="chart" id="top-ents"></div></div>
      <div class="panel span-3"><h3>${t("comp.title")}</h3><div class="comp-body" id="completeness"></div></div>
    </div>`;

  const power = new Map(); // device_id -> latest kW
  let redraw = null;
  let lastTs = null;
  let received = 0;
  const spark = chart(el.querySelector("#load-spark"));
  let history = []; // the park's 15-minute load today
  const livePoints = [];

  function showLoad() {
    let totalKw = 0;
    for (const v of power.values()) totalKw += v;
    const load = el.querySelector("#live-load");
    load.innerHTML = power.size ? `${num(totalKw, 0)}<small>kW</small>` : "—";
    load.dataset.received = String(received);
    el.querySelector("#live-ts").textContent = lastTs ? `${t("live.at")} ${clock(lastTs)}` : "";
    const now = Date.now();
    if (power.size) {
      const last = livePoints[livePoints.length - 1];
      if (last && now - last[0] < SPARK_STEP_MS) last[1] = Math.round(totalKw);
      else livePoints.push([now, Math.round(totalKw)]);
      if (livePoints.length > 720) livePoints.shift();
    }
    const empty = !history.length && !livePoints.length;
    draw(spark, lineOption([
      { name: t("energy.today_series"), data: history, areaStyle: { opacity: 0.15 } },
      { name: t("live.on"), data: livePoints },
    ], { unit: "kW" }), empty);
  }

  async function loadKpis() {
    const today = parkDate(tz);
    const lastMonth = addMonths(parkMonth(tz), -1);
    // One answer: every day from the first of last month to today.
    const days = await periods(ctx, "day", lastMonth, addDays(today, 1));
    const a = days.get(today), b = days.get(addDays(today, -1));
    el.querySelector("#kpis").innerHTML = KPIS.map((k) => kpiCard(k, a, b, monthToDate(days, k.key, today))).join("");
    showAqi(a?.aqi ?? b?.aqi ?? null, a?.aqi ? t("period.today") : t("period.yesterday"));
    // Share of this month's tce by carrier, from the days of this month.
    const shares = {};
    for (const [day, f] of days) {
      if (day < parkMonth(tz) || !f.tce_by_carrier) continue;
      for (const [c, v] of Object.entries(f.tce_by_carrier)) shares[c] = (shares[c] || 0) + (v || 0);
    }
    const items = Object.entries(shares).filter(([, v]) => v > 0).map(([c, v]) => ({ name: t("carrier." + c), value: Math.round(v * 10) / 10 }));
    draw(pie2, pieOption(items, { unit: t("unit.tce") }), !items.length);
  }

  function showAqi(info, when) {
    const box = el.querySelector("#aqi");
    if (!info) { box.innerHTML = `<div class="empty" data-empty="1">${t("common.no_data")}</div>`; return; }
    const primary = (info.primary || []).map(pollutantName).join("、");
    const iaqi = Object.entries(info.iaqi || {}).map(([k, v]) => `<tr><td>${escape(pollutantName(k))}</td><td class="num">${v}</td></tr>`).join("");
    const category = currentLang() === "en" ? info.category_en : info.category;
    box.innerHTML = `<div class="aqi-box" data-aqi="${info.aqi}"><span class="big aqi-${Number(info.level)}">${info.aqi}</span>
      <span>${escape(category)} · ${escape(when)}${primary ? `<br>${t("aqi.primary")}: ${escape(primary)}` : ""}</span></div>
      <table class="gap-top"><thead><tr><th>${t("aqi.pollutant")}</th><th class="num">${t("aqi.iaqi")}</th></tr></thead><tbody>${iaqi}</tbody></table>`;
  }

  const pie = chart(el.querySelector("#alarm-pie"));
  const pie2 = chart(el.querySelector("#carrier-pie"));
  const top = chart(el.querySelector("#top-ents"));
  async function loadAlarms() {
    const counts = {};
    // Counts from the API (all open alarms, however many), not a page of the list.
    for (const r of await api.get("/alarms/summary", { park_id: ctx.park?.park_id })) {
      if (r.state === "firing") counts[r.category] = (counts[r.category] || 0) + r.n;
    }
    const cats = ["safety", "emissions", "environment", "energy"];
    const items = cats.filter((c) => counts[c]).map((c) => ({ name: t("category." + c), value: counts[c] }));
    draw(pie, pieOption(items), !items.length);
    el.querySelector("#alarm-pie").dataset.total = String(Object.values(counts).reduce((x, y) => x + y, 0));
  }

  async function loadTop() {
    const month = parkMonth(tz);
    const answer = await ranking(ctx, { period: "day", from: month, to: addDays(parkDate(tz), 1), limit: 10 });
    const rows = answer.items.filter((r) => r.rank != null);
    draw(top, barOption(rows.map((r) => r.name), rows.map((r) => Math.round((r.energy?.tce_equivalent ?? 0) * 10) / 10),
      { unit: t("unit.tce"), horizontal: true, color: "#3fb6ff" }), !rows.length);
  }

  async function loadHistory() {
    const [from] = dayRange(parkDate(tz), tz);
    history = await parkLoad(ctx, from, new Date().toISOString());
  }

  // One answer for the devices' states (the completeness panel's online rate) and their latest
  // power (the live load until the stream's readings come).
  const states = api.get(`/parks/${ctx.park.park_id}/device-states`, { metric: "elec.power_kw" });
  async function loadLatestPower() {
    for (const r of latestRows(await states)) {
      power.set(r.device_id, r.value);
      if (!lastTs || r.ts > lastTs) lastTs = r.ts;
    }
  }

  const loadCompleteness = (first = null) => completenessPanel(el.querySelector("#completeness"), ctx, { states: first });
  const settled = await Promise.allSettled([loadKpis(), loadAlarms(), loadTop(), loadHistory(), loadLatestPower(), loadCompleteness(states)]);
  for (const r of settled) if (r.status === "rejected") console.warn(r.reason);
  showLoad();
  return {
    onEvent(ev) {
      if (ev.type === "reading" && ev.metric === "elec.power_kw") {
        power.set(ev.device_id, ev.value);
        received += 1;
        const ts = typeof ev.ts === "number" ? ev.ts : Date.parse(ev.ts); // epoch ms, as the states answer
        if (!lastTs || ts > lastTs) lastTs = ts;
        redraw ||= setTimeout(() => { redraw = null; showLoad(); }, REDRAW_MS);
      } else if (ev.type === "alarm" || ev.type === "alert") {
        loadAlarms().catch(console.warn);
      }
    },
    async refresh() { await Promise.allSettled([loadKpis(), loadAlarms(), loadTop(), loadHistory().then(showLoad), loadCompleteness()]); },
    destroy() { clearTimeout(redraw); },
  };
}
