// ECharts helpers (window.echarts comes from the vendored vendor/echarts/echarts.min.js).
const charts = new Set();

export function chart(el) {
  const c = window.echarts.init(el, "dark", { renderer: "canvas" });
  charts.add(c);
  return c;
}

export function disposeAll() {
  for (const c of charts) c.dispose();
  charts.clear();
}

window.addEventListener("resize", () => { for (const c of charts) c.resize(); });

const BASE = {
  backgroundColor: "transparent",
  textStyle: { fontFamily: getComputedStyle(document.documentElement).getPropertyValue("--font") },
  grid: { left: 48, right: 16, top: 30, bottom: 28, containLabel: true },
  tooltip: { trigger: "axis" },
};

export function lineOption(seriesList, { unit = "" } = {}) {
  return {
    ...BASE,
    legend: { top: 0, textStyle: { color: "#8aa3b8" } },
    xAxis: { type: "time" },
    yAxis: { type: "value", name: unit, splitLine: { lineStyle: { color: "#24405a" } } },
    series: seriesList.map((s) => ({ type: "line", showSymbol: false, smooth: true, ...s })),
  };
}

export function barOption(categories, values, { unit = "", horizontal = false, color } = {}) {
  const cat = { type: "category", data: categories, axisLabel: { interval: 0, rotate: horizontal ? 0 : 40 } };
  const val = { type: "value", name: unit, splitLine: { lineStyle: { color: "#24405a" } } };
  return {
    ...BASE,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? { ...cat, inverse: true } : val,
    series: [{ type: "bar", data: values, barMaxWidth: 22, itemStyle: color ? { color } : undefined }],
  };
}

export function pieOption(items) {
  return {
    ...BASE,
    tooltip: { trigger: "item" },
    legend: { bottom: 0, textStyle: { color: "#8aa3b8" } },
    series: [{ type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"], data: items,
               label: { formatter: "{b}: {c}" } }],
  };
}

/** Sum several API series bucket by bucket: [[ts_ms, total], ...] (shifted by shiftMs). */
export function sumSeries(list, shiftMs = 0) {
  const acc = new Map();
  for (const s of list) {
    s.ts.forEach((ts, i) => {
      const v = s.values[i];
      if (v == null) return;
      const k = (typeof ts === "number" ? ts : Date.parse(ts)) + shiftMs; // epoch ms or RFC 3339
      acc.set(k, (acc.get(k) || 0) + v);
    });
  }
  return [...acc.entries()].sort((a, b) => a[0] - b[0]);
}
