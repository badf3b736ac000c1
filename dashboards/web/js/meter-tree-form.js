// The meter tree edited in place (admins only: PUT /energy/parks/{id}/meters replaces the park's
// whole tree). The enterprise's meters are edited (role, parent, formula of a virtual meter,
// contracted capacity); every other meter of the park is sent back as it was. A 422 shows at the
// meter and field it names.
import * as api from "./api.js";
import { escape } from "./format.js";
import { numberOf, onSubmit } from "./form-kit.js";
import { t } from "./i18n.js";
import "./i18n-energy.js";

/** Whether the API lets this user replace the tree (AdminPrincipal). */
export const canEditTree = (me) => me.role === "admin";

/** A meter as the API answers it (ids) as the PUT takes it (codes); null when its device is unknown to the page. */
export function specOf(m, ctx) {
  const dev = m.device_id == null ? null : ctx.devById.get(m.device_id);
  if (m.device_id != null && !dev) return null;
  return {
    code: m.code, name: m.name || "", carrier: m.carrier, role: m.role,
    enterprise: m.enterprise_id == null ? null : ctx.entById.get(m.enterprise_id)?.code ?? null,
    parent: m.parent, device: dev?.code ?? null, device_enterprise: dev ? ctx.entById.get(dev.enterprise_id)?.code ?? null : null,
    formula: m.formula, tariff: m.tariff, contracted_kw: m.contracted_kw, attributes: m.attributes || {},
  };
}

const slot = (key) => `<small class="field-error" data-error-for="${escape(key)}" role="alert"></small>`;
const ROLES = ["main", "sub", "virtual"];

function row(m, all) {
  const k = (f) => `meter:${m.code}.${f}`;
  const parents = all.filter((p) => p.code !== m.code && p.role !== "virtual" && p.carrier === m.carrier);
  const opt = (v, label, on) => `<option value="${escape(v)}"${on ? " selected" : ""}>${escape(label)}</option>`;
  return `<tr data-meter="${escape(m.code)}">
    <td>${escape(m.code)}${slot(`meter:${m.code}`)}</td>
    <td><select data-field="role" aria-label="${t("em.role")}">${ROLES.map((r) => opt(r, t("em.role." + r), r === m.role)).join("")}</select>${slot(k("role"))}</td>
    <td><select data-field="parent" aria-label="${t("em.parent")}">${opt("", "—", !m.parent)}${parents.map((p) => opt(p.code, p.code, p.code === m.parent)).join("")}</select>${slot(k("parent"))}</td>
    <td><input data-field="formula" value="${escape(m.formula || "")}" maxlength="2000" autocomplete="off" aria-label="${t("em.formula")}">${slot(k("formula"))}</td>
    <td><input data-field="contracted_kw" value="${escape(m.contracted_kw ?? "")}" inputmode="decimal" autocomplete="off" aria-label="${t("em.contract")}">${slot(k("contracted_kw"))}</td>
  </tr>`;
}

/**
 * The editor in ``host`` for the meters of ``entId`` among the park's ``all``; ``onDone`` after a
 * save, ``onCancel`` to leave. ``month`` (YYYY-MM) is where the park's indicators are recomputed from.
 */
export function treeForm(host, ctx, { all, entId, month, onDone, onCancel }) {
  const mine = all.filter((m) => m.enterprise_id === entId);
  host.innerHTML = `<form class="em-form" data-form="tree" novalidate>
    <table class="tree-rows"><thead><tr><th>${t("em.meter")}</th><th>${t("em.role")}</th><th>${t("em.parent")}</th>
      <th>${t("em.formula")}</th><th>${t("em.contract")} kW</th></tr></thead>
    <tbody>${mine.map((m) => row(m, all)).join("")}</tbody></table>
    <div class="actions"><button type="submit" class="primary">${t("em.f.save")}</button>
      <button type="button" data-cancel>${t("em.f.cancel")}</button>${slot("")}</div></form>`;
  const form = host.querySelector("form");
  form.querySelector("[data-cancel]").addEventListener("click", onCancel);
  const edits = () => new Map([...form.querySelectorAll("tr[data-meter]")].map((tr) => {
    const v = (f) => tr.querySelector(`[data-field=${f}]`).value.trim();
    return [tr.dataset.meter, { role: v("role"), parent: v("parent") || null, formula: v("formula") || null,
      contracted_kw: numberOf(v("contracted_kw")) }];
  }));
  let sent = [];
  // "meters[3].parent" names the 4th meter sent; a physical meter without a device is a matter of its role
  const place = (f) => f.replace(/^meters\[(\d+)\]/, (_, i) => `meter:${sent[+i]?.code}`).replace(/\.device$/, ".role");
  onSubmit(form, () => {
    const changed = edits();
    sent = all.map((m) => {
      const spec = specOf(m, ctx);
      if (!spec) throw { status: 422, detail: "", errors: [{ loc: ["body"], type: "devices_cut", msg: m.code }] };
      const e = changed.get(m.code);
      if (!e) return spec;
      const virtual = e.role === "virtual";
      return { ...spec, ...e, formula: virtual ? e.formula : null, device: virtual ? null : spec.device,
        device_enterprise: virtual ? null : spec.device_enterprise };
    });
    return api.put(`/energy/parks/${ctx.park.park_id}/meters`, { meters: sent, recompute_from: recomputeFrom(month) });
  }, onDone, place);
}

/** The month's first day when the API recomputes that far back (366 days), else its default. */
function recomputeFrom(month) {
  const first = `${month}-01`;
  const limit = new Date(Date.now() - 360 * 86400000).toISOString().slice(0, 10);
  const today = new Date().toISOString().slice(0, 10);
  return first >= limit && first <= today ? first : undefined;
}
