// Paging on the page: an alarm's notification log (every delivery attempt with its channel, the
// target as the API masks it, result, latency and time in the park's zone, and where its
// escalations stand) in a dialog, and the "on duty now" panel (one answer for every roster).
import { all, get } from "./api.js";
import { escape, num, time, zoneLabel } from "./format.js";
import { t } from "./i18n.js";

const LOG_POLL_MS = 5000; // the log grows while an escalation runs: re-read while it is open
const DUTY_POLL_MS = 60_000; // a hand-off happens on the minute at the earliest
const CHANNELS = ["email", "wecom", "dingtalk", "feishu", "sms"];
const WHY = ["rotation", "override", "holiday", "invalid"];
const DONE = ["acknowledged", "resolved", "policy gone"];

/** Rosters are operators' (and admins') data: other roles have no panel. */
export const seesDuty = (ctx) => ["admin", "operator"].includes(ctx.me.role);

const channelName = (c) => (CHANNELS.includes(c) ? t(`paging.ch_${c}`) : c);
const whyName = (w) => (WHY.includes(w) ? t(`paging.why_${w}`) : w);
const doneName = (w) => (DONE.includes(w) ? t(`paging.done_${w.replace(" ", "_")}`) : w ?? "");

/** Who is on duty now on every roster, into `el`; returns {load, stop}. */
export async function onDutyPanel(el, ctx) {
  const load = async () => {
    const rows = await all("/notify/on-duty", { park_id: ctx.park?.park_id });
    el.innerHTML = rows.length
      ? `<table class="on-duty"><thead><tr><th>${t("paging.roster")}</th><th>${t("paging.member")}</th>
          <th>${t("paging.why")}</th><th>${t("paging.shift")}</th></tr></thead><tbody>${rows.map((r) => `
          <tr data-roster="${escape(r.roster_id)}" data-member="${escape(r.member ?? "")}">
            <td>${escape(r.roster)}</td><td class="${r.member ? "" : "st-bad"}">${escape(r.member ?? "—")}</td>
            <td>${escape(whyName(r.why))}</td><td>${escape(r.shift_date ?? "—")}</td></tr>`).join("")}</tbody></table>`
      : `<div class="empty" data-empty="1">${t("paging.no_rosters")}</div>`;
    el.dataset.loaded = String(Date.now());
  };
  await load().catch((err) => { console.warn(err); el.innerHTML = `<div class="empty">${t("common.unavailable")}</div>`; });
  const timer = setInterval(() => load().catch(console.warn), DUTY_POLL_MS);
  return { load, stop: () => clearInterval(timer) };
}

function attemptsTable(attempts) {
  if (!attempts.length) return `<div class="empty" data-empty="1">${t("paging.no_attempts")}</div>`;
  const zone = zoneLabel(Date.parse(attempts[0].at));
  const rows = attempts.map((a) => `<tr data-attempt="${escape(a.attempt_id)}" data-result="${escape(a.result)}">
    <td>${time(a.at)}</td><td>${escape(channelName(a.channel))}</td><td>${escape(a.receiver ?? "")}</td>
    <td class="target">${escape(a.target)}</td>
    <td class="${a.result === "ok" ? "st-ok" : "st-bad"}">${t(a.result === "ok" ? "paging.ok" : "paging.failed")}</td>
    <td class="num">${num(a.latency_ms, 0)} ms</td><td class="num">${escape(a.alarms_in_message)}</td>
    <td class="wrap error-text">${escape(a.error ?? "")}</td></tr>`);
  return `<table class="notify-log"><thead><tr><th>${t("alarms.time")} (${escape(zone)})</th>
    <th>${t("paging.channel")}</th><th>${t("paging.receiver")}</th><th>${t("paging.target")}</th>
    <th>${t("paging.result")}</th><th class="num">${t("paging.latency")}</th><th class="num">${t("paging.carried")}</th>
    <th>${t("paging.error")}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function escalationsTable(escalations) {
  if (!escalations.length) return "";
  const rows = escalations.map((e) => `<tr data-policy="${escape(e.policy)}">
    <td>${escape(e.policy)}</td><td class="num">${escape(e.level)}</td><td class="num">${escape(e.repeats)}</td>
    <td>${e.done_at ? "—" : time(e.next_at)}</td><td>${e.done_at ? `${time(e.done_at)} ${escape(doneName(e.done_why))}` : ""}</td></tr>`);
  return `<h4>${t("paging.escalations")}</h4><table class="escalations"><thead><tr><th>${t("paging.policy")}</th>
    <th class="num">${t("paging.level")}</th><th class="num">${t("paging.repeats")}</th><th>${t("paging.next")}</th>
    <th>${t("paging.done")}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The alarm's detail: its notification log and escalations, in a dialog re-read while open. */
export function showAlarmDetail(id, title = "") {
  document.querySelector("#alarm-detail")?.close();
  const dlg = document.createElement("dialog");
  dlg.id = "alarm-detail";
  dlg.className = "wide";
  dlg.dataset.alarm = String(id);
  dlg.innerHTML = `<h3>#${escape(id)} ${escape(title)}</h3><h4>${t("paging.log")}</h4>
    <div class="scroll log-box"><div class="empty">${t("common.loading")}</div></div>
    <div class="esc-box"></div><div class="row"><button type="button" class="close">${t("paging.close")}</button></div>`;
  document.body.append(dlg);
  const load = async () => {
    const log = await get(`/alarms/${encodeURIComponent(id)}/notifications`);
    dlg.querySelector(".log-box").innerHTML = attemptsTable(log.attempts);
    dlg.querySelector(".esc-box").innerHTML = escalationsTable(log.escalations);
    dlg.dataset.loaded = String(Date.now());
  };
  const fail = (err) => {
    console.warn(err);
    dlg.querySelector(".log-box").innerHTML = `<div class="empty">${t("common.unavailable")}</div>`;
  };
  const timer = setInterval(() => load().catch(fail), LOG_POLL_MS);
  dlg.querySelector(".close").addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => { clearInterval(timer); dlg.remove(); });
  dlg.showModal();
  load().catch(fail);
  return dlg;
}
