// Enterprise: what an enterprise user sees (its own energy, devices and alarms); operators pick one.
import * as api from "../api.js";
import { activeAlarms, renderAlarmTable } from "../alarms.js";
import { escape, num, parkDate, parkMonth, time } from "../format.js";
import { t } from "../i18n.js";
import { carrierUnit, deviceName, metricName, unitOf } from "../names.js";
import { addDays, addMonths, periods } from "../stats.js";
import { completenessPanel } from "../completeness.js";
import "../i18n-energy.js";

const CARDS = [
  ...["electricity", "water", "natural_gas", "steam", "heat", "raw_coal"].map((c) => [c, () => carrierUnit(c)]),
  ["tce", () => t("unit.tce")], ["co2", () => t("unit.t")],
];

export const liveSelection = () => ({ metrics: [], alarms: true });

export async function render(el, ctx) {
  const own = ctx.me.enterprise_id;
  const choices = own ? ctx.enterprises.filter((e) => e.enterprise_id === own) : ctx.enterprises;
  let entId = own || Number(sessionStorage.getItem("smartpark.enterprise")) || choices[0]?.enterprise_id;
  if (!choices.some((e) => e.enterprise_id === entId)) entId = choices[0]?.enterprise_id;

  el.innerHTML = `
    <div class="toolbar"><h2 id="ent-name"></h2>
      <label>${t("ent.select")} <select id="ent-select" ${own ? "disabled" : ""}>${choices.map((e) =>
        `<option value="${e.enterprise_id}">${escape(e.name)}</option>`).join("")}</select></label>
      <a id="ent-meters" href="#/meters">${t("em.title")}</a></div>
    <div class="grid cols-8" id="ent-kpis"></div>
    <div class="grid cols-2 gap-top">
      <div class="panel"><h3>${t("ent.devices")}</h3><div id="ent-latest" class="scroll"></div></div>
      <div class="panel"><h3>${t("ent.alarms")}</h3><div id="ent-alarms"></div></div>
      <div class="panel span-2"><h3>${t("comp.title")}</h3><div class="comp-body" id="ent-completeness"></div></div>
    </div>`;
  const select = el.querySelector("#ent-select");
  let alarmTimer = null;

  async function loadAll() {
    const ent = ctx.entById.get(entId);
    el.querySelector("#ent-name").textContent = ent ? ent.name : "";
    select.value = String(entId);
    el.querySelector("#ent-meters").href = `#/meters?enterprise=${entId}`;
    // Every answer asked for at once: no panel waits for another's.
    await Promise.allSettled([loadKpis(), loadLatest(), loadAlarms(),
      completenessPanel(el.querySelector("#ent-completeness"), ctx, { enterpriseId: entId })]);
  }

  async function loadKpis() {
    const day = parkDate(ctx.timezone), mon = parkMonth(ctx.timezone);
    const [days, months] = await Promise.all([
      periods(ctx, "day", day, addDays(day, 1), { enterpriseId: entId }).catch(() => new Map()),
      periods(ctx, "month", mon, addMonths(mon, 1), { enterpriseId: entId }).catch(() => new Map()),
    ]);
    const today = days.get(day), month = months.get(mon);
    el.querySelector("#ent-kpis").innerHTML = CARDS.map(([k, unitOfCard]) => {
      const unit = escape(unitOfCard());
      return `<div class="panel kpi" data-kpi="${k}"><span class="name">${t("carrier." + k)}</span>
      <span class="value">${num(today?.[k])}<small>${unit}</small></span>
      <span class="sub"><span>${t("period.month")}</span><span>${num(month?.[k])} ${unit}</span></span></div>`;
    }).join("");
  }

  async function loadLatest() {
    const rows = await api.latest({ enterprise_id: entId });
    el.querySelector("#ent-latest").innerHTML = `<table><thead><tr><th>${t("common.device")}</th><th>${t("ent.metric")}</th>
      <th class="num">${t("ent.value")}</th><th>${t("ent.unit")}</th><th>${t("ent.ts")}</th></tr></thead><tbody>
      ${rows.map((r) => `<tr data-enterprise="${r.enterprise_id}"><td class="wrap"><a href="#/device?id=${r.device_id}">${escape(deviceName(ctx.devById.get(r.device_id)))}</a></td>
        <td class="wrap">${escape(metricName(r.metric))}</td><td class="num">${num(r.value, 2)}</td><td>${escape(unitOf(r.metric))}</td>
        <td>${time(r.ts)}</td></tr>`).join("")}</tbody></table>`;
  }

  async function loadAlarms() {
    const target = el.querySelector("#ent-alarms");
    try {
      const items = await activeAlarms({ enterprise_id: entId });
      renderAlarmTable(target, items, { canAck: ctx.canAck, names: ctx.names, onChanged: loadAlarms, oneEnterprise: true });
    } catch (err) {
      console.warn(err);
      target.innerHTML = `<div class="empty">${t("common.unavailable")}</div>`;
    }
  }

  select.addEventListener("change", () => {
    entId = Number(select.value);
    sessionStorage.setItem("smartpark.enterprise", String(entId));
    loadAll().catch(console.warn);
  });
  if (entId) await loadAll().catch(console.warn);
  alarmTimer = setInterval(() => { if (!document.querySelector("#ack-dialog")) loadAlarms(); }, 10000);
  return {
    onEvent(ev) { if (ev.type === "alarm" || ev.type === "alert") loadAlarms(); },
    async refresh() { await loadAll(); },
    destroy() { clearInterval(alarmTimer); },
  };
}
