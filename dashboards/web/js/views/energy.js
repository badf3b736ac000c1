// Energy: the park's load over a chosen range against the range before it, this month's tce by enterprise, the
// ranking of every enterprise by every carrier (coal and heat included) and the park's balance of
// its intakes against the enterprises' meters — four API answers whatever the number of enterprises.
import { barOption, chart, draw, lineOption } from "../charts.js";
import { escape, num, parkDate, parkMonth } from "../format.js";
import { t } from "../i18n.js";
import { carrierUnit } from "../names.js";
import { parkBalance } from "../park-balance.js";
import { rangePicker } from "../range.js";
import { addDays, parkLoad, ranking } from "../stats.js";

const DAY_MS = 86_400_000;
// The API's load answer: 15-minute sums over at most 8 days, hourly over at most 62.
const LOAD_15M_DAYS = 8, LOAD_1H_DAYS = 62;

const COLUMNS = [
  ["electricity", "electricity_kwh", 0], ["water", "water_m3", 0], ["natural_gas", "natural_gas_nm3", 0],
  ["steam", "steam_t", 1], ["heat", "heat_gj", 1], ["raw_coal", "raw_coal_t", 1],
];

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: [], alarms: false });

export async function render(el, ctx) {
  const tz = ctx.timezone;
  el.innerHTML = `
    <div class="grid cols-2">
      <div class="panel span-2"><h3>${t("energy.load")}<span id="load-range"></span></h3><div class="chart" id="load"></div></div>
      <div class="panel"><h3>${t("energy.by_enterprise")}</h3><div class="chart tall" id="by-ent"></div></div>
      <div class="panel"><h3>${t("energy.ranking")}</h3><div class="scroll tall" id="ranking"></div></div>
      <div class="panel span-2"><h3>${t("pb.title")}</h3><div class="grid cols-2">
        <div class="scroll" id="park-balance"></div><div class="chart" id="park-balance-chart"></div></div></div>
    </div>`;
  const load = chart(el.querySelector("#load"));
  const byEnt = chart(el.querySelector("#by-ent"));
  const balanceChart = chart(el.querySelector("#park-balance-chart"));
  const loadBalance = () => parkBalance(el.querySelector("#park-balance"), balanceChart, ctx);

  let loadRange = null;
  let started = false;
  rangePicker(el.querySelector("#load-range"), (r) => { loadRange = r; if (started) loadCurve().catch(console.warn); },
    { storageKey: "smartpark.range.load" });

  // The range and the one before it in one answer; the dashed line is the range before, moved onto
  // this one (24 h: the day before; 7 d: the week before).
  async function loadCurve() {
    const { from, to } = loadRange;
    const span = to - from;
    const days = (2 * span) / DAY_MS;
    if (days > 2 * LOAD_1H_DAYS) {
      draw(load, lineOption([]), true);
      return;
    }
    const compare = days <= LOAD_1H_DAYS;
    const start = compare ? from - span : from;
    const interval = (to - start) / DAY_MS <= LOAD_15M_DAYS ? "15m" : "1h";
    const points = await parkLoad(ctx, new Date(start).toISOString(), new Date(to).toISOString(), interval);
    const now = points.filter(([ts]) => ts >= from);
    const before = points.filter(([ts]) => ts < from).map(([ts, v]) => [ts + span, v]);
    draw(load, lineOption([
      { name: t("energy.range_series"), data: now, areaStyle: { opacity: 0.15 } },
      ...(compare ? [{ name: t("energy.previous_series"), data: before, lineStyle: { type: "dashed" } }] : []),
    ], { unit: "kW", days: span > DAY_MS, zoom: span > DAY_MS }), !points.length);
  }

  async function loadRanking() {
    const month = parkMonth(tz);
    const answer = await ranking(ctx, { period: "day", from: month, to: addDays(parkDate(tz), 1) });
    const rows = answer.items;
    const ranked = rows.filter((r) => r.rank != null);
    const top = ranked.slice(0, 15);
    draw(byEnt, barOption(top.map((r) => r.name), top.map((r) => Math.round((r.energy?.tce_equivalent ?? 0) * 10) / 10),
      { unit: t("unit.tce"), horizontal: true, color: "#3fb6ff" }), !top.length);
    const head = COLUMNS.map(([c]) => `<th class="num">${t("carrier." + c)}<br><small>${escape(carrierUnit(c))}</small></th>`).join("");
    el.querySelector("#ranking").innerHTML = rows.length ? `<table class="ranking"><thead><tr><th>${t("energy.rank")}</th>
      <th>${t("common.enterprise")}</th>${head}<th class="num">${t("carrier.tce")}<br><small>${t("unit.tce")}</small></th></tr></thead>
      <tbody>${rows.map((r) => `<tr data-enterprise="${r.enterprise_id}"><td>${r.rank ?? "—"}</td><td class="name">${escape(r.name)}</td>
      ${COLUMNS.map(([, col, d]) => `<td class="num">${num(r.energy?.[col], d)}</td>`).join("")}
      <td class="num">${num(r.energy?.tce_equivalent, 1)}</td></tr>`).join("")}</tbody></table>`
      : `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
  }

  await Promise.allSettled([loadCurve(), loadRanking(), loadBalance()]);
  started = true;
  return { async refresh() { await Promise.allSettled([loadCurve(), loadRanking(), loadBalance()]); } };
}
