// The energy-management view's tables as CSV files for spreadsheet tools: Chinese headers with
// their units, times in the park's zone (the header says which), UTF-8 with a BOM.
import { time, zoneLabel } from "./format.js";
import { carrierUnit, metricName, unitOf } from "./names.js";

const ROLE = { main: "总表", sub: "分表", virtual: "虚拟表" };
// Time-of-use periods in the order of the cost answer's kwh and cost arrays.
const PERIODS = [["deep_valley", "深谷"], ["valley", "谷"], ["flat", "平"], ["peak", "峰"], ["critical_peak", "尖峰"]];
const CARRIER = { electricity: "电", water: "水", natural_gas: "天然气", steam: "蒸汽", heat: "热力", raw_coal: "原煤" };
const SOURCE = { page: "页面录入", import: "文件导入" };

const cell = (c) => `"${String(c ?? "").replace(/"/g, '""')}"`;
export const csv = (rows) => "\ufeff" + rows.map((r) => r.map(cell).join(",")).join("\r\n");
const round = (v, d) => (v == null || !Number.isFinite(v) ? "" : Number(v.toFixed(d)));
const sum = (xs) => (xs || []).reduce((a, b) => a + (b ?? 0), 0);
const at = (ms) => (ms == null ? "" : time(ms));
const atIso = (iso) => (iso ? time(Date.parse(iso)) : "");
const zone = () => `（园区时间 ${zoneLabel()}）`;
const unitOfMetricId = (ctx, id) => unitOf(ctx.metricById.get(id)?.code);

/** The enterprise's meters with each main meter's balance against its sub-meters. */
export function treeCsv(meters, balances) {
  const by = new Map(balances.map((b) => [b.parent, b]));
  return csv([["表计", "名称", "类型", "能源品种", "上级", "公式", "计入总量", "合同容量（kW）", "计量单位",
    "本表计量", "下级表合计", "损耗", "损耗率（%）", "检定到期"],
  ...meters.map((m) => {
    const b = by.get(m.code);
    return [m.code, m.name, ROLE[m.role], CARRIER[m.carrier] ?? m.carrier, m.parent ?? "", m.formula ?? "",
      m.counts ? "是" : "否", m.contracted_kw ?? "", carrierUnit(m.carrier),
      b ? round(sum(b.parent_hourly), 3) : "", b ? round(sum(b.children_hourly), 3) : "", b ? round(b.loss, 3) : "",
      b ? round(b.loss_pct, 2) : "", m.attributes?.calibration_due ?? ""];
  })]);
}

/** The month's electricity per meter and time-of-use period: kWh, cost, demand against contract. */
export function costCsv(cost) {
  const head = ["表计", "类型", "计入总量", ...PERIODS.map(([, n]) => `${n}电量（kWh）`), ...PERIODS.map(([, n]) => `${n}电费（元）`),
    "最大需量（kW）", "合同容量（kW）", "需量电费（元）"];
  const rows = cost.meters.map((m) => [m.code, ROLE[m.role] ?? m.role, m.counts ? "是" : "否", ...m.kwh,
    ...(m.cost || PERIODS.map(() => "")), m.demand_kw, m.contracted_kw ?? "", m.demand_charge ?? ""]);
  rows.push(["合计", "", "", ...cost.total.kwh, ...cost.total.cost, "", "", cost.total.demand_charge]);
  return csv([head, ...rows]);
}

/** Meter changes: the old register's final reading and the new one's initial (``device``: id → name). */
export function changesCsv(changes, ctx, device) {
  return csv([["设备", "计量指标", `换表时间${zone()}`, "旧表止码", "新表起码", "单位", "新表编号", "备注", "录入人",
    `录入时间${zone()}`],
  ...changes.map((c) => [device(c.device_id), metricName(ctx.metricById.get(c.metric_id)?.code),
    at(c.at_ms), c.old_final, c.new_initial, unitOfMetricId(ctx, c.metric_id), c.new_serial, c.note, c.recorded_by,
    atIso(c.recorded_at)])]);
}

/** Manual readings with every correction: the audit trail (old value, who, when, why). */
export function manualCsv(readings, ctx, device) {
  return csv([["记录编号", "设备", "计量指标", `读数时间${zone()}`, "读数", "单位", "来源", "录入人", `录入时间${zone()}`,
    "更正原因", "更正前读数", "更正的记录", "被更正为记录"],
  ...readings.map((r) => [r.reading_id, device(r.device_id), metricName(ctx.metricById.get(r.metric_id)?.code),
    at(r.ts_ms), r.value, unitOfMetricId(ctx, r.metric_id), SOURCE[r.source] ?? r.source, r.entered_by, atIso(r.entered_at),
    r.reason ?? "", r.old_value ?? "", r.supersedes ?? "", r.superseded_by ?? ""])]);
}

/** Unit consumption of the month's products against their limits. */
export function outputCsv(report) {
  return csv([["月份", "产品", "产量", "产品单位", "能耗分摊比例", "本月综合能耗（tce）", "单位产品能耗（kgce/产品单位）",
    "限额（kgce/产品单位）", "是否超限额", "录入人"],
  ...report.products.map((p) => [report.month.slice(0, 7), p.product, p.quantity, p.unit, p.energy_share,
    round(report.tce_equivalent, 4), round(p.kgce_per_unit, 3), p.limit_kgce ?? "",
    p.above_limit == null ? "" : p.above_limit ? "是" : "否", p.entered_by])]);
}
