// Environment: stack emissions at reference O2 against limits, wastewater, ambient air.
import * as api from "../api.js";
import { chart, lineOption } from "../charts.js";
import { escape, num, parkDate, time } from "../format.js";
import { t } from "../i18n.js";
import { aqiColour, aqiLevel, o2Corrected, outletLimits, phBand } from "../limits.js";
import { addDays, periods } from "../stats.js";

const STACK = ["stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3"];
const WATER = ["ww.cod_mgl", "ww.nh3n_mgl", "ww.ph"];
const AIR = ["air.pm25_ugm3", "air.pm10_ugm3", "air.so2_ugm3", "air.no2_ugm3", "air.o3_ugm3"];

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
      <div class="panel"><h3>${t("env.aqi")}</h3><div class="chart" id="air"></div><div id="air-now"></div></div>
    </div>`;
  const air = chart(el.querySelector("#air"));
  const entName = (d) => escape(ctx.names.enterprise(d.enterprise_id) || "");

  async function loadStacks() {
    const rows = await api.latest({ park_id: ctx.park?.park_id, metric: ["stack.so2_mgm3", "stack.nox_mgm3", "stack.dust_mgm3", "stack.o2_pct"] });
    const devs = byDevice(rows);
    const lines = [];
    for (const [id, m] of devs) {
      const d = ctx.devById.get(id) || { enterprise_id: rows.find((r) => r.device_id === id)?.enterprise_id, code: id };
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
      lines.push(`<tr data-device="${id}"><td>${entName(d)}</td><td>${escape(d.name || d.code)}</td>
        <td class="num">${num(o2, 1)}% <small>→ ${o2ref ?? "—"}%</small></td>${cells.join("")}<td>${status(exceeding)}</td>
        <td>${time(m["stack.so2_mgm3"]?.ts)}</td></tr>`);
    }
    el.querySelector("#stacks").innerHTML = lines.length ? `<table><thead><tr><th>${t("common.enterprise")}</th>
      <th>${t("common.device")}</th><th class="num">${t("env.o2")}</th><th class="num">SO₂ mg/m³</th>
      <th class="num">NOx mg/m³</th><th class="num">${t("common.dust")}</th><th>${t("env.status")}</th><th>${t("ent.ts")}</th>
      </tr></thead><tbody>${lines.join("")}</tbody></table>` : `<div class="empty">${t("safety.no_devices")}</div>`;
  }

  async function loadWastewater() {
    const rows = await api.latest({ park_id: ctx.park?.park_id, metric: WATER.concat("ww.flow_m3h") });
    const lines = [];
    for (const [id, m] of byDevice(rows)) {
      const d = ctx.devById.get(id) || { code: id };
      const lim = outletLimits(id);
      let exceeding = false;
      const cells = WATER.map((metric) => {
        const [lo, hi] = metric === "ww.ph" ? phBand() : [null, lim?.limits?.[metric]?.value ?? null];
        const v = m[metric]?.value;
        const over = v != null && ((lo != null && v < lo) || (hi != null && v > hi));
        exceeding ||= over;
        const bound = metric === "ww.ph" || hi == null ? "" : ` <small>/ ${hi}</small>`;
        return `<td class="num ${over ? "st-bad" : ""}">${num(v, metric === "ww.ph" ? 2 : 1)}${bound}</td>`;
      });
      lines.push(`<tr><td>${entName(d)}</td>${cells.join("")}<td class="num">${num(m["ww.flow_m3h"]?.value, 1)}</td><td>${status(exceeding)}</td></tr>`);
    }
    el.querySelector("#ww").innerHTML = lines.length ? `<table><thead><tr><th>${t("common.enterprise")}</th>
      <th class="num">COD mg/L</th><th class="num">NH₃-N mg/L</th><th class="num">pH ${phBand().join("–")}</th><th class="num">m³/h</th>
      <th>${t("env.status")}</th></tr></thead><tbody>${lines.join("")}</tbody></table>` : `<div class="empty">${t("safety.no_devices")}</div>`;
  }

  async function loadAqi() {
    const today = parkDate(ctx.timezone);
    const days = await periods(ctx, "day", addDays(today, -6), addDays(today, 1));
    const cells = [...days.values()].filter((f) => f.aqi).map((f) => {
      const lvl = f.aqi.level || aqiLevel(f.aqi.aqi);
      return `<td style="text-align:center"><div class="muted">${escape(f.period.slice(5))}</div>
        <span class="tag" style="color:${aqiColour(lvl)}">${f.aqi.aqi ?? "NA"}</span></td>`;
    });
    el.querySelector("#air-now").innerHTML = cells.length
      ? `<table><tbody><tr><td class="muted">${t("env.daily_aqi")}</td>${cells.join("")}</tr></tbody></table>` : "";
  }

  async function loadAir() {
    const stations = ctx.devices.filter((d) => d.kind === "air_station");
    if (!stations.length) { el.querySelector("#air-now").innerHTML = `<div class="empty">${t("safety.no_devices")}</div>`; return; }
    const to = new Date();
    const from = new Date(to.getTime() - 24 * 3600 * 1000);
    const pairs = AIR.map((m) => [stations[0].device_id, m]);
    const series = await api.series(pairs, { from: from.toISOString(), to: to.toISOString(), interval: "1h", aggregate: "avg" });
    air.setOption(lineOption(series.map((s) => ({
      name: s.metric.replace("air.", "").replace(/_ugm3$/, "").toUpperCase(),
      data: s.ts.map((ts, i) => [ts, s.values[i] == null ? null : Math.round(s.values[i])]),
    })), { unit: "µg/m³" }), true);
  }

  await Promise.allSettled([loadStacks(), loadWastewater(), loadAir(), loadAqi()]);
  return {
    async refresh() { await Promise.allSettled([loadStacks(), loadWastewater(), loadAir(), loadAqi()]); },
  };
}
