"""Chinese names and units of the indicator figures, as the reports and exports head them.

Keys are the indicator names of ``aggregation`` (indicator columns, economic figures, the
intensities of ``aggregation.indicators``); money is in 10⁴ yuan (万元) as the economic reports
are filed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from reports.model import Column

INDICATORS: Mapping[str, tuple[str, str, int]] = MappingProxyType(
    {  # key: (Chinese name, unit, decimals shown)
        "electricity_kwh": ("用电量", "kWh", 1),
        "electricity_export_kwh": ("上网电量", "kWh", 1),
        "natural_gas_nm3": ("天然气", "Nm³", 1),
        "steam_t": ("蒸汽", "t", 2),
        "heat_gj": ("热力", "GJ", 2),
        "raw_coal_t": ("原煤", "t", 2),
        "water_m3": ("用水量", "m³", 1),
        "steam_heat_gj": ("蒸汽热量", "GJ", 2),
        "tce_equivalent": ("综合能耗（当量值）", "tce", 3),
        "tce_equal": ("综合能耗（等价值）", "tce", 3),
        "co2_t": ("二氧化碳排放", "t", 2),
        "so2_kg": ("二氧化硫排放量", "kg", 2),
        "nox_kg": ("氮氧化物排放量", "kg", 2),
        "dust_kg": ("颗粒物排放量", "kg", 2),
        "cod_kg": ("化学需氧量排放量", "kg", 2),
        "nh3n_kg": ("氨氮排放量", "kg", 2),
        "exceedance_minutes": ("超标时长", "min", 0),
        "readings": ("读数条数", "", 0),
        "output_value": ("工业总产值", "万元", 2),
        "value_added": ("工业增加值", "万元", 2),
        "tax": ("税收", "万元", 2),
        "fixed_asset_investment": ("固定资产投资", "万元", 2),
        "employees": ("从业人员", "人", 0),
        "rd_expense": ("研发经费", "万元", 2),
        "land_area_mu": ("用地面积", "亩", 2),
        "enterprises": ("企业数", "家", 0),
        "leading_industry_share": ("主导产业集中度", "", 4),
        "rd_intensity": ("研发投入强度", "", 4),
        "tce_per_output": ("单位产值能耗", "tce/万元", 4),
        "tce_per_value_added": ("单位增加值能耗", "tce/万元", 4),
        "tce_per_mu": ("亩均能耗", "tce/亩", 4),
        "co2_per_output": ("单位产值碳排放", "t/万元", 4),
        "co2_per_value_added": ("单位增加值碳排放", "t/万元", 4),
        "output_per_mu": ("亩均产值", "万元/亩", 2),
        "tax_per_mu": ("亩均税收", "万元/亩", 2),
        "investment_per_mu": ("亩均投资", "万元/亩", 2),
    }
)

ARTICLE_21_GROUPS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "total_scale": "总体规模",
        "economic_benefit": "经济效益",
        "industrial_concentration": "产业集聚",
        "science_innovation": "科技创新",
        "input_output_intensity": "投入产出强度",
        "employment": "就业",
        "environmental_protection": "生态环境保护",
        "energy_use": "能源利用",
    }
)

CARRIERS_ZH: Mapping[str, str] = MappingProxyType(
    {
        "electricity": "电力",
        "natural_gas": "天然气",
        "steam": "蒸汽",
        "heat": "热力",
        "raw_coal": "原煤",
        "water": "水",
    }
)

SEVERITY_ZH: Mapping[str, str] = MappingProxyType(
    {"critical": "紧急", "major": "重要", "minor": "次要", "warning": "警告"}
)
STATE_ZH: Mapping[str, str] = MappingProxyType(
    {"pending": "待确认", "firing": "告警中", "resolved": "已恢复", "cancelled": "已取消"}
)
CATEGORY_ZH: Mapping[str, str] = MappingProxyType(
    {"energy": "能源", "emissions": "排放", "environment": "环境", "safety": "安全"}
)


def column(key: str) -> Column:
    """The column of an indicator; KeyError naming an unknown one."""
    try:
        name, unit, decimals = INDICATORS[key]
    except KeyError:
        raise KeyError(f"indicator {key!r} has no Chinese label") from None
    return Column(name, unit, decimals=decimals)
