// The big screen (/screen/): the park at a glance on a wall, full screen, no interaction needed.
// KPI column on the left, the park's load and a rotating panel (ranking, share by carrier, alarms
// by category) in the centre, AQI and the alarm list on the right. Signed in with a read-only
// display key kept in this browser, so a reboot brings the screen back by itself.
import * as api from "../js/api.js";
import { barOption, chart, draw, lineOption, pieOption } from "../js/charts.js";
import { clock, escape, num, parkDate, parkMonth, setZone, time, zoneLabel } from "../js/format.js";
import { applyStatic, currentLang, t } from "../js/i18n.js";
import * as live from "../js/live.js";
import { carrierUnit, setCatalogue, withUnit } from "../js/names.js";
import { summaryOf } from "../js/alarms.js";
import "../js/i18n-ops.js";
import { drawPlan, loadPlan, planLegend, statesById } from "../js/plan.js";
import { newCritical, play, soundButton } from "../js/alarm-sound.js";
import { addDays, addMonths, dayRange, monthToDate, parkLoad, periods, ranking } from "../js/stats.js";

const ROTATE_MS = 20_000;
const REFRESH_MS = 60_000;
const KPIS = [
  ...["electricity", "water", "natural_gas", "steam", "heat", "raw_coal"].map((c) => ({ key: c, unit: () => carrierUnit(c) })),
  { key: "tce", unit: () => t("unit.tce") }, { key: "co2", unit: () => t("unit.t") },
];
const $ = (s) => document.querySelector(s);
const SEVERITY = { critical: 0, major: 1, minor: 2, warning: 3 };
let ctx = null;

async function start() {
  // One answer (the park's context, while the key is exchanged for a token); the charts draw
  // when ECharts, fetched beside it (index.html), is evaluated.
  const { me, park, metrics, enterprises } = await api.context();
  if (!park) throw new Error(t("park.none"));
  const names = new Map(enterprises.enterprise_id.map((id, i) => [id, enterprises.name[i]])); // columns
  setCatalogue(metrics);
  setZone(park.timezone);
  ctx = { me, park, timezone: park.timezone };
  $("#login").hidden = true;
  $("#screen").hidden = false;
  $("#screen-park").textContent = park.name;
  const load = chart($("#screen-load"));
  const rotating = chart($("#screen-rotating"));
  let rankingItems = [];
  let alarmCounts = {};
  let days = new Map();
  let step = 0;

  async function loadFigures() {
    const today = parkDate(ctx.timezone);
    const rankingP = ranking(ctx, { period: "day", from: parkMonth(ctx.timezone), to: addDays(today, 1), limit: 10 }); // asked for at once
    days = await periods(ctx, "day", addMonths(parkMonth(ctx.timezone), -1), addDays(today, 1));
    const a = days.get(today);
    $("#screen-kpis").innerHTML = KPIS.map((k) => {
      const mtd = monthToDate(days, k.key, today);
      return `<div class="panel screen-kpi" data-kpi="${k.key}"><span class="name">${t("carrier." + k.key)}<br>
        <small>${t("period.month")} ${num(mtd.now)}</small></span>
        <span class="value">${num(a?.[k.key])}<small>${escape(k.unit())}</small></span></div>`;
    }).join("");
    const info = a?.aqi ?? days.get(addDays(today, -1))?.aqi;
    $("#screen-aqi").innerHTML = info
      ? `<div class="aqi-box" data-aqi="${info.aqi}"><span class="big aqi-${Number(info.level)}">${info.aqi}</span>
         <span>${escape(currentLang() === "en" ? info.category_en : info.category)}</span></div>`
      : `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
    rankingItems = (await rankingP).items;
  }

  async function loadLoad() {
    const today = parkDate(ctx.timezone);
    const [yFrom, todayFrom] = dayRange(addDays(today, -1), ctx.timezone);
    const points = await parkLoad(ctx, yFrom, dayRange(today, ctx.timezone)[1]);
    const split = Date.parse(todayFrom);
    draw(load, lineOption([
      { name: t("energy.today_series"), data: points.filter(([ts]) => ts >= split), areaStyle: { opacity: 0.15 } },
      { name: t("energy.yesterday_series"), data: points.filter(([ts]) => ts < split).map(([ts, v]) => [ts + 86_400_000, v]), lineStyle: { type: "dashed" } },
    ], { unit: "kW" }), !points.length);
  }

  // The park plan in the centre: devices by state, alarm pins by severity; a click opens the
  // device on the ops-centre page.
  const planChart = chart($("#screen-plan"));
  let plan = null;
  let states = new Map();
  let firing = [];
  function showPlan() {
    if (!plan) { draw(planChart, {}, true); return; }
    drawPlan(planChart, { plan, states, alarms: firing, ctx, onDevice: (id) => { location.href = `../#/device?id=${id}`; } });
    $("#screen-plan-legend").innerHTML = planLegend(states.summary);
  }
  async function loadPlanOnce() {
    ({ plan, states } = await loadPlan(park.park_id));
  }
  async function loadStates() {
    states = statesById(await api.get(`/parks/${park.park_id}/device-states`));
  }

  const seen = new Set();
  let firstAlarms = true;
  async function fetchAlarms() {
    firing = ((await api.alarms({ state: ["firing"], park_id: park.park_id, limit: 500 })).items || [])
      .sort((x, y) => SEVERITY[x.severity] - SEVERITY[y.severity]);
    if (newCritical(firing, seen, firstAlarms).length) play(); // a new critical alarm sounds (unless muted)
    firstAlarms = false;
  }
  async function loadAlarms() {
    await fetchAlarms();
    showAlarms();
    showPlan();
  }
  function showAlarms() {
    const items = firing;
    alarmCounts = {};
    for (const a of items) alarmCounts[a.category] = (alarmCounts[a.category] || 0) + 1;
    $("#screen-alarm-count").textContent = String(items.length);
    $("#screen-alarms").innerHTML = items.length ? items.slice(0, 12).map((a) => `<div class="screen-alarm sev-${escape(a.severity)}">
      <span class="tag sev-${escape(a.severity)}">${t("sev." + a.severity)}</span><span class="when">${clock(a.firing_at ?? a.started_at)}</span>
      <span class="what">${escape(names.get(a.enterprise_id) || "")} ${escape(summaryOf(a))} ${escape(withUnit(a.metric, a.value ?? a.trigger_value))}</span></div>`).join("")
      : `<div class="empty" data-empty="1">${t("alarms.none")}</div>`;
  }

  // The centre's second panel turns every ROTATE_MS: ranking, share by carrier, alarms by category.
  const PANELS = [
    ["energy.top", () => {
      const rows = rankingItems.filter((r) => r.rank != null);
      draw(rotating, barOption(rows.map((r) => r.name), rows.map((r) => Math.round((r.energy?.tce_equivalent ?? 0) * 10) / 10),
        { unit: t("unit.tce"), horizontal: true, color: "#3fb6ff" }), !rows.length);
    }],
    ["energy.share", () => {
      const shares = {};
      for (const [day, f] of days) {
        if (day < parkMonth(ctx.timezone) || !f.tce_by_carrier) continue;
        for (const [c, v] of Object.entries(f.tce_by_carrier)) shares[c] = (shares[c] || 0) + (v || 0);
      }
      const items = Object.entries(shares).filter(([, v]) => v > 0).map(([c, v]) => ({ name: t("carrier." + c), value: Math.round(v * 10) / 10 }));
      draw(rotating, pieOption(items, { unit: t("unit.tce") }), !items.length);
    }],
    ["alarms.active_by_category", () => {
      const items = Object.entries(alarmCounts).map(([c, n]) => ({ name: t("category." + c), value: n }));
      draw(rotating, pieOption(items), !items.length);
    }],
  ];
  function rotate() {
    const [title, show] = PANELS[step % PANELS.length];
    $("#screen-rotating-title").textContent = t(title);
    $("#screen").dataset.panel = String(step % PANELS.length);
    show();
    step += 1;
  }

  let planLoaded = false;
  async function refresh() {
    // Every answer asked for at once.
    const planP = planLoaded ? loadStates() : loadPlanOnce().then(() => { planLoaded = true; });
    const out = await Promise.allSettled([loadFigures(), loadLoad(), fetchAlarms(), planP]);
    for (const r of out) if (r.status === "rejected") console.warn(r.reason);
    showAlarms();
    showPlan();
    $("#status").textContent = `${t("common.updated")} ${clock(Date.now())} (${zoneLabel()})`;
  }

  await refresh();
  rotate();
  $("#screen").dataset.ready = "1";
  document.querySelector("footer.bottom").append(soundButton());
  setInterval(rotate, ROTATE_MS);
  setInterval(() => refresh().catch(console.warn), REFRESH_MS);
  live.subscribe((ev) => { if (ev.type === "alarm") loadAlarms().catch(console.warn); });
  live.onState((on) => { $("#live").classList.toggle("on", on); $("#live").classList.toggle("off", !on); });
  live.start({ metrics: [], alarms: true });
}

function showLogin(message = "") {
  $("#screen").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
}

$("#login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    await api.login($("#api-key").value, { display: true });
    await start();
  } catch (err) {
    $("#login-error").textContent = `${t("login.failed")}: ${err.detail || err.message}`;
  }
});
setInterval(() => { $("#clock").textContent = `${t("common.park_time")} ${time(Date.now())} ${zoneLabel()}`; }, 1000);
applyStatic(document);
if (api.storedKey()) start().catch((err) => { if (err.status === 401) api.forget(); showLogin(err.detail || err.message); });
else showLogin();
