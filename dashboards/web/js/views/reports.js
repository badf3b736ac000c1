// Reports and exports: downloads of each kind of data, the stored report packs, and economic
// reports (a form for an enterprise's month, the XLSX template and its import with per-cell errors).
import { get, call } from "../api.js";
import { download, upload } from "../files.js";
import { escape, parkDate, parkMonth } from "../format.js";
import { t } from "../i18n.js";
import { parkInstant as instant } from "../view-export.js";

export const liveSelection = () => ({ metrics: [], alarms: false });
const KINDS = ["telemetry", "statistics", "alarms", "rejected", "completeness"];
const FIGURES = ["output_value", "value_added", "tax", "fixed_asset_investment", "employees", "rd_expense"];
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const nextDay = (day) => new Date(Date.parse(day + "T00:00:00Z") + 86400000).toISOString().slice(0, 10);

export async function render(el, ctx) {
  const me = ctx.me;
  const kinds = KINDS.filter((k) => !(k === "rejected" && me.role === "regulator"));
  const canOperate = ["admin", "operator"].includes(me.role);
  const canFile = canOperate || me.role === "enterprise";
  const today = parkDate(ctx.timezone), yesterday = parkDate(ctx.timezone, -1);
  el.innerHTML = `
    <div class="toolbar"><h2>${t("rep.title")}</h2></div>
    <div class="grid cols-2">
      <div class="panel"><h3>${t("rep.export")}</h3>
        <form id="rep-export" class="alarm-filters">
          <label>${t("rep.kind")} <select name="kind">${kinds.map((k) => `<option value="${k}">${t("rep.k." + k)}</option>`).join("")}</select></label>
          <label>${t("rep.from")} <input type="date" name="from" value="${yesterday}" required></label>
          <label>${t("rep.to")} <input type="date" name="to" value="${today}" required></label>
          <label>${t("rep.interval")} <select name="interval"><option>15m</option><option>1h</option><option>1d</option><option>raw</option></select></label>
          <label>${t("rep.period")} <select name="period"><option>day</option><option>month</option><option>year</option></select></label>
          <label>${t("rep.format")} <select name="format"><option>xlsx</option><option>csv</option></select></label>
          <button class="primary" type="submit">${t("rep.download")}</button>
        </form><div class="error" id="rep-export-error"></div></div>
      <div class="panel"><h3>${t("rep.packs")}</h3>
        ${canOperate ? `<form id="rep-generate" class="alarm-filters">
          <select name="kind"><option value="daily">${t("rep.daily")}</option><option value="monthly">${t("rep.monthly")}</option></select>
          <input type="date" name="period" value="${yesterday}" required>
          <button type="submit">${t("rep.generate")}</button></form>` : ""}
        <div id="rep-packs"></div></div>
      ${canFile ? `<div class="panel span-2"><h3>${t("rep.economic")}</h3>
        <div class="alarm-filters"><button id="rep-template">${t("rep.template")}</button>
          <label>${t("rep.import")} <input type="file" id="rep-file" accept=".xlsx,${XLSX}"></label></div>
        ${me.role === "enterprise" ? `<form id="rep-econ" class="alarm-filters">
          <label>${t("rep.month")} <input type="month" name="month" value="${parkMonth(ctx.timezone, -1).slice(0, 7)}" required></label>
          ${FIGURES.map((f) => `<label>${t("econ." + f)} <input type="number" step="any" name="${f}"></label>`).join("")}
          <label>${t("econ.main_products")} <input type="text" name="main_products" maxlength="500"></label>
          <button class="primary" type="submit">${t("rep.save")}</button></form>` : ""}
        <div id="rep-econ-result"></div></div>` : ""}
    </div>`;
  const $ = (sel) => el.querySelector(sel);

  $("#rep-export").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const base = { format: f.format, park_id: ctx.park?.park_id, enterprise_id: me.enterprise_id };
    const query = {
      telemetry: { ...base, interval: f.interval, from: instant(f.from), to: instant(nextDay(f.to)) },
      statistics: { ...base, period: f.period, from: f.from, to: nextDay(f.to), park_id: me.enterprise_id ? undefined : base.park_id },
      alarms: { ...base, from: instant(f.from), to: instant(nextDay(f.to)) },
      rejected: { ...base, from: instant(f.from), to: instant(nextDay(f.to)) },
      completeness: { ...base, from: f.from, to: f.to },
    }[f.kind];
    $("#rep-export-error").textContent = "";
    try { await download(`/exports/${f.kind}`, query, `${f.kind}.${f.format}`); }
    catch (err) { $("#rep-export-error").textContent = err.detail || err.message; }
  });

  async function loadPacks() {
    const page = await get("/reports", { limit: 50 });
    $("#rep-packs").innerHTML = page.items.length ? `<table><tbody>${page.items.map((r) => `
      <tr><td class="wrap">${escape(r.title)}</td><td>${r.emailed_at ? t("rep.mailed") : ""}</td>
      <td><button data-id="${r.report_id}" data-format="pdf">PDF</button>
      <button data-id="${r.report_id}" data-format="xlsx">XLSX</button></td></tr>`).join("")}</tbody></table>`
      : `<div class="empty">${t("rep.none")}</div>`;
  }
  $("#rep-packs").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-id]");
    if (b) download(`/reports/${b.dataset.id}/file`, { format: b.dataset.format }).catch(console.warn);
  });
  $("#rep-generate")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    await call("POST", "/reports", { body: { kind: f.kind, period: f.period, park_id: ctx.park.park_id } });
    await loadPacks();
  });

  const result = $("#rep-econ-result");
  function showErrors(err) {
    const rows = (err.errors || []).map((e) => `<tr><td>${escape(e.cell)}</td><td>${escape(e.column)}</td><td class="wrap">${escape(e.message)}</td></tr>`);
    result.innerHTML = `<div class="error">${escape(err.detail || err.message)}</div>`
      + (rows.length ? `<table><thead><tr><th>${t("rep.cell")}</th><th>${t("rep.column")}</th><th>${t("rep.error")}</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : "");
  }
  $("#rep-template")?.addEventListener("click", () => download("/economic-reports/template", { month: parkMonth(ctx.timezone, -1) }).catch(showErrors));
  $("#rep-file")?.addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try { const out = await upload("/economic-reports/import.xlsx", file, XLSX); result.textContent = `${t("rep.imported")}: ${out.imported}`; }
    catch (err) { showErrors(err); }
    ev.target.value = "";
  });
  $("#rep-econ")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ev.target));
    const body = Object.fromEntries(FIGURES.map((k) => [k, f[k] === "" ? null : Number(f[k])]));
    body.main_products = f.main_products.trim() || null;
    try { await call("PUT", `/economic-reports/${me.enterprise_id}/${f.month}-01`, { body }); result.textContent = t("rep.saved"); }
    catch (err) { showErrors(err); }
  });

  await loadPacks();
  return { refresh: loadPacks };
}
