// Labels of the park plan, the device detail, the range picker, completeness and the alarm
// filters, in both languages (added to i18n.js's dictionaries on import).
import { addLabels } from "./i18n.js";

addLabels({
  zh: {
    "park.select": "选择园区", "park.failed": "园区切换失败",
    "nav.plan": "一张图", "plan.title": "园区一张图", "plan.none": "本园区尚无平面图",
    "plan.online": "在线", "plan.offline": "离线", "plan.alarm": "告警", "plan.unplaced": "台设备未在图上",
    "plan.devices": "设备", "plan.click": "点击设备查看详情",
    "dev.title": "设备详情", "dev.back": "返回", "dev.last_seen": "最后上报", "dev.never": "从未上报",
    "dev.metrics": "指标曲线", "dev.alarms": "设备告警", "dev.completeness": "数据完整率",
    "dev.zone": "区域", "dev.kind": "类型", "dev.none": "未找到该设备",
    "range.1h": "1 小时", "range.24h": "24 小时", "range.7d": "7 天", "range.30d": "30 天", "range.custom": "自定义",
    "range.from": "从", "range.to": "到", "range.apply": "应用", "range.raw": "原始数据", "range.15m": "15 分钟均值",
    "range.1h_avg": "小时均值", "range.1d": "日均值", "range.bad": "结束时间须晚于开始时间",
    "comp.title": "在线率与数据完整率", "comp.online_rate": "设备在线率", "comp.transmission": "传输率",
    "comp.validity": "有效率", "comp.effective": "有效传输率", "comp.gaps": "数据缺口", "comp.none": "无缺口",
    "comp.expected": "应收", "comp.received": "实收", "comp.today": "今日",
    "filter.all": "全部", "state.active": "未恢复", "filter.severity": "级别", "filter.category": "类别", "filter.state": "状态",
    "filter.enterprise": "企业", "filter.sort": "排序", "sort.time": "时间（新→旧）", "sort.severity": "级别（高→低）",
    "sound.on": "告警声音：开", "sound.off": "告警声音：关", "sound.blocked": "点击页面任意处以启用告警声音",
  },
  en: {
    "park.select": "Choose the park", "park.failed": "Could not switch the park",
    "nav.plan": "Plan", "plan.title": "Park plan", "plan.none": "This park has no plan yet",
    "plan.online": "Online", "plan.offline": "Offline", "plan.alarm": "Alarm", "plan.unplaced": "devices not on the plan",
    "plan.devices": "Devices", "plan.click": "Click a device for its detail",
    "dev.title": "Device detail", "dev.back": "Back", "dev.last_seen": "Last reading", "dev.never": "never",
    "dev.metrics": "Metrics", "dev.alarms": "Device alarms", "dev.completeness": "Data completeness",
    "dev.zone": "Zone", "dev.kind": "Kind", "dev.none": "No such device",
    "range.1h": "1 h", "range.24h": "24 h", "range.7d": "7 d", "range.30d": "30 d", "range.custom": "Custom",
    "range.from": "From", "range.to": "To", "range.apply": "Apply", "range.raw": "raw readings", "range.15m": "15-minute means",
    "range.1h_avg": "hourly means", "range.1d": "daily means", "range.bad": "the end must be after the start",
    "comp.title": "Online rate and data completeness", "comp.online_rate": "Devices online", "comp.transmission": "Transmission",
    "comp.validity": "Validity", "comp.effective": "Effective", "comp.gaps": "Data gaps", "comp.none": "No gaps",
    "comp.expected": "Expected", "comp.received": "Received", "comp.today": "Today",
    "filter.all": "All", "state.active": "Active", "filter.severity": "Severity", "filter.category": "Category", "filter.state": "State",
    "filter.enterprise": "Enterprise", "filter.sort": "Sort", "sort.time": "Time (newest first)", "sort.severity": "Severity (highest first)",
    "sound.on": "Alarm sound: on", "sound.off": "Alarm sound: off", "sound.blocked": "Click anywhere to enable the alarm sound",
  },
});
