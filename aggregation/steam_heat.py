"""The heat a steam meter's mass carries, at the enthalpy the meter declares (its device
attribute ``steam_enthalpy_kj_kg``) or the default one when that is missing or implausible."""

from __future__ import annotations

import logging
from typing import Any

from aggregation import coefficients as co
from aggregation import conversions as cv

log = logging.getLogger(__name__)

# Plausible enthalpy of process steam (kJ/kg): above water at 100 °C, below superheated steam of
# 25 MPa / 600 °C (IAPWS-IF97 about 3490 kJ/kg) with a margin.
ENTHALPY_RANGE_KJ_KG = (420.0, 4000.0)


def _enthalpy(device: int, declared: Any) -> float:
    default = co.STEAM_ENTHALPY_DEFAULT_KJ_KG.value
    if declared is None:
        return default
    lo, hi = ENTHALPY_RANGE_KJ_KG
    if isinstance(declared, bool) or not isinstance(declared, int | float) or not lo <= declared <= hi:
        log.warning(
            "device %d: steam_enthalpy_kj_kg=%r is not a number in [%s, %s] kJ/kg; %s used",
            device,
            declared,
            lo,
            hi,
            default,
        )
        return default
    return float(declared)


def meter_heat_gj(device: int, mass_t: float, declared_enthalpy: Any) -> float:
    """Heat above feedwater (GJ) of ``mass_t`` of one meter's steam."""
    return float(cv.steam_heat_gj(mass_t, _enthalpy(device, declared_enthalpy)))
