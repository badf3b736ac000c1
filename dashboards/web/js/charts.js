// ECharts helpers (window.echarts comes from the vendored vendor/echarts/echarts.min.js, a build
// of the chart types and components the page uses: vendor/echarts/VERSION).
// A cold load of a view with charts fetches ECharts' bytes at once, beside sign-in
// (prefetchEcharts: the view's module says it draws charts), and evaluates them when the view makes
// its first chart, right after the view has sent its requests: the evaluation, the longest task of
// a cold load, overlaps the network, and a view without charts (safety, enterprise) never loads
// it. Until then a chart is a LazyChart that keeps what it is asked to do and does it when ECharts
// is there; the view's other panels are filled as their answers come.
// Time axes show the park's wall clock: ECharts formats in UTC (useUTC) the instants shifted by
// the park zone's offset, so a browser in another zone draws the same hours. Every axis is named
// (unit or zone), values are compact so labels are not clipped, and an empty chart says so.
import { compact, offsetMs, zoneLabel } from "./format.js";
import { t } from "./i18n.js";

const charts = new Set();

let loading = null;
const ECHARTS_URL = new URL("../vendor/echarts/echarts.min.js", import.meta.url).href;

/** Fetch ECharts' bytes now without evaluating them (a view that draws charts is coming). */
export function prefetchEcharts() {
  if (window.echarts || loading || document.querySelector(`link[href="${ECHARTS_URL}"]`)) return;
  const link = document.createElement("link");
  link.rel = "preload";
  link.as = "script";
  link.href = ECHARTS_URL;
  document.head.append(link);
}

/** Evaluate ECharts (once) and run every chart's kept work; resolves when done. */
export function loadEcharts() {
  loading ||= (window.echarts ? Promise.resolve() : new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = ECHARTS_URL;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error("ECharts did not load"));
    document.head.append(s);
  })).then(() => { for (const c of charts) c.flush(); });
  return loading;
}
export const echartsReady = loadEcharts;

/** A chart whose ECharts instance is made when ECharts is there; work asked before waits. */
class LazyChart {
  constructor(el) { this.el = el; this.real = null; this.kept = []; }
  getDom() { return this.el; }
  /** fn(instance) now, or once ECharts is evaluated. */
  run(fn) {
    if (!this.real && window.echarts) this.real = window.echarts.init(this.el, "dark", { renderer: "canvas" });
    if (this.real) return fn(this.real);
    this.kept.push(fn);
    return undefined;
  }
  flush() { const kept = this.kept; this.kept = []; for (const fn of kept) this.run(fn); }
  setOption(...a) { return this.run((r) => r.setOption(...a)); }
  resize(...a) { return this.run((r) => r.resize(...a)); }
  on(...a) { return this.run((r) => r.on(...a)); }
  off(...a) { return this.run((r) => r.off(...a)); }
  dispose() { this.real?.dispose(); this.kept = []; }
}

export function chart(el) {
  const c = new LazyChart(el);
  charts.add(c);
  loadEcharts().catch(console.error);
  return c;
}

/** Resolves when the view's charts have done their kept work (at once for a view without). */
export function chartsDrawn() {
  return charts.size ? loadEcharts() : Promise.resolve();
}

export function disposeAll() {
  for (const c of charts) c.dispose();
  charts.clear();
}

window.addEventListener("resize", () => { for (const c of charts) c.resize(); });

/** Chart text grows with the screen past 1920 px wide, so a 4K wall reads like a 1080p one. */
export const textScale = () => Math.max(1, window.innerWidth / 1920);
const AXIS_TEXT_BASE = { color: "#9fb6ca", fontSize: 12 };
const axisText = () => ({ ...AXIS_TEXT_BASE, fontSize: AXIS_TEXT_BASE.fontSize * textScale() });
// The page's font, read once: reading a computed style forces the browser to lay out the
// page, which a view filling its panels had just changed.
let pageFont = null;
const font = () => (pageFont ??= getComputedStyle(document.documentElement).getPropertyValue("--font"));
const base = () => ({
  backgroundColor: "transparent",
  useUTC: true,
  textStyle: { fontFamily: font(), fontSize: 12 * textScale() },
  grid: { left: 12, right: 28, top: 40, bottom: 12, containLabel: true },
  tooltip: { trigger: "axis" },
});

/** [[ts, v], ...] -> the same points at the park's wall-clock time (for a useUTC axis). */
export function atParkTime(points) {
  return points.map(([ts, v]) => [ts + offsetMs(ts), v]);
}

const valueAxis = (unit) => ({
  type: "value", name: unit, nameTextStyle: axisText(), axisLabel: { ...axisText(), formatter: compact },
  splitLine: { lineStyle: { color: "#24405a" } },
});
// Hours and minutes of the park's clock; the zone is the axis name, under the labels.
// Ranges of more than a day label the date too.
const timeAxis = (days = false) => ({ type: "time", name: zoneLabel(), nameLocation: "middle", nameGap: 26 * textScale(), nameTextStyle: axisText(),
  axisLabel: { ...axisText(), hideOverlap: true, formatter: days ? "{MM}-{dd} {HH}:{mm}" : "{HH}:{mm}" } });

/** Draw `option`, or "no data" when `empty`; the container says which (data-empty). */
export function draw(c, option, empty = false) {
  c.run((r) => {
    // The container may have changed size since an earlier draw (content filled in around it);
    // the first draw follows init, which has just measured it.
    if (c.drawn) r.resize();
    c.drawn = true;
    if (empty) {
      r.setOption({ ...base(), title: { text: t("common.no_data"), left: "center", top: "middle", textStyle: { color: "#8aa3b8", fontSize: 16 * textScale(), fontWeight: 400 } } }, true);
    } else {
      r.setOption(option, true);
    }
    c.getDom().dataset.empty = empty ? "1" : "0"; // drawn, not only asked for
  });
}

/** Lines on a time axis; `zoom` adds ECharts' dataZoom (wheel/drag inside, a slider below). */
export function lineOption(seriesList, { unit = "", days = false, zoom = false } = {}) {
  const s = textScale();
  return {
    ...base(),
    legend: { top: 0, textStyle: { color: "#8aa3b8", fontSize: 12 * s } },
    grid: { ...base().grid, bottom: (zoom ? 62 : 30) * s },
    dataZoom: zoom ? [{ type: "inside", filterMode: "none" }, { type: "slider", height: 18 * s, bottom: 4, filterMode: "none",
      labelFormatter: "", textStyle: { color: "#8aa3b8" }, borderColor: "#24405a" }] : undefined,
    xAxis: timeAxis(days),
    yAxis: valueAxis(unit),
    series: seriesList.map((x) => ({ type: "line", showSymbol: false, smooth: true, ...x, data: atParkTime(x.data) })),
  };
}

export function barOption(categories, values, { unit = "", horizontal = false, color, name } = {}) {
  const cat = { type: "category", data: categories, name, nameTextStyle: axisText(),
    axisLabel: { ...axisText(), interval: 0, rotate: horizontal ? 0 : 30, width: (horizontal ? 140 : 90) * textScale(), overflow: "truncate" } };
  // A horizontal bar's value axis is at the bottom: its unit goes under the labels, not past them.
  const val = horizontal ? { ...valueAxis(unit), nameLocation: "middle", nameGap: 26 * textScale() } : valueAxis(unit);
  return {
    ...base(),
    grid: { ...base().grid, right: 28, bottom: horizontal ? 30 : 12 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? { ...cat, inverse: true } : val,
    series: [{ type: "bar", data: values, barMaxWidth: 22, itemStyle: color ? { color } : undefined }],
  };
}

export function pieOption(items, { unit = "" } = {}) {
  return {
    ...base(),
    tooltip: { trigger: "item", formatter: (p) => `${p.name}: ${compact(p.value)} ${unit} (${p.percent}%)` },
    legend: { bottom: 0, textStyle: { color: "#8aa3b8", fontSize: 12 * textScale() } },
    series: [{ type: "pie", radius: ["40%", "64%"], center: ["50%", "45%"], data: items,
               label: { color: "#dce8f2", fontSize: 12 * textScale(), formatter: (p) => `${p.name} ${p.percent}%` } }],
  };
}
