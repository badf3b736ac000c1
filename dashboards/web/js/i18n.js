// Labels in Chinese (default) and English; the choice is kept in localStorage.
const DICT = {
  zh: {
    "app.title": "智慧园区运行监测中心",
    "nav.overview": "总览", "nav.energy": "能源", "nav.environment": "环境", "nav.safety": "安全",
    "nav.enterprise": "企业", "nav.regulator": "监管",
    "login.title": "使用 API 密钥登录", "login.key": "API 密钥", "login.submit": "登录", "login.logout": "退出",
    "login.hint": "密钥只保存在本浏览器标签页的会话存储中。", "login.failed": "登录失败",
    "live.on": "实时", "live.off": "离线", "live.title": "实时数据流",
    "carrier.electricity": "电", "carrier.water": "水", "carrier.natural_gas": "天然气", "carrier.steam": "蒸汽",
    "carrier.tce": "综合能耗", "carrier.co2": "二氧化碳排放",
    "carrier.heat": "热力", "carrier.raw_coal": "原煤", "unit.tce": "吨标准煤", "unit.t": "吨",
    "vs.equal_days": "与上月前 {n} 天同期相比", "vs.incomplete": "同期数据不全",
    "vs.incomplete_title": "上月同期的日数据不完整，不作环比", "energy.share": "本月分品种能耗占比（折标准煤）",
    "energy.top": "本月综合能耗前十企业", "live.at": "最新", "aqi.pollutant": "污染物", "aqi.iaqi": "分指数",
    "common.no_data": "暂无数据", "common.other_metric": "其他指标", "common.park_time": "园区时间",
    "alarms.abnormal": "超限",
    "paging.detail": "通知", "paging.log": "通知记录", "paging.channel": "渠道", "paging.receiver": "接收方", "paging.target": "发送对象",
    "paging.result": "结果", "paging.latency": "耗时", "paging.carried": "告警条数", "paging.error": "错误", "paging.ok": "成功",
    "paging.failed": "失败", "paging.no_attempts": "尚无通知记录", "paging.escalations": "升级", "paging.policy": "升级策略",
    "paging.level": "已通知级别", "paging.repeats": "重复次数", "paging.next": "下次通知", "paging.done": "结束",
    "paging.done_acknowledged": "已确认", "paging.done_resolved": "已恢复", "paging.done_policy_gone": "策略已删除",
    "paging.on_duty": "当前值班", "paging.roster": "值班表", "paging.member": "值班人员", "paging.why": "依据", "paging.shift": "班次日期",
    "paging.why_rotation": "轮班", "paging.why_override": "临时替班", "paging.why_holiday": "节假日值班", "paging.why_invalid": "值班表无效",
    "paging.no_rosters": "未配置值班表", "paging.close": "关闭",
    "paging.ch_email": "邮件", "paging.ch_wecom": "企业微信", "paging.ch_dingtalk": "钉钉", "paging.ch_feishu": "飞书", "paging.ch_sms": "短信",
    "kind.elec_meter": "电表", "kind.water_meter": "水表", "kind.gas_meter": "燃气表", "kind.steam_meter": "蒸汽表",
    "kind.heat_meter": "热量表", "kind.coal_scale": "煤计量秤", "kind.stack_cems": "烟气在线监测", "kind.wastewater": "废水在线监测",
    "kind.air_station": "空气质量监测站", "kind.gas_detector": "气体探测器", "kind.temp_sensor": "温度传感器",
    "kind.pressure_sensor": "压力传感器", "kind.fire_alarm": "火灾报警器",
    "screen.key_title": "大屏显示密钥", "screen.key_hint": "只读显示密钥保存在本机浏览器中，重启后自动显示。",
    "period.today": "今日", "period.yesterday": "昨日", "period.month": "本月", "period.last_month": "上月",
    "vs": "环比", "aqi.now": "当前空气质量指数", "aqi.primary": "首要污染物",
    "alarms.active_by_category": "活动告警（按类别）", "alarms.list": "告警列表", "alarms.none": "暂无告警",
    "alarms.ack": "确认", "alarms.ack_title": "确认告警", "alarms.comment": "处理意见",
    "alarms.cancel": "取消", "alarms.acked": "已确认", "alarms.time": "时间", "alarms.severity": "级别",
    "alarms.state": "状态", "alarms.enterprise": "企业", "alarms.device": "设备", "alarms.summary": "内容",
    "alarms.value": "数值", "alarms.action": "操作",
    "sev.critical": "紧急", "sev.major": "重要", "sev.minor": "次要", "sev.warning": "提示",
    "state.firing": "告警中", "state.acknowledged": "已确认", "state.resolved": "已恢复",
    "category.energy": "能源", "category.emissions": "排放", "category.environment": "环境", "category.safety": "安全",
    "energy.load": "园区用电负荷", "energy.by_enterprise": "本月各企业综合能耗",
    "energy.ranking": "能耗排名", "energy.rank": "排名", "energy.today_series": "今日", "energy.yesterday_series": "昨日",
    "energy.range_series": "所选时段", "energy.previous_series": "上一时段",
    "env.stacks": "废气排放（折算浓度，对照限值）", "env.wastewater": "废水排放", "env.aqi": "环境空气质量",
    "env.o2": "含氧量", "env.limit": "限值", "env.status": "状态", "env.ok": "达标", "env.exceed": "超标",
    "env.hourly_aqi": "小时 AQI（近 24 小时）", "env.daily_aqi": "日 AQI",
    "safety.gas": "可燃/有毒气体探测器", "safety.fire": "火灾报警", "safety.fire_ok": "正常",
    "safety.fire_on": "火警", "safety.no_devices": "无设备",
    "ent.select": "选择企业", "ent.energy": "企业能耗", "ent.devices": "设备实时数据", "ent.alarms": "企业告警",
    "ent.metric": "指标", "ent.value": "数值", "ent.unit": "单位", "ent.ts": "时间",
    "reg.title": "监管视图", "reg.bureau": "监管部门", "reg.exceedances": "超标企业", "reg.count": "告警数",
    "reg.environment": "生态环境部门", "reg.emergency": "应急管理部门",
    "common.enterprise": "企业", "common.device": "设备", "common.loading": "加载中…",
    "common.unavailable": "数据暂不可用", "common.updated": "更新于",
    "stale.alarms": "告警服务无心跳，告警可能未触发，自", "stale.statistics": "统计数据未更新，自", "stale.never": "启动以来",
    "stale.missing": "告警服务未收到部分安全读数（已判/已存）：",
    "role.admin": "管理员", "role.operator": "运行值班", "role.enterprise": "企业用户",
    "role.regulator": "监管部门", "role.readonly": "只读",
  },
  en: {
    "app.title": "Smart Park Operations Centre",
    "nav.overview": "Overview", "nav.energy": "Energy", "nav.environment": "Environment", "nav.safety": "Safety",
    "nav.enterprise": "Enterprise", "nav.regulator": "Regulator",
    "login.title": "Sign in with an API key", "login.key": "API key", "login.submit": "Sign in", "login.logout": "Sign out",
    "login.hint": "The key is kept only in this browser tab's session storage.", "login.failed": "Sign-in failed",
    "live.on": "Live", "live.off": "Offline", "live.title": "live data stream",
    "carrier.electricity": "Electricity", "carrier.water": "Water", "carrier.natural_gas": "Natural gas", "carrier.steam": "Steam",
    "carrier.tce": "Total energy", "carrier.co2": "CO₂ emitted",
    "carrier.heat": "Heat", "carrier.raw_coal": "Raw coal", "unit.tce": "tce", "unit.t": "t",
    "vs.equal_days": "against the first {n} days of last month", "vs.incomplete": "incomplete",
    "vs.incomplete_title": "last month lacks daily figures for the same days: no month-over-month", "energy.share": "Energy by carrier this month (tce)",
    "energy.top": "Top ten enterprises by energy this month", "live.at": "latest", "aqi.pollutant": "Pollutant", "aqi.iaqi": "Sub-index",
    "common.no_data": "No data", "common.other_metric": "Other metric", "common.park_time": "Park time",
    "alarms.abnormal": " out of limits",
    "paging.detail": "Notices", "paging.log": "Notification log", "paging.channel": "Channel", "paging.receiver": "Receiver", "paging.target": "Sent to",
    "paging.result": "Result", "paging.latency": "Latency", "paging.carried": "Alarms in message", "paging.error": "Error", "paging.ok": "Delivered",
    "paging.failed": "Failed", "paging.no_attempts": "No notification yet", "paging.escalations": "Escalation", "paging.policy": "Policy",
    "paging.level": "Levels paged", "paging.repeats": "Repeats", "paging.next": "Next page", "paging.done": "Ended",
    "paging.done_acknowledged": "acknowledged", "paging.done_resolved": "resolved", "paging.done_policy_gone": "policy deleted",
    "paging.on_duty": "On duty now", "paging.roster": "Roster", "paging.member": "On duty", "paging.why": "Basis", "paging.shift": "Shift of",
    "paging.why_rotation": "Rotation", "paging.why_override": "Override", "paging.why_holiday": "Holiday duty", "paging.why_invalid": "Roster invalid",
    "paging.no_rosters": "No rosters", "paging.close": "Close",
    "paging.ch_email": "Email", "paging.ch_wecom": "WeCom", "paging.ch_dingtalk": "DingTalk", "paging.ch_feishu": "Feishu", "paging.ch_sms": "SMS",
    "kind.elec_meter": "Electricity meter", "kind.water_meter": "Water meter", "kind.gas_meter": "Gas meter", "kind.steam_meter": "Steam meter",
    "kind.heat_meter": "Heat meter", "kind.coal_scale": "Coal scale", "kind.stack_cems": "Stack CEMS", "kind.wastewater": "Wastewater monitor",
    "kind.air_station": "Air quality station", "kind.gas_detector": "Gas detector", "kind.temp_sensor": "Temperature sensor",
    "kind.pressure_sensor": "Pressure sensor", "kind.fire_alarm": "Fire alarm",
    "screen.key_title": "Wall screen display key", "screen.key_hint": "The read-only display key is kept in this browser: the screen comes back by itself after a reboot.",
    "period.today": "Today", "period.yesterday": "Yesterday", "period.month": "This month", "period.last_month": "Last month",
    "vs": "MoM", "aqi.now": "AQI now", "aqi.primary": "Primary pollutant",
    "alarms.active_by_category": "Active alarms by category", "alarms.list": "Alarms", "alarms.none": "No alarms",
    "alarms.ack": "Acknowledge", "alarms.ack_title": "Acknowledge alarm", "alarms.comment": "Comment",
    "alarms.cancel": "Cancel", "alarms.acked": "Acknowledged", "alarms.time": "Time", "alarms.severity": "Severity",
    "alarms.state": "State", "alarms.enterprise": "Enterprise", "alarms.device": "Device", "alarms.summary": "Summary",
    "alarms.value": "Value", "alarms.action": "Action",
    "sev.critical": "Critical", "sev.major": "Major", "sev.minor": "Minor", "sev.warning": "Warning",
    "state.firing": "Firing", "state.acknowledged": "Acknowledged", "state.resolved": "Resolved",
    "category.energy": "Energy", "category.emissions": "Emissions", "category.environment": "Environment", "category.safety": "Safety",
    "energy.load": "Park electric load", "energy.by_enterprise": "Energy by enterprise this month",
    "energy.ranking": "Ranking", "energy.rank": "Rank", "energy.today_series": "Today", "energy.yesterday_series": "Yesterday",
    "energy.range_series": "This range", "energy.previous_series": "The range before",
    "env.stacks": "Stack emissions (at reference O2, against limits)", "env.wastewater": "Wastewater", "env.aqi": "Ambient air quality",
    "env.o2": "O2", "env.limit": "Limit", "env.status": "Status", "env.ok": "Compliant", "env.exceed": "Exceeding",
    "env.hourly_aqi": "Hourly AQI (last 24 h)", "env.daily_aqi": "Daily AQI",
    "safety.gas": "Gas detectors", "safety.fire": "Fire alarms", "safety.fire_ok": "Normal",
    "safety.fire_on": "FIRE", "safety.no_devices": "No devices",
    "ent.select": "Enterprise", "ent.energy": "Enterprise energy", "ent.devices": "Devices, latest readings", "ent.alarms": "Enterprise alarms",
    "ent.metric": "Metric", "ent.value": "Value", "ent.unit": "Unit", "ent.ts": "Time",
    "reg.title": "Regulator view", "reg.bureau": "Bureau", "reg.exceedances": "Enterprises with alarms", "reg.count": "Alarms",
    "reg.environment": "Environment bureau", "reg.emergency": "Emergency management",
    "common.enterprise": "Enterprise", "common.device": "Device", "common.loading": "Loading…",
    "common.unavailable": "Data unavailable", "common.updated": "Updated",
    "stale.alarms": "Alarms stale: the alerting service has no heartbeat since", "stale.statistics": "Statistics stale since", "stale.never": "start-up",
    "stale.missing": "Safety readings the alarms did not see (judged / stored):",
    "role.admin": "Admin", "role.operator": "Operator", "role.enterprise": "Enterprise",
    "role.regulator": "Regulator", "role.readonly": "Read-only",
  },
};

let lang = localStorage.getItem("smartpark.lang") === "en" ? "en" : "zh";
const listeners = [];

export function t(key) {
  return DICT[lang][key] ?? DICT.zh[key] ?? key;
}

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  localStorage.setItem("smartpark.lang", lang);
  applyStatic(document);
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

/** Fill every element carrying data-i18n (text) or data-i18n-title (tooltip). */
export function applyStatic(root) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export const DICTIONARIES = DICT;

/** More labels, from a module of their own (the plan, device detail, filters): {zh: {}, en: {}}. */
export function addLabels(more) {
  for (const l of Object.keys(DICT)) Object.assign(DICT[l], more[l] || {});
}
