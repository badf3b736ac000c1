"""The columns of the indicator tables, in the groups the statistics report them in: energy by
carrier and in standard coal and CO2, emissions, and the enterprises' economic reports."""

from __future__ import annotations

from aggregation import emissions

CARRIER_COLUMN = {
    "electricity": "electricity_kwh",
    "electricity_export": "electricity_export_kwh",
    "natural_gas": "natural_gas_nm3",
    "steam": "steam_t",
    "heat": "heat_gj",
    "raw_coal": "raw_coal_t",
    "water": "water_m3",
}

# Indicator columns, in the groups the statistics report them in.
ENERGY_COLUMNS = (*CARRIER_COLUMN.values(), "steam_heat_gj", "tce_equivalent", "tce_equal", "co2_t")

# Figures NULL when a coefficient is missing for the year (their notes say why).
NULLABLE = frozenset({"tce_equal", "co2_t"})

EMISSION_COLUMNS = emissions.COLUMNS

QUANTITIES = (*ENERGY_COLUMNS, *EMISSION_COLUMNS, "readings")

ECONOMIC = ("output_value", "value_added", "tax", "fixed_asset_investment", "employees", "rd_expense")
