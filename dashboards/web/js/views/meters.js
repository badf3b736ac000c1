// Energy management of one enterprise (#/meters?enterprise=ID&month=YYYY-MM): the meter tree with each main
// meter's balance against its sub-meters, kWh and cost by time-of-use period, the month's maximum
// demand against the contract, meter changes and manual readings with their corrections; the
// month's cost per meter and period exports as CSV. An enterprise user sees its own.
import * as api from "../api.js";
import { barOption, chart, draw } from "../charts.js";
import { escape, num, parkDate, parkMonth, time } from "../format.js";
import { t } from "../i18n.js";
import "../i18n-energy.js";

const PERIODS = ["deep_valley", "valley", "flat", "peak", "critical_peak"];

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: [], alarms: false });

const hashParam = (name) => new URLSearchParams(location.hash.split("?")[1] || "").get(name);
const wantedEnterprise = () => Number(hashParam("enterprise"));

function table(head, rows) {
  if (!rows.length) return `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead>
    <tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

/** The month's cost per meter and period as CSV (UTF-8 with BOM, so spreadsheet tools read the Chinese). */
export function costCsv(cost) {
  const head = ["meter", "role", "in_totals", ...PERIODS.map((p) => `kwh_${p}`), ...PERIODS.map((p) => `yuan_${p}`),
    "demand_kw", "contracted_kw", "demand_charge"];
  const lines = cost.meters.map((m) => [m.code, m.role, m.counts, ...m.kwh, ...(m.cost || PERIODS.map(() => "")),
    m.demand_kw, m.contracted_kw ?? "", m.demand_charge ?? ""]);
  lines.push(["total", "", "", ...cost.total.kwh, ...cost.total.cost, "", "", cost.total.demand_charge]);
  return "\ufeff" + [head, ...lines].map((r) => r.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(",")).join("\r\n");
}

export async function render(el, ctx) {
  const own = ctx.me.enterprise_id;
  const choices = own ? ctx.enterprises.filter((e) => e.enterprise_id === own) : ctx.enterprises;
  let entId = choices.some((e) => e.enterprise_id === wantedEnterprise()) ? wantedEnterprise() : choices[0]?.enterprise_id;
  const asked = hashParam("month");
  const month = /^\d{4}-(0[1-9]|1[0-2])$/.test(asked || "") ? asked : parkMonth(ctx.timezone).slice(0, 7);
  el.innerHTML = `
    <div class="toolbar"><h2>${t("em.title")}</h2>
      <label>${t("ent.select")} <select id="em-ent" ${own ? "disabled" : ""}>${choices.map((e) =>
        `<option value="${e.enterprise_id}">${escape(e.name)}</option>`).join("")}</select></label>
      <label>${t("em.month")} <input id="em-month" type="month" value="${month}"></label>
      <a id="em-export" class="button" download>${t("em.export")}</a></div>
    <div class="grid cols-2">
      <div class="panel"><h3>${t("em.cost")}</h3><div class="chart" id="em-cost-chart"></div><div id="em-cost" class="scroll"></div></div>
      <div class="panel"><h3>${t("em.tree")}</h3><div id="em-tree" class="scroll"></div></div>
      <div class="panel"><h3>${t("em.demand")}</h3><div id="em-demand" class="scroll"></div></div>
      <div class="panel"><h3>${t("em.changes")}</h3><div id="em-changes" class="scroll"></div></div>
      <div class="panel span-2"><h3>${t("em.manual")}</h3><div id="em-manual" class="scroll"></div></div>
    </div>`;
  const costChart = chart(el.querySelector("#em-cost-chart"));
  const $ = (sel) => el.querySelector(sel);

  async function load() {
    const m = $("#em-month").value || month;
    const first = `${m}-01`;
    const next = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)), 1));
    const lastOfMonth = new Date(next.getTime() - 86400000).toISOString().slice(0, 10);
    const today = parkDate(ctx.timezone);
    const last = lastOfMonth < today ? lastOfMonth : today;
    const range = { from: first, to: last < first ? first : last };
    const [tree, cost, balance, changes, manual] = await Promise.allSettled([
      api.get(`/energy/parks/${ctx.park.park_id}/meters`),
      api.get(`/energy/enterprises/${entId}/cost`, { month: m }),
      api.get(`/energy/enterprises/${entId}/balance`, range),
      api.get(`/energy/enterprises/${entId}/changes`, range),
      api.get(`/energy/enterprises/${entId}/readings`, range),
    ]);
    if (tree.status === "rejected" && tree.reason?.status === 403) {
      el.querySelector(".grid").innerHTML = `<div class="empty" data-empty="1">${t("em.forbidden")}</div>`;
      return;
    }
    showTree(tree.value?.meters?.filter((x) => x.enterprise_id === entId) || [], balance.value?.balances || []);
    showCost(cost.value);
    showChanges(changes.value?.changes || []);
    showManual(manual.value?.readings || []);
  }

  function showTree(meters, balances) {
    const loss = new Map(balances.map((b) => [b.parent, b.loss_pct]));
    $("#em-tree").innerHTML = table(
      [t("em.meter"), t("em.role"), t("em.parent"), t("em.counts"), `${t("em.loss")} %`],
      meters.map((x) => [escape(x.code), t("em.role." + x.role), escape(x.parent || x.formula || "—"),
        t(x.counts ? "em.yes" : "em.no"), loss.has(x.code) ? num(loss.get(x.code), 1) : "—"]),
    );
  }

  function showCost(cost) {
    const link = $("#em-export");
    if (!cost) {
      draw(costChart, barOption([], []), true);
      $("#em-cost").innerHTML = `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
      $("#em-demand").innerHTML = `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
      link.removeAttribute("href");
      return;
    }
    const names = PERIODS.map((p) => t("em.period." + p));
    draw(costChart, barOption(names, cost.total.kwh.map((v) => Math.round(v)), { unit: "kWh", color: "#3fb6ff" }),
      !cost.total.kwh.some((v) => v > 0));
    $("#em-cost").innerHTML = table([t("em.meter"), ...names.map((n) => `${n} kWh`), `${t("em.cost_yuan")} ¥`],
      [...cost.meters.map((x) => [escape(x.code), ...x.kwh.map((v) => num(v, 0)),
        x.cost ? num(x.cost.reduce((a, b) => a + b, 0), 2) : "—"]),
      [t("em.total"), ...cost.total.kwh.map((v) => num(v, 0)), num(cost.total.cost.reduce((a, b) => a + b, 0), 2)]]);
    $("#em-demand").innerHTML = table(
      [t("em.meter"), `${t("em.demand_kw")} kW`, t("em.at"), `${t("em.contract")} kW`, t("em.level"), `${t("em.charge")} ¥`],
      cost.meters.filter((x) => x.role === "main").map((x) => [escape(x.code), num(x.demand_kw, 1),
        x.demand_at_ms != null ? time(x.demand_at_ms) : "—", num(x.contracted_kw, 0),
        `<span data-level="${x.demand_level}">${t("em.level." + x.demand_level)}</span>`, num(x.demand_charge, 2)]),
    );
    URL.revokeObjectURL(link.href || "");
    link.href = URL.createObjectURL(new Blob([costCsv(cost)], { type: "text/csv;charset=utf-8" }));
    link.download = `energy-${entId}-${$("#em-month").value || month}.csv`;
  }

  function showChanges(rows) {
    $("#em-changes").innerHTML = table([t("em.meter"), t("em.at"), t("em.old_final"), t("em.new_initial"), t("em.by")],
      rows.map((c) => [escape(ctx.names.device(c.device_id) || c.device_id), time(c.at_ms), num(c.old_final, 2),
        num(c.new_initial, 2), escape(c.recorded_by)]));
  }

  function showManual(rows) {
    $("#em-manual").innerHTML = table([t("em.meter"), t("em.at"), t("em.value"), t("em.by"), t("em.reason")],
      rows.map((r) => [escape(ctx.names.device(r.device_id) || r.device_id), time(r.ts_ms),
        r.superseded_by ? `<s>${num(r.value, 2)}</s> (${t("em.superseded")})` : num(r.value, 2),
        escape(r.entered_by), escape(r.reason || "")]));
  }

  $("#em-ent").addEventListener("change", (ev) => { entId = Number(ev.target.value); load(); });
  $("#em-month").addEventListener("change", () => load());
  if (entId != null) $("#em-ent").value = String(entId);
  await load();
  return { refresh: load };
}
