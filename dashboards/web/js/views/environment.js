// Environment: stack emissions at reference O2 against each outlet's limits, wastewater, ambient
// air. Limits come from the API's reference tables; names and units from its catalogue.
import * as api from "../api.js";
import { chooseInterval, rangePicker } from "../range.js";
import { chart, draw, lineOption } from "../charts.js";
import { escape, num, parkDate, time } from "../format.js";
import { t } from "../i18n.js";
import { o2Corrected, outletLimits, phBand } from "../limits.js";
import { deviceName, metricLabel, metricName, unitOf } from "../names.js";
import { parkLatest } from "../states.js";
import { addDays, periods } from "../stats.js";

const AIR = ["air.pm25_ugm3", "air.pm10_ugm3", "air.so2_ugm3", "air.no2_ugm3", "air.o3_ugm3"];
const STACK = ["stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3"];
const WASTEWATER = ["ww.cod_mgl", "ww.nh3n_mgl", "ww.ph"];

export const drawsCharts = true;
export const liveSelection = () => ({ metrics: [], alarms: false });

/** latest rows -> Map(device_id -> {metric: row}) */
export function byDevice(rows) {
  const out = new Map();
  for (const r of rows) {
    const m = out.get(r.device_id) || {};
    m[r.metric] = r;
    out.set(r.device_id, m);
  }
  return out;
}

function status(exceeding) {
  return exceeding ? `<span class="st-bad">${t("env.exceed")}</span>` : `<span class="st-ok">${t("env.ok")}</span>`;
}

export async function render(el, ctx) {
  el.innerHTML = `
    <div class="grid cols-2">
      <div class="panel span-2"><h3>${t("env.stacks")}</h3><div id="stacks" class="scroll"></div></div>
      <div class="panel"><h3>${t("env.wastewater")}</h3><div id="ww" class="scroll"></div></div>
      <div class="panel"><h3>${t("env.aqi")}<span id="air-range"></span></h3><div class="chart" id="air"></div><div id="air-now"></div></div>
    </div>`;
  const air = chart(el.querySelector("#air"));
  // The trend's range: the same picker as the device detail; raw or rollups by its length.
  let airRange = null;
  let started = false;
  rangePicker(el.querySelector("#air-range"), (r) => { airRange = r; if (started) loadAir().catch(console.warn); },
    { storageKey: "smartpark.range.air" });
  const entName = (d) => escape(ctx.names.enterprise(d.enterprise_id) || "");
  const none = `<div class="empty" data-empty="1">${t("safety.no_devices")}</div>`;

  // Stacks and wastewater from one answer: the latest of their eight metrics in the park.
  const STACK_ALL = [...STACK, "stack.o2_pct"], WW_ALL = [...WASTEWATER, "ww.flow_m3h"];
  let outlets = null;
  const outletRows = () => (outlets ||= parkLatest(ctx, [...STACK_ALL, ...WW_ALL]));

  async function loadStacks() {
    const rows = (await outletRows()).filter((r) => STACK_ALL.includes(r.metric));
    const lines = [];
    for (const [id, m] of byDevice(rows)) {
      const d = ctx.devById.get(id) || { enterprise_id: rows.find((r) => r.device_id === id)?.enterprise_id };
      // the outlet's own limits (permit, else its source type's defaults), served by the API
      const lim = outletLimits(id);
      const o2ref = lim?.o2_ref_pct ?? null;
      const o2 = m["stack.o2_pct"]?.value;
      let exceeding = false;
      const cells = STACK.map((metric) => {
        const c = o2Corrected(m[metric]?.value, o2, o2ref, lim?.o2_ceiling_pct);
        const limit = lim?.limits?.[metric]?.value ?? null;
        const over = c != null && limit != null && c > limit;
        exceeding ||= over;
        return `<td class="num ${over ? "st-bad" : ""}">${num(c, 1)} <small>/ ${limit ?? "—"}</small></td>`;
      });
      lines.push(`<tr data-device="${id}"><td class="wrap">${entName(d)}</td><td class="wrap">${escape(deviceName(d))}</td>
        <td class="num">${num(o2, 1)}% <small>→ ${o2ref ?? "—"}%</small></td>${cells.join("")}<td>${status(exceeding)}</td>
        <td>${time(m["stack.so2_mgm3"]?.ts)}</td></tr>`);
    }
    el.querySelector("#stacks").innerHTML = lines.length ? `<table><thead><tr><th>${t("common.enterprise")}</th>
      <th>${t("common.device")}</th><th class="num">${metricLabel("stack.o2_pct")}</th>
      ${STACK.map((s) => `<th class="num">${metricLabel(s)}</th>`).join("")}<th>${t("env.status")}</th><th>${t("ent.ts")}</th>
      </tr></thead><tbody>${lines.join("")}</tbody></table>` : none;
  }

  async function loadWastewater() {
    const rows = (await outletRows()).filter((r) => WW_ALL.includes(r.metric));
    const lines = [];
    for (const [id, m] of byDevice(rows)) {
      const d = ctx.devById.get(id) || {};
      const lim = outletLimits(id);
      let exceeding = false;
      const cells = WASTEWATER.map((metric) => {
        const [lo, hi] = metric === "ww.ph" ? phBand() : [null, lim?.limits?.[metric]?.value ?? null];
        const v = m[metric]?.value;
        const over = v != null && ((lo != null && v < lo) || (hi != null && v > hi));
        exceeding ||= over;
        const bound = metric === "ww.ph" || hi == null ? "" : ` <small>/ ${hi}</small>`;
        return `<td class="num ${over ? "st-bad" : ""}">${num(v, metric === "ww.ph" ? 2 : 1)}${bound}</td>`;
      });
      lines.push(`<tr data-device="${id}"><td class="wrap">${entName(d)}</td>${cells.join("")}<td class="num">${num(m["ww.flow_m3h"]?.value, 1)}</td><td>${status(exceeding)}</td></tr>`);
    }
    el.querySelector("#ww").innerHTML = lines.length ? `<table><thead><tr><th>${t("common.enterprise")}</th>
      ${WASTEWATER.map((w) => `<th class="num">${metricLabel(w)}${w === "ww.ph" ? `<br><small>${phBand().join("–")}</small>` : ""}</th>`).join("")}
      <th class="num">${metricLabel("ww.flow_m3h")}</th><th>${t("env.status")}</th></tr></thead><tbody>${lines.join("")}</tbody></table>` : none;
  }

  async function loadAqi() {
    const today = parkDate(ctx.timezone);
    const days = await periods(ctx, "day", addDays(today, -6), addDays(today, 1));
    const cells = [...days.values()].filter((f) => f.aqi).map((f) => `<td class="aqi-day"><div class="muted">${escape(f.period.slice(5))}</div>
        <span class="tag aqi-text-${Number(f.aqi.level)}">${f.aqi.aqi}</span></td>`);
    el.querySelector("#air-now").innerHTML = cells.length
      ? `<table><tbody><tr><td class="muted">${t("env.daily_aqi")}</td>${cells.join("")}</tr></tbody></table>` : "";
  }

  async function loadAir() {
    const stations = ctx.devices.filter((d) => d.kind === "air_station");
    if (!stations.length) { draw(air, null, true); return; }
    const pairs = AIR.map((m) => [stations[0].device_id, m]);
    const interval = chooseInterval(airRange.to - airRange.from, pairs.length);
    el.querySelector("#air").dataset.interval = interval;
    const series = await api.series(pairs, { from: new Date(airRange.from).toISOString(), to: new Date(airRange.to).toISOString(),
      interval, aggregate: interval === "raw" ? undefined : "avg" });
    const lines = series.map((s) => ({
      name: metricName(s.metric),
      data: s.ts.map((ts, i) => [typeof ts === "number" ? ts : Date.parse(ts), s.values[i] == null ? null : Math.round(s.values[i])]),
    }));
    draw(air, lineOption(lines, { unit: unitOf(AIR[0]), days: airRange.to - airRange.from > 86_400_000, zoom: true }),
      !lines.some((l) => l.data.some(([, v]) => v != null)));
  }

  started = true;
  await Promise.allSettled([loadStacks(), loadWastewater(), loadAir(), loadAqi()]);
  return {
    async refresh() { outlets = null; await Promise.allSettled([loadStacks(), loadWastewater(), loadAir(), loadAqi()]); },
  };
}
