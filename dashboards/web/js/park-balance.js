// The park's energy balance over the last seven days (GET /energy/parks/{id}/balance): each intake
// meter against the enterprises' main meters under it, per carrier — the loss, the hours beyond
// the limits and, for water, the nights whose minimum flow points to a leak — with the hourly
// loss % drawn against the loss limit. Electricity and water: the carriers a park buys by intake.
import * as api from "./api.js";
import { draw, lineOption } from "./charts.js";
import { escape, num, parkDate } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-energy.js";
import { carrierUnit } from "./names.js";
import { addDays } from "./stats.js";

const CARRIERS = ["electricity", "water"];
const DAYS = 7;
const HOUR_MS = 3_600_000;
const sum = (xs) => (xs || []).reduce((a, b) => a + (b ?? 0), 0);

/** Fill `box` (a table) and `c` (a chart) with the balances of the park's intakes. */
export async function parkBalance(box, c, ctx) {
  const last = parkDate(ctx.timezone);
  const query = { from: addDays(last, -(DAYS - 1)), to: last };
  const answers = await Promise.allSettled(CARRIERS.map((carrier) =>
    api.get(`/energy/parks/${ctx.park.park_id}/balance`, { ...query, carrier })));
  const refused = answers.find((a) => a.status === "rejected");
  if (refused && refused.reason?.status === 403) {
    box.innerHTML = `<div class="empty" data-empty="1">${t("em.forbidden")}</div>`;
    draw(c, lineOption([]), true);
    return;
  }
  const balances = answers.flatMap((a) => (a.status === "fulfilled" ? a.value.balances : []));
  if (!balances.length) {
    box.innerHTML = `<div class="empty" data-empty="1">${t("pb.no_intake")}</div>`;
    draw(c, lineOption([]), true);
    return;
  }
  box.innerHTML = `<table class="park-balance"><thead><tr><th>${t("pb.intake")}</th><th class="num">${t("pb.in")}</th>
    <th class="num">${t("pb.out")}</th><th class="num">${t("pb.loss")}</th><th class="num">${t("pb.loss_pct")}</th>
    <th class="num">${t("pb.hours_over")}</th><th class="num">${t("pb.leak_nights")}</th></tr></thead><tbody>
    ${balances.map(row).join("")}</tbody></table>`;
  const limit = balances[0].limits_pct.loss;
  const start = Math.min(...balances.map((b) => b.start_ms));
  const hours = Math.max(...balances.map((b) => b.loss_pct_hourly.length));
  draw(c, lineOption([
    ...balances.map((b) => ({ name: `${t("carrier." + b.carrier)} ${b.parent}`,
      data: b.loss_pct_hourly.map((v, i) => [b.start_ms + i * HOUR_MS, v]) })),
    { name: t("pb.limit"), data: [[start, limit], [start + hours * HOUR_MS, limit]], lineStyle: { type: "dashed" }, smooth: false },
  ], { unit: "%", days: true }), false);
}

function row(b) {
  const unit = escape(carrierUnit(b.carrier));
  const inflow = sum(b.parent_hourly), outflow = sum(b.children_hourly);
  const leaks = b.night_flow ? b.night_flow.leak.filter(Boolean).length : null;
  const over = b.alarm_hours.length;
  return `<tr data-intake="${escape(b.parent)}" data-carrier="${escape(b.carrier)}">
    <td class="name">${t("carrier." + b.carrier)} · ${escape(b.parent)}</td>
    <td class="num">${num(inflow, 1)} ${unit}</td><td class="num">${num(outflow, 1)} ${unit}</td>
    <td class="num">${num(inflow - outflow, 1)} ${unit}</td><td class="num">${b.loss_pct == null ? "—" : num(b.loss_pct, 2)}</td>
    <td class="num${over ? " bad" : ""}">${over}</td>
    <td class="num${leaks ? " bad" : ""}">${leaks == null ? "—" : leaks}</td></tr>`;
}
