// Region: every park's Article 12 class, Article 22 rank and flags, rank over the years and the
// packages not received (GET /region/results; the caller's scope: all parks, a league's, its own),
// with XLSX/CSV exports. On a park instance: the park's own results as the region published them.
import * as api from "../api.js";
import { download } from "../files.js";
import { escape, num } from "../format.js";
import { t } from "../i18n.js";
import "../i18n-region.js";

export const liveSelection = () => ({ metrics: [], alarms: false });

const lastYear = () => new Date().getFullYear() - 1;

function flags(r) {
  const out = [];
  if (r.rewarded) out.push(`<span class="badge ok">${t("region.rewarded")}</span>`);
  if (r.penalised) out.push(`<span class="badge bad">${t("region.penalised")}</span>`);
  if (r.downgrade_review) out.push(`<span class="badge bad">${t("region.downgrade").replace("{n}", r.below_class_years)}</span>`);
  if (!r.submitted) out.push(`<span class="badge">${t("region.not_submitted")}</span>`);
  return out.join(" ");
}

const klass = (c) => (c == null ? "–" : c === 0 ? t("region.class0") : String(c));

function row(r) {
  const trend = r.trend.map((y) => `${y.year}: ${y.rank ?? "–"}`).join(" · ");
  const missing = [...r.missing.annual, r.missing.monthly.length ? t("region.months").replace("{n}", r.missing.monthly.length) : ""]
    .filter(Boolean).join(", ");
  return `<tr data-park="${escape(r.code)}"><td class="num">${r.rank ?? "–"}</td><td class="name">${escape(r.name)}</td>
    <td>${escape(r.league)}</td><td>${klass(r.designated_class)}</td><td>${klass(r.park_class)}</td>
    <td class="num">${num(r.figures.output_value, 0)}</td><td class="num">${num(r.score, 1)}</td>
    <td class="wrap">${flags(r)}</td><td class="wrap">${escape(trend)}</td><td class="wrap">${escape(missing || "–")}</td></tr>`;
}

function myRow(m) {
  const r = m.result;
  return `<tr data-year="${m.year}"><td class="num">${m.year}</td><td class="num">${r.rank ?? "–"} / ${r.ranked_parks}</td>
    <td>${klass(r.designated_class)}</td><td>${klass(r.park_class)}</td><td class="num">${num(r.score, 1)}</td>
    <td class="wrap">${flags(r)}</td><td>${escape(String(m.published_at).slice(0, 10))}</td></tr>`;
}

/** A park instance: its results as published by the region (fetched by the outbox job). */
async function renderMine(el, park) {
  el.innerHTML = `<div class="toolbar"><h2>${t("region.mine")}</h2></div><div class="panel" id="region-mine"></div>`;
  const box = el.querySelector("#region-mine");
  async function load() {
    const rows = await api.get("/region/my-result", { park_id: park.park_id });
    box.innerHTML = rows.length ? `<table class="ranking region"><thead><tr><th>${t("region.year")}</th>
      <th>${t("region.rank")}</th><th>${t("region.designated")}</th><th>${t("region.class")}</th><th>${t("region.score")}</th>
      <th>${t("region.flags")}</th><th>${t("region.published")}</th></tr></thead><tbody>${rows.map(myRow).join("")}</tbody></table>`
      : `<div class="empty">${t("region.mine_none")}</div>`;
  }
  await load().catch((err) => { box.innerHTML = `<div class="empty">${escape(err.detail || err.message)}</div>`; });
  return { refresh: load };
}

export async function render(el, ctx) {
  if (ctx?.park) return renderMine(el, ctx.park);
  let year = lastYear();
  el.innerHTML = `
    <div class="toolbar"><h2>${t("region.title")}</h2>
      <label>${t("region.year")} <input id="region-year" type="number" min="2000" max="2100" value="${year}"></label>
      <button id="region-xlsx">${t("region.export_xlsx")}</button> <button id="region-csv">${t("region.export_csv")}</button></div>
    <div class="panel"><p class="muted" id="region-method"></p><div id="region-table"></div></div>`;
  const box = el.querySelector("#region-table");

  async function load() {
    const rows = await api.get("/region/results", { year });
    rows.sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || a.code.localeCompare(b.code));
    el.querySelector("#region-method").textContent = rows.some((r) => r.method?.assumption) ? t("region.assumption") : "";
    box.innerHTML = rows.length ? `<table class="ranking region"><thead><tr><th>${t("region.rank")}</th>
      <th>${t("region.park")}</th><th>${t("region.league")}</th><th>${t("region.designated")}</th><th>${t("region.class")}</th>
      <th>${t("region.output")}</th><th>${t("region.score")}</th><th>${t("region.flags")}</th><th>${t("region.trend")}</th>
      <th>${t("region.missing")}</th></tr></thead><tbody>${rows.map(row).join("")}</tbody></table>`
      : `<div class="empty">${t("region.none")}</div>`;
  }

  for (const format of ["xlsx", "csv"]) {
    el.querySelector(`#region-${format}`).addEventListener("click", () => {
      download("/region/results/export", { year, format }, `region-${year}.${format}`)
        .catch((err) => { box.insertAdjacentHTML("afterbegin", `<div class="error">${escape(err.detail || err.message)}</div>`); });
    });
  }

  el.querySelector("#region-year").addEventListener("change", (ev) => {
    year = Number(ev.target.value) || lastYear();
    load().catch((err) => { box.innerHTML = `<div class="empty">${escape(err.detail || err.message)}</div>`; });
  });
  await load().catch((err) => { box.innerHTML = `<div class="empty">${escape(err.detail || err.message)}</div>`; });
  return { refresh: load };
}
