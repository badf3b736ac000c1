// Energy: the park's load curve today against yesterday, consumption by enterprise, ranking.
import * as api from "../api.js";
import { barOption, chart, lineOption } from "../charts.js";
import { escape, num, parkDate, parkMonth } from "../format.js";
import { t } from "../i18n.js";
import { CARRIERS, fromStatistics, periodRange } from "../stats.js";

/** Sum several series bucket by bucket: [[ts_ms, total], ...]. */
export function sumSeries(list, shiftMs = 0) {
  const acc = new Map();
  for (const s of list) {
    s.ts.forEach((ts, i) => {
      const v = s.values[i];
      if (v == null) return;
      const k = Date.parse(ts) + shiftMs;
      acc.set(k, (acc.get(k) || 0) + v);
    });
  }
  return [...acc.entries()].sort((a, b) => a[0] - b[0]);
}

/** Consumption per enterprise and carrier of a period, from the rollups. */
async function byEnterprise(ctx, devices, month) {
  const [from, to] = periodRange("month", month, ctx.timezone);
  const pairs = [];
  for (const d of devices) for (const c of CARRIERS) if (d.metrics?.includes(c.metric)) pairs.push([d.device_id, c.metric]);
  const rows = new Map();
  if (!pairs.length) return rows;
  const series = await api.series(pairs, { from, to, interval: "month", aggregate: "consumption" });
  for (const s of series) {
    const ent = ctx.devById.get(s.device_id)?.enterprise_id;
    const c = CARRIERS.find((x) => x.metric === s.metric);
    const row = rows.get(ent) || { enterprise_id: ent };
    row[c.key] = (row[c.key] || 0) + s.values.reduce((a, v) => a + (v ?? 0), 0);
    rows.set(ent, row);
  }
  return rows;
}

export async function render(el, ctx) {
  const tz = ctx.timezone;
  el.innerHTML = `
    <div class="grid cols-2">
      <div class="panel span-2"><h3>${t("energy.load")}</h3><div class="chart tall" id="load"></div></div>
      <div class="panel"><h3>${t("energy.by_enterprise")}</h3><div class="chart tall" id="by-ent"></div></div>
      <div class="panel"><h3>${t("energy.ranking")}</h3><div class="scroll" id="ranking"></div></div>
    </div>`;
  const load = chart(el.querySelector("#load"));
  const byEnt = chart(el.querySelector("#by-ent"));
  const meters = ctx.devices.filter((d) => d.metrics?.includes("elec.power_kw"));

  async function loadCurve() {
    const [todayFrom, todayTo] = periodRange("day", parkDate(tz), tz);
    const [yFrom] = periodRange("day", parkDate(tz, -1), tz);
    const pairs = meters.map((d) => [d.device_id, "elec.power_kw"]);
    if (!pairs.length) return;
    const [today, yesterday] = await Promise.all([
      api.series(pairs, { from: todayFrom, to: todayTo, interval: "15m", aggregate: "avg" }),
      api.series(pairs, { from: yFrom, to: todayFrom, interval: "15m", aggregate: "avg" }),
    ]);
    load.setOption(lineOption([
      { name: t("energy.today_series"), data: sumSeries(today), areaStyle: { opacity: 0.15 } },
      { name: t("energy.yesterday_series"), data: sumSeries(yesterday, 86400000), lineStyle: { type: "dashed" } },
    ], { unit: "kW" }), true);
  }

  async function loadRanking() {
    const month = parkMonth(tz);
    let rows;
    let measure = "tce";
    try {
      const answer = await api.enterpriseRanking(ctx.park.park_id, "month", month);
      const items = Array.isArray(answer) ? answer : answer.items || [];
      rows = items.map((r) => ({ enterprise_id: r.enterprise_id, ...fromStatistics(r) }));
    } catch (err) {
      if (!(err instanceof api.ApiError)) throw err;
      rows = [...(await byEnterprise(ctx, ctx.devices, month)).values()];
    }
    if (!rows.some((r) => r.tce != null)) measure = "electricity";
    rows.sort((a, b) => (b[measure] ?? 0) - (a[measure] ?? 0));
    const name = (id) => ctx.names.enterprise(id) || `#${id}`;
    const top = rows.slice(0, 20);
    byEnt.setOption(barOption(top.map((r) => name(r.enterprise_id)), top.map((r) => Math.round(r[measure] ?? 0)),
      { unit: measure === "tce" ? "tce" : "kWh", horizontal: true, color: "#3fb6ff" }), true);
    el.querySelector("#ranking").innerHTML = `<table><thead><tr><th>${t("energy.rank")}</th><th>${t("common.enterprise")}</th>
      <th class="num">${t("carrier.electricity")} kWh</th><th class="num">${t("carrier.water")} m³</th>
      <th class="num">${t("carrier.natural_gas")} Nm³</th><th class="num">${t("carrier.steam")} t</th>
      <th class="num">tce</th></tr></thead><tbody>${rows.map((r, i) => `<tr><td>${i + 1}</td>
      <td>${escape(name(r.enterprise_id))}</td><td class="num">${num(r.electricity, 0)}</td><td class="num">${num(r.water, 0)}</td>
      <td class="num">${num(r.natural_gas, 0)}</td><td class="num">${num(r.steam, 1)}</td><td class="num">${num(r.tce, 1)}</td></tr>`).join("")}
      </tbody></table>`;
  }

  await Promise.allSettled([loadCurve(), loadRanking()]);
  return { async refresh() { await Promise.allSettled([loadCurve(), loadRanking()]); } };
}
