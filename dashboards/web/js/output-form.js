// A month's product output of an enterprise (PUT: the list replaces what was entered), from which
// the API works out unit consumption (kgce per unit against the limit).
import * as api from "./api.js";
import { escape } from "./format.js";
import { numberOf, onSubmit } from "./form-kit.js";
import { t } from "./i18n.js";
import "./i18n-energy.js";

const FIELDS = [["product", "em.product", ""], ["unit", "em.unit", ""], ["quantity", "em.quantity", "decimal"],
  ["energy_share", "em.share", "decimal"], ["limit_kgce", "em.limit", "decimal"]];

function row(o = {}) {
  return `<tr data-output>${FIELDS.map(([f, , mode]) => `<td><input data-field="${f}" value="${escape(o[f] ?? (f === "energy_share" ? 1 : ""))}"`
    + `${mode ? ` inputmode="${mode}"` : ""} autocomplete="off" aria-label="${escape(t(FIELDS.find((x) => x[0] === f)[1]))}">`
    + `<small class="field-error" data-error-for=""></small></td>`).join("")}
    <td><button type="button" data-remove aria-label="${escape(t("em.f.remove"))}">×</button></td></tr>`;
}

/** Renumber each row's message slots (outputs[i].field) after rows come or go. */
function renumber(form) {
  [...form.querySelectorAll("[data-output]")].forEach((tr, i) => {
    for (const td of tr.querySelectorAll("td")) {
      const input = td.querySelector("[data-field]");
      if (input) td.querySelector("small").dataset.errorFor = `outputs[${i}].${input.dataset.field}`;
    }
  });
}

export function outputForm(host, { entId, month, outputs, onDone }) {
  host.innerHTML = `<form class="em-form" data-form="output" novalidate><h4>${t("em.f.output").replace("{m}", escape(month))}</h4>
    <table class="output-rows"><thead><tr>${FIELDS.map(([, k]) => `<th>${t(k)}</th>`).join("")}<th></th></tr></thead>
    <tbody>${(outputs.length ? outputs : [{}]).map(row).join("")}</tbody></table>
    <div class="actions"><button type="button" data-add>${t("em.f.add_product")}</button>
      <button type="submit" class="primary">${t("em.f.save")}</button>
      <small class="field-error form-error" data-error-for="" role="alert"></small></div></form>`;
  const form = host.querySelector("form"), body = form.querySelector("tbody");
  renumber(form);
  form.querySelector("[data-add]").addEventListener("click", () => { body.insertAdjacentHTML("beforeend", row()); renumber(form); });
  body.addEventListener("click", (ev) => {
    if (!ev.target.closest("[data-remove]")) return;
    ev.target.closest("tr").remove();
    renumber(form);
  });
  const value = (tr, f) => tr.querySelector(`[data-field=${f}]`).value.trim();
  const blank = (tr) => !FIELDS.some(([f]) => f !== "energy_share" && value(tr, f));
  onSubmit(form, () => {
    for (const tr of body.querySelectorAll("tr")) if (blank(tr) && body.rows.length > 1) tr.remove();
    renumber(form); // the rows sent are the rows shown: outputs[i] of a 422 is the i-th row
    return api.put(`/energy/enterprises/${entId}/output/${month}`, {
      outputs: [...body.querySelectorAll("tr")].filter((tr) => !blank(tr)).map((tr) => ({ product: value(tr, "product"), unit: value(tr, "unit"), quantity: numberOf(value(tr, "quantity")),
        energy_share: numberOf(value(tr, "energy_share")) ?? 1, limit_kgce: numberOf(value(tr, "limit_kgce")) })),
    });
  }, onDone);
}
