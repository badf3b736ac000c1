// Labels of the region view (Articles 12, 21, 22), in both languages.
import { addLabels } from "./i18n.js";

addLabels({
  zh: {
    "nav.region": "全区", "region.title": "自治区工业园区综合发展水平评价", "region.year": "年度",
    "region.park": "园区", "region.league": "盟市", "region.designated": "认定类别", "region.class": "产值类别",
    "region.output": "年度产值（万元）", "region.score": "综合得分", "region.rank": "排名", "region.flags": "结果",
    "region.trend": "历年排名", "region.missing": "未报送", "region.rewarded": "前10名（奖励）",
    "region.penalised": "后3名（扣减补助比例）", "region.downgrade": "连续{n}年未达类别标准", "region.none": "尚无园区报送",
    "region.class0": "未达二类", "region.assumption": "评价权重为平台假设，待自治区办公室发布评价考核办法（第二十一条）",
    "region.months": "{n} 个月", "region.not_submitted": "未报送年报",
    "region.export_xlsx": "导出 XLSX", "region.export_csv": "导出 CSV", "region.mine": "本园区评价结果（自治区发布）",
    "region.mine_none": "自治区尚未发布本园区的评价结果", "region.published": "发布日期",
  },
  en: {
    "nav.region": "Region", "region.title": "Regional evaluation of industrial parks", "region.year": "Year",
    "region.park": "Park", "region.league": "League/city", "region.designated": "Designated", "region.class": "Class by output",
    "region.output": "Output (10⁴ yuan)", "region.score": "Score", "region.rank": "Rank", "region.flags": "Result",
    "region.trend": "Rank by year", "region.missing": "Missing", "region.rewarded": "Top 10 (rewarded)",
    "region.penalised": "Bottom 3 (subsidy cut)", "region.downgrade": "{n} years below class", "region.none": "No park has submitted yet",
    "region.class0": "below class 2", "region.assumption": "Weights are the platform's assumption until the regional office publishes its method (Art. 21)",
    "region.months": "{n} months", "region.not_submitted": "no annual package",
    "region.export_xlsx": "Export XLSX", "region.export_csv": "Export CSV", "region.mine": "This park's evaluation (published by the region)",
    "region.mine_none": "The region has not published this park's result yet", "region.published": "Published",
  },
});
