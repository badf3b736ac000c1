// The alarm list with acknowledge + comment, shared by the safety, enterprise and regulator views.
import { acknowledge, alarms as fetchAlarms } from "./api.js";
import { escape, time } from "./format.js";
import { currentLang, t } from "./i18n.js";
import { metricName, withUnit } from "./names.js";
import { showAlarmDetail } from "./paging.js";

const ACTIVE = ["firing"]; // acknowledged alarms stay firing (acknowledged_at set) until resolved

export const alarmId = (a) => a.alert_id;
/** firing | acknowledged | resolved, as shown. */
export const shownState = (a) => (a.state === "firing" && a.acknowledged_at ? "acknowledged" : a.state);
const startedAt = (a) => a.firing_at ?? a.started_at;

/** What the alarm is about, in the page's language: the rules' summaries are English. */
export const summaryOf = (a) => (currentLang() === "zh" ? `${metricName(a.metric)}${t("alarms.abnormal")}` : a.summary || metricName(a.metric));

/** Active alarms in scope (firing first, newest first). */
export async function activeAlarms(query = {}) {
  const page = await fetchAlarms({ state: ACTIVE, limit: 500, ...query });
  const items = Array.isArray(page) ? page : page.items || [];
  const rank = (a) => (shownState(a) === "firing" ? 0 : 1);
  return items.sort((a, b) => rank(a) - rank(b)
    || String(startedAt(b)).localeCompare(String(startedAt(a))));
}

/**
 * Render `items` into `el` as a table; `canAck` shows the acknowledge button on firing alarms.
 * `names` maps enterprise/device ids to display names; `extra(a)` adds buttons to a row's actions.
 */
export function renderAlarmTable(el, items, { canAck, names, onChanged, oneEnterprise = false, extra = null }) {
  if (!items.length) {
    el.innerHTML = `<div class="empty" data-empty="1">${t("alarms.none")}</div>`;
    return;
  }
  const rows = items.map((a) => {
    const id = alarmId(a);
    const ent = names.enterprise(a.enterprise_id) || "";
    const dev = names.device(a.device_id) || "";
    const state = shownState(a);
    const ack = canAck && state === "firing"
      ? `<button class="ack" data-alarm="${escape(id)}">${t("alarms.ack")}</button>`
      : `<span class="muted user">${state === "acknowledged" ? escape(a.acknowledged_by ?? "") : ""}</span>`;
    return `<tr data-alarm-row="${escape(id)}" data-state="${escape(state)}" data-category="${escape(a.category)}" data-severity="${escape(a.severity)}">
      <td>${time(startedAt(a))}</td>
      <td><span class="tag sev-${escape(a.severity)}">${t("sev." + a.severity)}</span></td>
      <td>${t("state." + state)}</td>
      ${oneEnterprise ? "" : `<td>${escape(ent)}</td>`}<td>${escape(dev)}</td>
      <td class="summary">${escape(summaryOf(a))}</td>
      <td class="num wrap">${escape(withUnit(a.metric, a.value ?? a.trigger_value, 2))}</td>
      <td>${ack}${extra ? extra(a) : ""}<button class="detail" data-detail="${escape(id)}">${t("paging.detail")}</button></td></tr>`;
  });
  el.innerHTML = `<div class="scroll alarms-box"><table class="alarms"><thead><tr>
    <th>${t("alarms.time")}</th><th>${t("alarms.severity")}</th><th>${t("alarms.state")}</th>
    ${oneEnterprise ? "" : `<th>${t("alarms.enterprise")}</th>`}<th>${t("alarms.device")}</th><th>${t("alarms.summary")}</th>
    <th class="num">${t("alarms.value")}</th><th>${t("alarms.action")}</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
  for (const btn of el.querySelectorAll("button.ack")) {
    btn.addEventListener("click", () => ackDialog(btn.dataset.alarm, onChanged));
  }
  for (const btn of el.querySelectorAll("button.detail")) {
    const a = items.find((x) => String(alarmId(x)) === btn.dataset.detail);
    btn.addEventListener("click", () => showAlarmDetail(btn.dataset.detail, a ? summaryOf(a) : ""));
  }
}

/** Ask for a comment and acknowledge the alarm. */
function ackDialog(id, onChanged) {
  const dlg = document.createElement("dialog");
  dlg.id = "ack-dialog";
  dlg.innerHTML = `<form method="dialog">
    <h3>${t("alarms.ack_title")} #${escape(id)}</h3>
    <label>${t("alarms.comment")}<textarea name="comment" maxlength="1000" required></textarea></label>
    <p class="error" role="alert"></p>
    <div class="row"><button value="cancel" type="button" class="cancel">${t("alarms.cancel")}</button>
    <button class="primary" type="submit">${t("alarms.ack")}</button></div></form>`;
  document.body.append(dlg);
  const form = dlg.querySelector("form");
  dlg.querySelector(".cancel").addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => dlg.remove());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await acknowledge(id, form.comment.value.trim());
      dlg.close();
      onChanged?.();
    } catch (err) {
      dlg.querySelector(".error").textContent = err.detail || err.message;
    }
  });
  dlg.showModal();
  form.comment.focus();
}
