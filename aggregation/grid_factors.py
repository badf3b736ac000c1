"""Electricity CO2 factors by data year and province or grid region, and how a park's region
picks one.

The Ministry of Ecology and Environment with the National Bureau of Statistics publish, per data
year, national, regional-grid and provincial average factors (kgCO2/kWh = tCO2/MWh) "for
accounting the CO2 of electricity consumption": data year 2021 in announcement 2024 No. 12
(2024-04-12), 2022 in the announcement of 2024-12-20, computed the same way. A park names its
region (``parks.grid_region``): a province, a part of one (Inner Mongolia's two grids), a regional
grid or ``national``.

How a factor is chosen, and every departure is reported with the figure (``Chosen.note``):

- the data year's table; a data year after the newest table takes the newest one (the tables
  appear one to two years late, so statistics use the latest published), noted as such; a year
  before the oldest table has no factor: an error for that figure only (:class:`NoFactor`);
- within the table: the region's province, else its regional grid, else the national average,
  each step down noted. Inner Mongolia west (蒙西, Inner Mongolia Power's grid, part of the North
  China regional grid) and east (蒙东, State Grid's, part of the Northeast grid) share the one
  provincial figure published for Inner Mongolia; without it they fall to their own regional grid.

Sources and their standing (cite in tests; "verify" where only a transcription was read):
- 2021 and 2022 provincial and regional figures: a public transcription of the two announcements'
  tables (verify against the PDF annexes); the 2022 national (0.5366), North China (0.6776) and
  Inner Mongolia (0.6849) figures agree with ../shared/reference/standards.md §2.
- 2023 national, fossil and regional figures: standards.md §2. No 2023 provincial table could be
  read here, so 2023 provinces fall to their regional grid (noted).
- Grid membership (North China incl. Inner Mongolia west, Northeast incl. Inner Mongolia east,
  Central: Henan, Hubei, Hunan, Jiangxi; Southwest: Sichuan, Chongqing, Tibet): the announcements'
  calculation notes, verify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

SOURCE = "MEE/NBS electricity CO2 emission factors (全国、区域和省级电力平均二氧化碳排放因子)"
NATIONAL = "national"


class NoFactor(LookupError):
    """No factor can be given for this figure (the rest of a batch goes on without it)."""


@dataclass(frozen=True, slots=True)
class Region:
    name: str  # as the announcements name it
    province: str | None  # key of the provincial figure, if any
    grid: str | None  # key of the regional-grid figure, if any


def _regions() -> Mapping[str, Region]:
    grids = {
        "north": "华北",
        "northeast": "东北",
        "east": "华东",
        "central": "华中",
        "northwest": "西北",
        "south": "南方",
        "southwest": "西南",
    }
    provinces = {  # key: (name, regional grid)
        "beijing": ("北京", "north"),
        "tianjin": ("天津", "north"),
        "hebei": ("河北", "north"),
        "shanxi": ("山西", "north"),
        "shandong": ("山东", "north"),
        "inner_mongolia": ("内蒙古", "north"),  # the province as a whole; its two grids below
        "liaoning": ("辽宁", "northeast"),
        "jilin": ("吉林", "northeast"),
        "heilongjiang": ("黑龙江", "northeast"),
        "shanghai": ("上海", "east"),
        "jiangsu": ("江苏", "east"),
        "zhejiang": ("浙江", "east"),
        "anhui": ("安徽", "east"),
        "fujian": ("福建", "east"),
        "henan": ("河南", "central"),
        "hubei": ("湖北", "central"),
        "hunan": ("湖南", "central"),
        "jiangxi": ("江西", "central"),
        "sichuan": ("四川", "southwest"),
        "chongqing": ("重庆", "southwest"),
        "tibet": ("西藏", "southwest"),
        "shaanxi": ("陕西", "northwest"),
        "gansu": ("甘肃", "northwest"),
        "qinghai": ("青海", "northwest"),
        "ningxia": ("宁夏", "northwest"),
        "xinjiang": ("新疆", "northwest"),
        "guangdong": ("广东", "south"),
        "guangxi": ("广西", "south"),
        "yunnan": ("云南", "south"),
        "guizhou": ("贵州", "south"),
        "hainan": ("海南", "south"),
    }
    out: dict[str, Region] = {NATIONAL: Region("全国", None, None)}
    out.update({k: Region(n, None, k) for k, n in grids.items()})
    out.update({k: Region(n, k, g) for k, (n, g) in provinces.items()})
    out["inner_mongolia_west"] = Region("蒙西", "inner_mongolia", "north")
    out["inner_mongolia_east"] = Region("蒙东", "inner_mongolia", "northeast")
    return MappingProxyType(out)


REGIONS = _regions()


def _year(national: float, fossil: float, **figures: float) -> Mapping[str, float]:
    return MappingProxyType({NATIONAL: national, "national_fossil": fossil, **figures})


# kgCO2/kWh by data year. Keys: REGIONS' province and grid keys, "national", "national_fossil".
FACTORS: Mapping[int, Mapping[str, float]] = MappingProxyType(
    {
        2021: _year(
            0.5568,
            0.8426,
            north=0.7120,
            northeast=0.6012,
            east=0.5992,
            central=0.5354,
            northwest=0.5951,
            south=0.4326,
            southwest=0.2113,
            beijing=0.5688,
            tianjin=0.7355,
            hebei=0.7901,
            shanxi=0.7222,
            shandong=0.6838,
            inner_mongolia=0.7025,
            liaoning=0.5876,
            jilin=0.5629,
            heilongjiang=0.6342,
            shanghai=0.5834,
            jiangsu=0.6451,
            zhejiang=0.5422,
            anhui=0.7075,
            fujian=0.4711,
            henan=0.6369,
            hubei=0.3672,
            hunan=0.5138,
            jiangxi=0.5835,
            sichuan=0.1255,
            chongqing=0.4743,
            shaanxi=0.6336,
            gansu=0.4955,
            qinghai=0.1326,
            ningxia=0.6546,
            xinjiang=0.6577,
            guangdong=0.4715,
            guangxi=0.5154,
            yunnan=0.1235,
            guizhou=0.5182,
            hainan=0.4524,
        ),
        2022: _year(
            0.5366,
            0.8325,
            north=0.6776,
            northeast=0.5564,
            east=0.5617,
            central=0.5395,
            northwest=0.5857,
            south=0.3869,
            southwest=0.2268,
            beijing=0.5580,
            tianjin=0.7041,
            hebei=0.7252,
            shanxi=0.7096,
            shandong=0.6410,
            inner_mongolia=0.6849,
            liaoning=0.5626,
            jilin=0.4932,
            heilongjiang=0.5368,
            shanghai=0.5849,
            jiangsu=0.5978,
            zhejiang=0.5153,
            anhui=0.6782,
            fujian=0.4092,
            henan=0.6058,
            hubei=0.4364,
            hunan=0.4900,
            jiangxi=0.5752,
            sichuan=0.1404,
            chongqing=0.5227,
            shaanxi=0.6558,
            gansu=0.4772,
            qinghai=0.1567,
            ningxia=0.6423,
            xinjiang=0.6231,
            guangdong=0.4403,
            guangxi=0.4044,
            yunnan=0.1073,
            guizhou=0.4989,
            hainan=0.4184,
        ),
        2023: _year(
            0.5306,
            0.8273,
            north=0.6361,
            northeast=0.5122,
            east=0.5500,
            central=0.5271,
            northwest=0.5543,
            south=0.4042,
            southwest=0.2472,
        ),
    }
)


@dataclass(frozen=True, slots=True)
class Chosen:
    """A coefficient with the table key it came from; ``note`` says why it is not the data
    year's own figure for the region (None: it is)."""

    value: float
    key: str
    table: str
    note: str | None = None


def chain(region: str) -> list[str]:
    """Table keys to try for a region, most specific first."""
    r = REGIONS.get(region)
    if r is None:
        raise NoFactor(f"unknown grid region {region!r}; known: {sorted(REGIONS)}")
    keys = [k for k in (r.province, r.grid, NATIONAL) if k is not None]
    return list(dict.fromkeys(keys))


def factor(year: int, region: str, factors: Mapping[int, Mapping[str, float]] = FACTORS) -> Chosen:
    """kgCO2/kWh for electricity consumed in ``year`` in ``region``, with a note on any fallback."""
    years = sorted(y for y in factors if y <= year)
    if not years:
        raise NoFactor(
            f"no electricity CO2 factor for data year {year}: the tables cover {min(factors)}-{max(factors)}"
        )
    used = years[-1]
    table = factors[used]
    keys = chain(region)
    key = next((k for k in keys if k in table), None)
    if key is None:
        raise NoFactor(f"the {used} table has no figure for {region!r} nor its fallbacks {keys}")
    notes = []
    if used != year:
        notes.append(f"data year {year} has no table yet: the latest published ({used}) is used")
    if key != keys[0]:
        notes.append(f"no {keys[0]} figure in the {used} table: {key} used")
    return Chosen(table[key], f"{used}:{key}", SOURCE, "; ".join(notes) or None)
