// The alarm list with filters (severity, category, state, enterprise) and a sort, severity
// colours, and the sound of a new critical alarm. Filters go to the API as its query; the sort
// is the page's. Used by the safety and regulator views.
import { alarms as fetchAlarms } from "./api.js";
import { renderAlarmTable } from "./alarms.js";
import { newCritical, play, soundButton } from "./alarm-sound.js";
import { escape } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-ops.js";

const SEVERITIES = ["critical", "major", "minor", "warning"];
const RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i]));
const STATES = ["active", "firing", "acknowledged", "resolved"];
const POLL_MS = 5000;
const LIMIT = 500;

/** The API query of a filter choice. "active" is firing, acknowledged or not. */
export function queryOf(f, scope = {}) {
  const q = { limit: LIMIT, ...scope };
  if (f.severity) q.severity = [f.severity];
  if (f.category) q.category = f.category;
  if (f.enterprise) q.enterprise_id = Number(f.enterprise);
  if (f.state === "resolved") q.state = ["resolved"];
  else {
    q.state = ["firing"];
    if (f.state === "firing") q.acknowledged = false;
    if (f.state === "acknowledged") q.acknowledged = true;
  }
  return q;
}

const startedAt = (a) => String(a.firing_at ?? a.started_at ?? "");
/** Sort by time (newest first) or severity (highest first, then newest). */
export function sortAlarms(items, by) {
  const time = (a, b) => startedAt(b).localeCompare(startedAt(a));
  return [...items].sort(by === "severity" ? (a, b) => RANK[a.severity] - RANK[b.severity] || time(a, b) : time);
}

/**
 * Mount the list in `el`. `categories` are the categories offered (one: no category filter);
 * `scope` fixed query terms (e.g. {category: "safety"}); enterprises come from ctx.
 */
export async function alarmList(el, ctx, { categories = ["safety", "emissions", "environment", "energy"], scope = {}, key = "alarms", extra = null } = {}) {
  const stored = JSON.parse(sessionStorage.getItem(`smartpark.filter.${key}`) || "{}");
  const f = { severity: "", category: "", state: "active", enterprise: "", sort: "time", ...stored };
  const opt = (v, label, cur) => `<option value="${escape(v)}"${String(cur) === String(v) ? " selected" : ""}>${escape(label)}</option>`;
  const ents = ctx.me.enterprise_id ? [] : ctx.enterprises;
  el.innerHTML = `<div class="alarm-filters">
      <label>${t("filter.severity")} <select name="severity">${opt("", t("filter.all"), f.severity)}${SEVERITIES.map((s) => opt(s, t("sev." + s), f.severity)).join("")}</select></label>
      ${categories.length > 1 ? `<label>${t("filter.category")} <select name="category">${opt("", t("filter.all"), f.category)}${categories.map((c) => opt(c, t("category." + c), f.category)).join("")}</select></label>` : ""}
      <label>${t("filter.state")} <select name="state">${STATES.map((s) => opt(s, t("state." + s), f.state)).join("")}</select></label>
      ${ents.length ? `<label>${t("filter.enterprise")} <select name="enterprise">${opt("", t("filter.all"), f.enterprise)}${ents.map((e) => opt(e.enterprise_id, e.name, f.enterprise)).join("")}</select></label>` : ""}
      <label>${t("filter.sort")} <select name="sort">${opt("time", t("sort.time"), f.sort)}${opt("severity", t("sort.severity"), f.sort)}</select></label>
      <span class="alarm-count" data-role="count"></span></div><div data-role="table"></div>`;
  el.querySelector(".alarm-filters").append(soundButton());
  const table = el.querySelector("[data-role=table]");
  const seen = new Set();
  let first = true;
  let generation = 0;

  async function load() {
    const mine = ++generation;
    const query = queryOf(f, { ...scope });
    if (!query.category && categories.length === 1) query.category = categories[0];
    const page = await fetchAlarms(query);
    if (mine !== generation) return; // a newer filter's answer wins
    let items = page.items || [];
    if (categories.length && !query.category) items = items.filter((a) => categories.includes(a.category));
    if (newCritical(items, seen, first).length) play();
    first = false;
    el.querySelector("[data-role=count]").textContent = String(items.length);
    renderAlarmTable(table, sortAlarms(items, f.sort), { canAck: ctx.canAck, names: ctx.names, onChanged: load, extra });
    table.dataset.filter = JSON.stringify(query);
    table.dataset.sort = f.sort;
  }

  el.querySelector(".alarm-filters").addEventListener("change", (ev) => {
    const name = ev.target.name;
    if (!name) return;
    f[name] = ev.target.value;
    sessionStorage.setItem(`smartpark.filter.${key}`, JSON.stringify(f));
    load().catch(console.warn);
  });
  await load().catch((err) => { console.warn(err); table.innerHTML = `<div class="empty">${t("common.unavailable")}</div>`; });
  const timer = setInterval(() => { if (!document.querySelector("#ack-dialog")) load().catch(console.warn); }, POLL_MS);
  return { load, stop: () => clearInterval(timer) };
}
