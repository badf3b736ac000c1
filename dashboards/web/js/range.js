// The time-range picker of the trend charts (1 h, 24 h, 7 d, 30 d or custom, in the park's wall
// clock) and the choice of source it implies: raw readings for short ranges, the 15-minute,
// hourly or daily rollups for longer ones, so no answer carries more points than a chart shows.
import { escape, offsetMs, parkParts } from "./format.js";
import { t } from "./i18n.js";
import "./i18n-ops.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const PRESETS = { "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY };
// The API's caps (api/README.md): 20 000 points per answer, raw readings over at most 7 days.
const MAX_POINTS = 20_000;
const MAX_RAW_MS = 7 * DAY;
const RAW_MAX_MS = 3 * HOUR; // beyond this, raw readings are more than a chart's width can show
const STEPS = [["15m", 15 * 60_000], ["1h", HOUR], ["1d", DAY]];

/**
 * The series interval for a range of `ms` and `series` series: raw up to 3 h, else the finest
 * rollup keeping every series under its share of the points cap (and at most ~1 500 points a line).
 */
export function chooseInterval(ms, series = 1, rawSpacingMs = 2_000) {
  if (ms <= RAW_MAX_MS && ms <= MAX_RAW_MS && (ms / rawSpacingMs) * series <= MAX_POINTS) return "raw";
  for (const [name, step] of STEPS) {
    const points = ms / step;
    if (points <= 1_500 && points * series <= MAX_POINTS) return name;
  }
  return "1d";
}

export const intervalLabel = (interval) =>
  t({ raw: "range.raw", "15m": "range.15m", "1h": "range.1h_avg", "1d": "range.1d" }[interval] || "range.1h_avg");

/** "2026-12-06T10:00" read as the park's wall clock -> epoch ms. */
export function parkWallToMs(text) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(text || "");
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  return wall - offsetMs(wall - offsetMs(wall)); // the offset at the instant itself (DST edges)
}

/** Epoch ms -> "2026-12-06T10:00" on the park's wall clock (a datetime-local input's value). */
export function msToParkWall(ms) {
  const p = parkParts(ms);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/**
 * A picker in `el`; `onChange({from, to, key})` (epoch ms) on every choice, and once now.
 * The choice is kept per `storageKey` for the tab.
 */
export function rangePicker(el, onChange, { initial = "24h", storageKey = "smartpark.range" } = {}) {
  let key = sessionStorage.getItem(storageKey) || initial;
  if (!(key in PRESETS) && key !== "custom") key = initial;
  const now = Date.now();
  el.classList.add("range-picker");
  el.innerHTML = `${Object.keys(PRESETS).map((k) => `<button type="button" data-range="${k}">${escape(t("range." + k))}</button>`).join("")}
    <button type="button" data-range="custom">${escape(t("range.custom"))}</button>
    <span class="range-custom" hidden><label>${escape(t("range.from"))} <input type="datetime-local" name="from" value="${msToParkWall(now - DAY)}"></label>
    <label>${escape(t("range.to"))} <input type="datetime-local" name="to" value="${msToParkWall(now)}"></label>
    <button type="button" class="primary" data-apply>${escape(t("range.apply"))}</button><span class="error"></span></span>`;
  const custom = el.querySelector(".range-custom");
  const fire = () => {
    for (const b of el.querySelectorAll("[data-range]")) b.classList.toggle("active", b.dataset.range === key);
    custom.hidden = key !== "custom";
    if (key === "custom") {
      const from = parkWallToMs(el.querySelector("[name=from]").value);
      const to = parkWallToMs(el.querySelector("[name=to]").value);
      const bad = from == null || to == null || to <= from;
      el.querySelector(".error").textContent = bad ? t("range.bad") : "";
      if (!bad) onChange({ from, to, key });
      return;
    }
    const end = Date.now();
    onChange({ from: end - PRESETS[key], to: end, key });
  };
  el.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.range) {
      key = b.dataset.range;
      sessionStorage.setItem(storageKey, key);
      if (key === "custom") { custom.hidden = false; for (const x of el.querySelectorAll("[data-range]")) x.classList.toggle("active", x.dataset.range === key); return; }
    }
    fire();
  });
  fire();
  return { refresh: () => { if (key !== "custom") fire(); } };
}
