// What every form of the page shares: the API's 422s shown at the field they name, in the page's
// language; one submission at a time however often the button is clicked; times typed in the
// park's zone sent as instants.
import { escape, offsetMs } from "./format.js";
import { t } from "./i18n.js";

// The API's reasons (its detail texts and its validation types) as label keys; the first match wins.
const REASONS = [
  [/is not a counter/, "err.not_counter"], [/do not fit old_final/, "err.change_fit"], [/no device/, "err.no_device"],
  [/given twice/, "err.twice"], [/energy shares add up/, "err.shares"], [/needs a parent/, "err.needs_parent"],
  [/cannot read|empty formula/, "err.formula_syntax"], [/refers back to itself|make a cycle/, "err.cycle"],
  [/no meter/, "err.no_meter"], [/belongs to another enterprise/, "err.other_enterprise"],
  [/is virtual; a meter hangs/, "err.parent_virtual"], [/ meters \w+, not /, "err.carrier_mismatch"],
  [/a virtual meter has a formula/, "err.formula_role"], [/a physical meter names its device/, "err.device_role"],
  [/is already meter/, "err.device_taken"], [/hangs below a park meter/, "err.main_parent"],
  [/which has no series/, "err.no_series"], [/is superseded by/, "err.superseded"], [/recorded already/, "err.change_exists"],
  [/must be one of the last/, "err.recompute"], [/a correction says why/, "err.required"],
];
const TYPES = {
  missing: "err.required", string_too_short: "err.required", greater_than: "err.too_small",
  greater_than_equal: "err.too_small", less_than: "err.too_large", less_than_equal: "err.too_large",
  string_too_long: "err.too_long", string_pattern_mismatch: "err.pattern", float_parsing: "err.number",
  float_type: "err.number", too_short: "err.required", too_long: "err.too_many", literal_error: "err.choice",
  timezone_aware: "err.time", datetime_parsing: "err.time", datetime_from_date_parsing: "err.time", datetime_type: "err.time",
};

/** A validation error's location (["body", "readings", "3", "value"]) as a path: "readings[3].value". */
export function pathOf(loc) {
  return loc.filter((p, i) => !(i === 0 && p === "body"))
    .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), "");
}

/**
 * The field a detail text names: "readings[3].device: …" → "readings[3].device",
 * "meters[2] ('E1A').parent: …" → "meters[2].parent", "meter 'E1R'.formula: …" → "meter:E1R.formula".
 */
export function fieldOf(detail) {
  if (/do not fit old_final/.test(detail)) return "old_final";
  const m = /^((?:meter '[^']*'|[a-z_]+(?:\[\d+\])?(?: \('[^']*'\))?)(?:\.[a-z_]+)*)(?=: )/.exec(detail);
  if (!m) return "";
  return m[1].replace(/ \('[^']*'\)/, "").replace(/^meter '([^']*)'/, "meter:$1");
}

/** [{field, text, raw}] of an API error, texts in the page's language. */
export function problems(err) {
  if (err?.errors?.length) {
    return err.errors.map((e) => ({ field: pathOf(e.loc || []), text: t(TYPES[e.type] || "err.invalid"), raw: e.msg }));
  }
  const detail = String(err?.detail ?? err?.message ?? "");
  const key = REASONS.find(([re]) => re.test(detail))?.[1]
    || { 403: "err.forbidden", 404: "err.not_found", 409: "err.conflict" }[err?.status] || "err.invalid";
  return [{ field: fieldOf(detail), text: t(key), raw: detail }];
}

/** Clear the form's messages. */
export function clearErrors(root) {
  for (const el of root.querySelectorAll("[data-error-for]")) { el.textContent = ""; el.removeAttribute("title"); }
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Show each problem next to its field: the element [data-error-for=FIELD] (``place`` may rename a
 * field first); what names no field of the form goes to [data-error-for=""].
 */
export function showErrors(root, err, place = (f) => f) {
  clearErrors(root);
  for (const p of problems(err)) {
    const field = place(p.field);
    const slot = root.querySelector(`[data-error-for="${CSS.escape(field)}"]`) || root.querySelector('[data-error-for=""]');
    if (!slot) continue;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${p.text}` : p.text;
    slot.title = p.raw || "";
    slot.closest("label")?.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
  }
}

/**
 * Submit ``form`` with ``send`` (async): while one submission runs the button is disabled and
 * further submits are dropped; an error is shown at its fields, success calls ``done``.
 */
export function onSubmit(form, send, done, place) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy === "1") return;
    form.dataset.busy = "1";
    const buttons = [...form.querySelectorAll("button[type=submit]")];
    for (const b of buttons) b.disabled = true;
    clearErrors(form);
    try {
      const out = await send(new FormData(form));
      form.dataset.sent = String(Number(form.dataset.sent || 0) + 1);
      await done?.(out);
    } catch (err) {
      showErrors(form, err, place);
    } finally {
      form.dataset.busy = "0";
      for (const b of buttons) b.disabled = false;
    }
  });
}

/** A labelled control with its message slot. */
export function field(name, label, control) {
  return `<label class="field"><span>${label}</span>${control}<small class="field-error" data-error-for="${escape(name)}" role="alert"></small></label>`;
}

/** "2026-07-15T12:00" typed in the park's zone, as an ISO instant. */
export function parkInstantOf(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!m) return local || "";
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  const first = wall - offsetMs(wall);
  return new Date(wall - offsetMs(first)).toISOString(); // the offset at the instant itself (zone changes)
}

/** A number typed in a form, or the text itself when it is none (the API names the field). */
export function numberOf(text) {
  const s = String(text ?? "").trim();
  return s !== "" && Number.isFinite(Number(s)) ? Number(s) : s === "" ? null : s;
}
