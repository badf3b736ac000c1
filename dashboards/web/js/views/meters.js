// Energy management of one enterprise (#/meters?enterprise=ID&month=YYYY-MM): the meter tree with each main
// meter's balance against its sub-meters, kWh and cost by time-of-use period, the month's maximum
// demand against the contract, meter changes and manual readings with their corrections; the
// month's cost per meter and period, the tree, the changes, the manual readings' audit trail and
// unit consumption export as CSV. An enterprise user sees its own. Those the API lets record get
// the forms (js/meter-forms.js, js/output-form.js; the tree's editor, admins only: js/meter-tree-form.js).
import * as api from "../api.js";
import { barOption, chart, draw } from "../charts.js";
import { escape, num, parkDate, parkMonth, time } from "../format.js";
import { t } from "../i18n.js";
import "../i18n-energy.js";
import { changesCsv, costCsv, manualCsv, outputCsv, treeCsv } from "../meter-csv.js";
import { canRecord, changeForm, correctionForm, deviceChoices, deviceNamer, importForm, readingForm, readingText } from "../meter-forms.js";
import { canEditTree, treeForm } from "../meter-tree-form.js";
import { metricName, unitOf } from "../names.js";
import { outputForm } from "../output-form.js";

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

/** A file link's content: a CSV (with a BOM) under ``name``. */
function offer(link, text, name) {
  if (link.href) URL.revokeObjectURL(link.href);
  if (text == null) { link.removeAttribute("href"); return; }
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  link.download = name;
}

const head = (key, file) => `<div class="panel-head"><h3>${t(key)}</h3>${file ? `<a class="button csv" data-csv="${file}" download>${t("em.export_csv")}</a>` : ""}</div>`;

/** A meter's calibration due date, flagged as the API judges it (GET …/calibrations: overdue, or
 * due within its notice). */
function calibration(meter, due) {
  const date = meter.attributes?.calibration_due;
  if (typeof date !== "string") return "—";
  const flag = due.get(meter.code);
  if (!flag) return escape(date);
  const [cls, key] = flag.overdue ? ["sev-critical", "overdue"] : ["sev-warning", "soon"];
  return `${escape(date)} <span class="tag ${cls}" data-calibration="${key}">${t("em.calibration." + key)}</span>`;
}

export async function render(el, ctx) {
  const writer = canRecord(ctx.me), admin = canEditTree(ctx.me);
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
      <div class="panel">${head("em.tree", "tree")}${admin ? `<button type="button" id="em-tree-edit">${t("em.f.edit_tree")}</button>` : ""}
        <div id="em-tree" class="scroll"></div></div>
      <div class="panel"><h3>${t("em.demand")}</h3><div id="em-demand" class="scroll"></div></div>
      <div class="panel">${head("em.changes", "changes")}<div id="em-changes" class="scroll"></div><div id="em-change-form"></div></div>
      <div class="panel span-2">${head("em.manual", "manual")}<div id="em-manual" class="scroll"></div>
        <div class="em-forms"><div id="em-reading-form"></div><div id="em-import-form"></div></div></div>
      <div class="panel span-2">${head("em.output", "output")}<div id="em-output" class="scroll"></div><div id="em-output-form"></div></div>
    </div>`;
  const costChart = chart(el.querySelector("#em-cost-chart"));
  const $ = (sel) => el.querySelector(sel);

  const csvLink = (name) => el.querySelector(`[data-csv="${name}"]`);
  let shown = { meters: [], all: [], readings: [], output: null };
  let editing = false;
  let dueSoon = new Map(); // meter code -> {due, overdue}: the API's calibration reminders
  let device = (id) => ctx.names.device(id) || String(id);

  async function load() {
    const m = $("#em-month").value || month;
    const first = `${m}-01`;
    const next = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)), 1));
    const lastOfMonth = new Date(next.getTime() - 86400000).toISOString().slice(0, 10);
    const today = parkDate(ctx.timezone);
    const last = lastOfMonth < today ? lastOfMonth : today;
    const range = { from: first, to: last < first ? first : last };
    const [tree, cost, balance, changes, manual, output, calibrations] = await Promise.allSettled([
      api.get(`/energy/parks/${ctx.park.park_id}/meters`),
      api.get(`/energy/enterprises/${entId}/cost`, { month: m }),
      api.get(`/energy/enterprises/${entId}/balance`, range),
      api.get(`/energy/enterprises/${entId}/changes`, range),
      api.get(`/energy/enterprises/${entId}/readings`, range),
      api.get(`/energy/enterprises/${entId}/output/${m}`),
      api.get(`/energy/parks/${ctx.park.park_id}/calibrations`),
    ]);
    if (tree.status === "rejected" && tree.reason?.status === 403) {
      el.querySelector(".grid").innerHTML = `<div class="empty" data-empty="1">${t("em.forbidden")}</div>`;
      return;
    }
    const tag = `${entId}-${m}`;
    shown = { all: tree.value?.meters || [], readings: manual.value?.readings || [], output: output.value || null };
    shown.meters = shown.all.filter((x) => x.enterprise_id === entId);
    device = deviceNamer(ctx, entId, shown.meters);
    dueSoon = new Map((calibrations.value?.due || []).map((c) => [c.code, c]));
    if (!editing) showTree(shown.meters, balance.value?.balances || []);
    offer(csvLink("tree"), tree.value ? treeCsv(shown.meters, balance.value?.balances || []) : null, `meters-${tag}.csv`);
    showCost(cost.value);
    showChanges(changes.value?.changes || []);
    offer(csvLink("changes"), changes.value ? changesCsv(changes.value.changes, ctx, device) : null, `meter-changes-${tag}.csv`);
    showManual(shown.readings);
    offer(csvLink("manual"), manual.value ? manualCsv(shown.readings, ctx, device) : null, `manual-readings-${tag}.csv`);
    showOutput(shown.output);
    offer(csvLink("output"), shown.output ? outputCsv(shown.output) : null, `unit-consumption-${tag}.csv`);
    if (writer && !formsFor) mountForms(m);
  }

  let formsFor = null; // the enterprise and month the forms were made for
  function mountForms(m) {
    formsFor = `${entId}-${m}`;
    const choices = deviceChoices(ctx, entId, shown.meters);
    readingForm($("#em-reading-form"), { choices, onDone: load });
    importForm($("#em-import-form"), { entId, onDone: load });
    changeForm($("#em-change-form"), { choices, onDone: load });
    outputForm($("#em-output-form"), { entId, month: m, outputs: shown.output?.products || [], onDone: load });
  }

  function showTree(meters, balances) {
    const loss = new Map(balances.map((b) => [b.parent, b.loss_pct]));
    $("#em-tree").innerHTML = table(
      [t("em.meter"), t("em.role"), t("em.parent"), t("em.counts"), `${t("em.loss")} %`, t("em.calibration")],
      meters.map((x) => [escape(x.code), t("em.role." + x.role), escape(x.parent || x.formula || "—"),
        t(x.counts ? "em.yes" : "em.no"), loss.has(x.code) ? num(loss.get(x.code), 1) : "—", calibration(x, dueSoon)]),
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
    $("#em-changes").innerHTML = table([t("em.meter"), t("em.at"), t("em.old_final"), t("em.new_initial"), t("em.f.serial"), t("em.by")],
      rows.map((c) => [escape(device(c.device_id)), time(c.at_ms), readingText(c.old_final),
        readingText(c.new_initial), escape(c.new_serial || "—"), escape(c.recorded_by)]));
  }

  function showManual(rows) {
    if ($("#em-manual .correction")) return; // a correction being typed is not wiped by the periodic refresh
    const code = (r) => ctx.metricById.get(r.metric_id)?.code;
    $("#em-manual").innerHTML = table([t("em.meter"), t("em.f.metric"), t("em.at"), t("em.value"), t("em.source"),
      t("em.by"), t("em.entered_at"), t("em.reason"), t("em.old_value"), ...(writer ? [""] : [])],
    rows.map((r) => [escape(device(r.device_id)), escape(metricName(code(r))), time(r.ts_ms),
      `${r.superseded_by ? `<s>${readingText(r.value)}</s> (${t("em.superseded")})` : readingText(r.value)} ${escape(unitOf(code(r)))}`,
      t("em.source." + r.source), escape(r.entered_by), r.entered_at ? time(Date.parse(r.entered_at)) : "—",
      escape(r.reason || ""), r.old_value != null ? readingText(r.old_value) : "",
      ...(writer ? [r.superseded_by ? "" : `<button type="button" data-correct="${r.reading_id}">${t("em.f.correct")}</button>`] : [])]));
    for (const [i, tr] of [...$("#em-manual").querySelectorAll("tbody tr")].entries()) tr.dataset.reading = rows[i].reading_id;
  }

  function showOutput(report) {
    const products = report?.products || [];
    const total = report?.tce_equivalent;
    $("#em-output").innerHTML = `<p class="kpi-line">${t("em.month_tce")}: <b id="em-tce">${total == null ? "—" : num(total, 3)}</b> tce</p>`
      + table([t("em.product"), t("em.quantity"), t("em.share"), `${t("em.unit_consumption")} kgce`, `${t("em.limit")} kgce`, t("em.level")],
        products.map((p) => [escape(p.product), `${num(p.quantity, 2)} ${escape(p.unit)}`, num(p.energy_share, 2),
          p.kgce_per_unit == null ? "—" : `${num(p.kgce_per_unit, 3)} / ${escape(p.unit)}`, p.limit_kgce == null ? "—" : num(p.limit_kgce, 3),
          p.above_limit == null ? "—" : `<span data-level="${p.above_limit ? "exceeded" : "ok"}">${t(p.above_limit ? "em.above_limit" : "em.within_limit")}</span>`]));
  }

  $("#em-manual").addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-correct]");
    if (!b) return;
    const tr = b.closest("tr");
    if (tr.nextElementSibling?.classList.contains("correction")) return;
    const reading = shown.readings.find((r) => String(r.reading_id) === b.dataset.correct);
    tr.insertAdjacentHTML("afterend", `<tr class="correction"><td colspan="${tr.children.length}"><div></div></td></tr>`);
    const row = tr.nextElementSibling;
    correctionForm(row.querySelector("div"), { ...reading, metric: ctx.metricById.get(reading.metric_id)?.code },
      { onDone: () => { row.remove(); return load(); } });
  });
  $("#em-tree-edit")?.addEventListener("click", () => {
    editing = true;
    const back = () => { editing = false; return load(); };
    treeForm($("#em-tree"), ctx, { all: shown.all, entId, month: $("#em-month").value || month, onDone: back, onCancel: back });
  });

  $("#em-ent").addEventListener("change", (ev) => { entId = Number(ev.target.value); formsFor = null; editing = false; load(); });
  $("#em-month").addEventListener("change", () => { formsFor = null; load(); });
  if (entId != null) $("#em-ent").value = String(entId);
  await load();
  return { refresh: load };
}
