// Energy: the park's load curve today against yesterday, consumption by enterprise, ranking.
import * as api from "../api.js";
import { barOption, chart, lineOption, sumSeries } from "../charts.js";
import { escape, num, parkDate, parkMonth } from "../format.js";
import { t } from "../i18n.js";
import { addDays, addMonths, dayRange, periods } from "../stats.js";

/** This month's figures of every enterprise, from its statistics. */
async function byEnterprise(ctx, month) {
  const rows = await Promise.all(ctx.enterprises.map(async (e) => {
    const f = (await periods(ctx, "month", month, addMonths(month, 1), { enterpriseId: e.enterprise_id })).get(month);
    return { enterprise_id: e.enterprise_id, ...(f || {}) };
  }));
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
    const [todayFrom, todayTo] = dayRange(parkDate(tz), tz);
    const [yFrom] = dayRange(addDays(parkDate(tz), -1), tz);
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
    const rows = await byEnterprise(ctx, parkMonth(tz));
    let measure = "tce";
    if (!rows.some((r) => r.tce != null)) measure = "electricity";
    rows.sort((a, b) => (b[measure] ?? 0) - (a[measure] ?? 0));
    const name = (id) => ctx.names.enterprise(id) || `#${id}`;
    const top = rows.slice(0, 15);
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
