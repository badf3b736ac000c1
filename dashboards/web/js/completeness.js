// Online rate and data completeness (the regulators' transmission, validity and effective rates,
// GET /completeness) for today, with the gaps listed: the park's enterprises (or one enterprise's
// devices) that owe readings or are offline, worst first. Two API answers.
import * as api from "./api.js";
import { escape, num, parkDate } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-ops.js";
import { deviceName } from "./names.js";

const rate = (x) => (x == null ? "—" : `${(x * 100).toFixed(1)}%`);
const GAP_ROWS = 12;

/** Sum rows of the completeness answer into one (the park's, or an enterprise's). */
export function total(rows) {
  const s = rows.reduce((a, r) => ({ expected: a.expected + r.expected, received: a.received + r.received, valid: a.valid + r.valid }),
    { expected: 0, received: 0, valid: 0 });
  return {
    ...s,
    transmission_rate: s.expected ? Math.min(1, s.received / s.expected) : null,
    validity_rate: s.received ? s.valid / s.received : null,
    effective_rate: s.expected ? Math.min(1, s.valid / s.expected) : null,
  };
}

/**
 * Gaps, worst first: groups owing readings (received < expected) or with offline devices.
 * `rows` are completeness rows keyed by `key` (enterprise | device); `offline` maps the same ids
 * to their count of offline devices.
 */
export function gaps(rows, key, offline = new Map()) {
  const out = [];
  const ids = new Set([...rows.map((r) => r[key]), ...offline.keys()]);
  const byId = new Map(rows.map((r) => [r[key], r]));
  for (const id of ids) {
    const r = byId.get(id);
    const missing = r ? Math.max(0, Math.round(r.expected - r.received)) : 0;
    const off = offline.get(id) || 0;
    if (missing > 0 || off > 0) out.push({ id, missing, offline: off, rate: r?.transmission_rate ?? null });
  }
  return out.sort((a, b) => (a.rate ?? 2) - (b.rate ?? 2) || b.offline - a.offline || b.missing - a.missing);
}

/**
 * Draw the panel into `el`; `enterpriseId` narrows it to one enterprise and lists its devices.
 * `states`: the park's device-states answer (a promise) when the view asks for it anyway.
 */
export async function completenessPanel(el, ctx, { enterpriseId = null, states: statesP = null } = {}) {
  const today = parkDate(ctx.timezone);
  const parkId = ctx.park?.park_id ?? ctx.entById.get(enterpriseId)?.park_id;
  const key = enterpriseId ? "device" : "enterprise";
  const [rows, states] = await Promise.all([
    api.get("/completeness", { from: today, to: today, by: key, period: "range", park_id: enterpriseId ? undefined : parkId, enterprise_id: enterpriseId ?? undefined }),
    statesP || api.get(`/parks/${parkId}/device-states`),
  ]);
  const d = states.devices;
  const offline = new Map();
  let on = 0, all = 0;
  for (let i = 0; i < d.device_id.length; i++) {
    if (enterpriseId && d.enterprise_id[i] !== enterpriseId) continue;
    all += 1;
    if (d.online[i]) { on += 1; continue; }
    const id = enterpriseId ? d.device_id[i] : d.enterprise_id[i];
    offline.set(id, (offline.get(id) || 0) + 1);
  }
  const sum = total(rows);
  const list = gaps(rows, key, offline);
  const name = (id) => (enterpriseId ? deviceName(ctx.devById.get(id)) : ctx.entById.get(id)?.name ?? "");
  const link = (id) => (enterpriseId ? `<a href="#/device?id=${id}">${escape(name(id))}</a>` : escape(name(id)));
  el.dataset.online = `${on}/${all}`;
  el.dataset.gaps = String(list.length);
  el.innerHTML = `<div class="comp-kpis">
      <span class="comp-kpi" data-role="online-rate"><em>${t("comp.online_rate")}</em><b>${all ? rate(on / all) : "—"}</b><small>${on} / ${all}</small></span>
      <span class="comp-kpi" data-role="transmission"><em>${t("comp.transmission")}</em><b>${rate(sum.transmission_rate)}</b></span>
      <span class="comp-kpi"><em>${t("comp.validity")}</em><b>${rate(sum.validity_rate)}</b></span>
      <span class="comp-kpi"><em>${t("comp.effective")}</em><b>${rate(sum.effective_rate)}</b></span></div>
    <h4 class="comp-gaps-title">${t("comp.gaps")} · ${t("comp.today")}</h4>
    ${list.length ? `<div class="scroll comp-gaps"><table><thead><tr><th>${t(enterpriseId ? "common.device" : "common.enterprise")}</th>
      <th class="num">${t("comp.transmission")}</th><th class="num">${t("comp.expected")} − ${t("comp.received")}</th><th class="num">${t("plan.offline")}</th></tr></thead>
      <tbody>${list.slice(0, GAP_ROWS).map((g) => `<tr data-gap="${g.id}"><td class="wrap">${link(g.id)}</td><td class="num">${rate(g.rate)}</td>
      <td class="num">${num(g.missing, 0)}</td><td class="num">${g.offline || ""}</td></tr>`).join("")}</tbody></table></div>`
      : `<div class="empty" data-empty="1">${t("comp.none")}</div>`}`;
}
