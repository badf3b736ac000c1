// The incidents list of the safety view (and the emergency bureau's regulator view): open
// incidents first, each linking to its page (/incident/?id=N); and the "open incident" button
// that operators get on a firing safety alarm of the alarm list.
import { get, post } from "./api.js";
import { escape, zoneLabel } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-emergency.js";

const OPEN = ["reported", "responding", "controlled"];
const LIMIT = 100;
export const incidentUrl = (id) => `incident/?id=${encodeURIComponent(id)}`;

/** Who gets the list: everyone but a regulator without the emergency bureau (403). */
export const seesIncidents = (ctx) => ctx.me.role !== "regulator" || (ctx.me.bureaus || []).includes("emergency");
export const opensIncidents = (ctx) => ["admin", "operator"].includes(ctx.me.role);

/** "1:05" (h:mm) from the first alarm to now, or to the closing of a closed incident. */
export function sinceFirstAlarm(inc, now = Date.now()) {
  const start = Date.parse(inc.first_alarm_at || inc.opened_at);
  const end = inc.closed_at ? Date.parse(inc.closed_at) : now;
  const min = Math.max(0, Math.floor((end - start) / 60000));
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, "0")}`;
}

/** Open incidents first, then newest first. */
export function ordered(items) {
  const rank = (i) => (OPEN.includes(i.state) ? 0 : 1);
  return [...items].sort((a, b) => rank(a) - rank(b) || String(b.opened_at).localeCompare(String(a.opened_at)));
}

export async function incidentsPanel(el, ctx) {
  async function load() {
    const query = { limit: LIMIT, ...(ctx.park ? { park_id: ctx.park.park_id } : {}) };
    const items = ordered((await get("/emergency/incidents", query)).items || []);
    if (!items.length) { el.innerHTML = `<div class="empty" data-empty="1">${t("emg.none")}</div>`; return; }
    const rows = items.map((i) => `<tr data-incident="${escape(i.incident_id)}" data-state="${escape(i.state)}" class="${OPEN.includes(i.state) ? "open" : "muted"}">
      <td><a href="${incidentUrl(i.incident_id)}">#${escape(i.incident_id)} ${escape(i.title)}</a>${i.drill ? ` <span class="tag">${t("emg.drill")}</span>` : ""}</td>
      <td><span class="tag level-${escape(i.level)}">${escape(t("emg.level_" + i.level))}</span></td>
      <td>${escape(t("emg.state_" + i.state))}</td><td>${escape(i.commander || "—")}</td>
      <td class="num">${escape(sinceFirstAlarm(i))}</td></tr>`);
    el.innerHTML = `<div class="scroll incidents-box"><table class="incidents"><thead><tr><th>${t("emg.title")}</th>
      <th>${t("emg.level")}</th><th>${t("emg.state")}</th><th>${t("emg.commander")}</th>
      <th class="num" title="${escape(zoneLabel())}">${t("emg.since")} (h:mm)</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
  }
  await load().catch((err) => { console.warn(err); el.innerHTML = `<div class="empty">${t("common.unavailable")}</div>`; });
  const timer = setInterval(() => load().catch(console.warn), 10000);
  return { load, stop: () => clearInterval(timer) };
}

/** The alarm list's extra button: a firing safety alarm opens an incident (operators). */
export const openIncidentButton = (a) => (a.category === "safety" && a.state === "firing"
  ? `<button type="button" class="open-incident" data-open-incident="${escape(a.alert_id)}">${t("emg.open")}</button>` : "");

/** Clicks on those buttons, under `root`: open the incident, then go to its page. */
export function wireOpenIncident(root) {
  root.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-open-incident]");
    if (!b || !window.confirm(t("emg.open_confirm"))) return;
    b.disabled = true;
    try {
      const inc = await post("/emergency/incidents", { alert_ids: [Number(b.dataset.openIncident)] });
      location.href = incidentUrl(inc.incident_id);
    } catch (err) {
      b.disabled = false;
      b.title = err.detail || err.message;
      b.textContent = `${t("emg.open")} ✕`;
    }
  });
}
