// Labels of the energy-management view, in both languages (added to i18n.js's dictionaries on import).
import { addLabels } from "./i18n.js";

addLabels({
  zh: {
    "em.title": "能源管理", "em.month": "月份", "em.tree": "计量树与平衡", "em.cost": "分时电量与电费",
    "em.demand": "最大需量与合同容量", "em.changes": "换表记录", "em.manual": "手工录入",
    "em.export": "导出 CSV", "em.meter": "表计", "em.role": "类型", "em.parent": "上级", "em.counts": "计入总量",
    "em.loss": "损耗率", "em.kwh": "电量", "em.cost_yuan": "电费", "em.demand_kw": "最大需量", "em.contract": "合同容量",
    "em.level": "状态", "em.charge": "需量电费", "em.at": "时间", "em.old_final": "旧表止码", "em.new_initial": "新表起码",
    "em.value": "读数", "em.by": "录入人", "em.reason": "原因", "em.superseded": "已被更正", "em.total": "合计",
    "em.forbidden": "无权查看能源管理", "em.yes": "是", "em.no": "否",
    "em.role.main": "总表", "em.role.sub": "分表", "em.role.virtual": "虚拟表",
    "em.level.ok": "正常", "em.level.approaching": "接近合同", "em.level.exceeded": "超合同", "em.level.none": "无合同",
    "em.period.deep_valley": "深谷", "em.period.valley": "谷", "em.period.flat": "平", "em.period.peak": "峰", "em.period.critical_peak": "尖峰",
  },
  en: {
    "em.title": "Energy management", "em.month": "Month", "em.tree": "Meter tree and balance", "em.cost": "kWh and cost by period",
    "em.demand": "Maximum demand against contract", "em.changes": "Meter changes", "em.manual": "Manual readings",
    "em.export": "Export CSV", "em.meter": "Meter", "em.role": "Role", "em.parent": "Parent", "em.counts": "In totals",
    "em.loss": "Loss", "em.kwh": "kWh", "em.cost_yuan": "Cost", "em.demand_kw": "Max demand", "em.contract": "Contract",
    "em.level": "State", "em.charge": "Demand charge", "em.at": "Time", "em.old_final": "Old final", "em.new_initial": "New initial",
    "em.value": "Reading", "em.by": "Entered by", "em.reason": "Reason", "em.superseded": "Superseded", "em.total": "Total",
    "em.forbidden": "Not allowed to read energy management", "em.yes": "yes", "em.no": "no",
    "em.role.main": "Main", "em.role.sub": "Sub", "em.role.virtual": "Virtual",
    "em.level.ok": "OK", "em.level.approaching": "Near contract", "em.level.exceeded": "Above contract", "em.level.none": "No contract",
    "em.period.deep_valley": "Deep valley", "em.period.valley": "Valley", "em.period.flat": "Flat", "em.period.peak": "Peak",
    "em.period.critical_peak": "Critical peak",
  },
});
