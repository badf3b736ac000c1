// Device detail (#/device?id=N): every metric of one device over a chosen range (raw readings or
// rollups by the range's length, zoomable), its latest values, its alarms and its data
// completeness over the same days. Four API answers: latest, series, alarms, completeness.
import * as api from "../api.js";
import { renderAlarmTable } from "../alarms.js";
import { chart, draw, lineOption } from "../charts.js";
import { escape, num, parkDate, time } from "../format.js";
import { t } from "../i18n.js";
import "../i18n-ops.js";
import { deviceName, metricName, unitOf, zoneName } from "../names.js";
import { chooseInterval, intervalLabel, rangePicker } from "../range.js";

const MAX_COMPLETENESS_DAYS = 92; // the API's bound (api/routes/completeness.py)

export const deviceIdFromHash = () => Number(new URLSearchParams(location.hash.split("?")[1] || "").get("id")) || null;

export const drawsCharts = true;
export const liveSelection = () => {
  const id = deviceIdFromHash();
  return { metrics: null, devices: id ? [id] : [], alarms: true };
};

const pctText = (x) => (x == null ? "—" : `${(x * 100).toFixed(1)}%`);

export async function render(el, ctx) {
  const id = deviceIdFromHash();
  const dev = ctx.devById.get(id);
  if (!dev) {
    el.innerHTML = `<div class="panel"><div class="empty" data-empty="1">${t("dev.none")}</div></div>`;
    return {};
  }
  const ent = ctx.entById.get(dev.enterprise_id);
  const metrics = dev.metrics.filter((m) => ctx.metricByCode.has(m));
  el.innerHTML = `
    <div class="toolbar">
      <h2 id="dev-name">${escape(ent?.name ?? "")} · ${escape(deviceName(dev))}</h2>
      ${dev.name && dev.name !== dev.code // a named device: its kind and zone beside the name
        ? `<span class="muted">${escape(t("kind." + dev.kind))}${dev.zone ? " · " + escape(zoneName(dev.zone)) : ""}</span>` : ""}
      <span class="muted" id="dev-seen"></span><span id="dev-range"></span><span class="muted" id="dev-interval"></span></div>
    <div class="grid cols-3">
      <div class="panel span-2"><h3>${t("dev.metrics")}</h3><div class="grid cols-2" id="dev-charts">
        ${metrics.map((m) => `<div class="dev-metric" data-metric="${escape(m)}"><h4>${escape(metricName(m))}${unitOf(m) ? ` <small>${escape(unitOf(m))}</small>` : ""}
          <span class="now" data-role="now"></span></h4><div class="chart"></div></div>`).join("")}</div></div>
      <div class="panel"><h3>${t("dev.completeness")}</h3><div id="dev-comp"></div></div>
      <div class="panel span-3"><h3>${t("dev.alarms")}</h3><div id="dev-alarms"></div></div>
    </div>`;
  const charts = new Map(metrics.map((m) => [m, chart(el.querySelector(`.dev-metric[data-metric="${CSS.escape(m)}"] .chart`))]));
  let range = null;

  async function loadLatest() {
    const rows = await api.get(`/devices/${id}/latest`);
    let newest = null;
    for (const r of rows) {
      const box = el.querySelector(`.dev-metric[data-metric="${CSS.escape(r.metric)}"] [data-role=now]`);
      if (box) box.textContent = num(r.value, 2);
      if (!newest || r.ts > newest) newest = r.ts;
    }
    el.querySelector("#dev-seen").textContent = `${t("dev.last_seen")}: ${newest ? time(newest) : t("dev.never")}`;
  }

  async function loadSeries() {
    const interval = chooseInterval(range.to - range.from, metrics.length);
    el.querySelector("#dev-interval").textContent = intervalLabel(interval);
    el.querySelector("#dev-charts").dataset.interval = interval;
    const answer = metrics.length ? await api.series(metrics.map((m) => [id, m]), {
      from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), interval,
    }) : [];
    const days = range.to - range.from > 86_400_000;
    for (const s of answer) {
      const c = charts.get(s.metric);
      if (!c) continue;
      const data = s.ts.map((ts, i) => [typeof ts === "number" ? ts : Date.parse(ts), s.values[i]]);
      draw(c, lineOption([{ name: metricName(s.metric), data }], { unit: unitOf(s.metric), days, zoom: true }), !data.length);
    }
    const box = el.querySelector("#dev-charts");
    box.dataset.loads = String(Number(box.dataset.loads || 0) + 1); // every range drawn, for tests
  }

  async function loadAlarms() {
    const page = await api.alarms({ device_id: id, limit: 50 });
    renderAlarmTable(el.querySelector("#dev-alarms"), page.items || [], { canAck: ctx.canAck, names: ctx.names, onChanged: loadAlarms, oneEnterprise: true });
  }

  async function loadCompleteness() {
    let from = parkDate(ctx.timezone, 0, new Date(range.from));
    const to = parkDate(ctx.timezone, 0, new Date(range.to));
    const earliest = parkDate(ctx.timezone, -(MAX_COMPLETENESS_DAYS - 1), new Date(range.to));
    if (from < earliest) from = earliest;
    const rows = await api.get("/completeness", { from, to, by: "device", period: "range", enterprise_id: dev.enterprise_id });
    const r = rows.find((x) => x.device === id);
    const box = el.querySelector("#dev-comp");
    box.dataset.period = `${from}/${to}`;
    box.innerHTML = r ? `<table><tbody>
      <tr><td>${t("comp.transmission")}</td><td class="num" data-rate="transmission">${pctText(r.transmission_rate)}</td></tr>
      <tr><td>${t("comp.validity")}</td><td class="num">${pctText(r.validity_rate)}</td></tr>
      <tr><td>${t("comp.effective")}</td><td class="num">${pctText(r.effective_rate)}</td></tr>
      <tr><td>${t("comp.expected")} / ${t("comp.received")}</td><td class="num">${num(r.expected, 0)} / ${num(r.received, 0)}</td></tr>
      </tbody></table><p class="muted">${escape(from)} – ${escape(to)}</p>`
      : `<div class="empty" data-empty="1">${t("common.no_data")}</div>`;
  }

  const loadRange = () => Promise.allSettled([loadSeries(), loadCompleteness()])
    .then((rs) => rs.forEach((r) => r.status === "rejected" && console.warn(r.reason)));
  let first = null;
  rangePicker(el.querySelector("#dev-range"), (r) => { range = r; const p = loadRange(); first ||= p; }, { storageKey: "smartpark.range.device" });
  await Promise.allSettled([first, loadLatest(), loadAlarms()]);
  let redraw = null;
  return {
    onEvent(ev) {
      if (ev.type === "reading" && ev.device_id === id) {
        const box = el.querySelector(`.dev-metric[data-metric="${CSS.escape(ev.metric)}"] [data-role=now]`);
        if (box) box.textContent = num(ev.value, 2);
        el.querySelector("#dev-seen").textContent = `${t("dev.last_seen")}: ${time(ev.ts)}`;
      } else if ((ev.type === "alarm" || ev.type === "alert") && ev.device_id === id) {
        redraw ||= setTimeout(() => { redraw = null; loadAlarms().catch(console.warn); }, 500);
      }
    },
    async refresh() { await Promise.allSettled([loadLatest(), loadAlarms()]); },
    destroy() { clearTimeout(redraw); },
  };
}
