import pytest

from smartpark.catalogue import BY_CODE, BY_ID, DEVICE_KINDS, METRICS, MetricKind, kind_metrics, metric


def test_ids_and_codes_are_unique():
    assert len(BY_ID) == len(METRICS)
    assert len(BY_CODE) == len(METRICS)


def test_design_catalogue_is_covered():
    for code in (
        "elec.import_kwh",
        "elec.export_kwh",
        "elec.power_kw",
        "elec.pf",
        "water.volume_m3",
        "gas.volume_nm3",
        "steam.mass_t",
        "heat.energy_gj",
        "coal.mass_t",
        "stack.so2_mgm3",
        "stack.nox_mgm3",
        "stack.dust_mgm3",
        "stack.o2_pct",
        "stack.flow_m3h",
        "ww.cod_mgl",
        "ww.nh3n_mgl",
        "ww.ph",
        "ww.flow_m3h",
        "air.pm25_ugm3",
        "air.pm10_ugm3",
        "air.so2_ugm3",
        "air.no2_ugm3",
        "air.o3_ugm3",
        "air.co_mgm3",
        "safety.lel_pct",
        "safety.h2s_ppm",
        "safety.co_ppm",
        "safety.o2_pct",
        "safety.temp_c",
        "safety.pressure_mpa",
        "safety.fire_alarm",
    ):
        assert code in BY_CODE, code


def test_counters_are_energy_carriers():
    counters = [m for m in METRICS if m.kind is MetricKind.COUNTER]
    assert {m.code.split(".")[0] for m in counters} == {"elec", "water", "gas", "steam", "heat", "coal"}
    assert all(m.carrier for m in counters)


def test_plausible_range():
    ph = metric("ww.ph")
    assert ph.plausible(7.0)
    assert not ph.plausible(14.5)
    assert not ph.plausible(-0.1)


def test_every_device_kind_lists_known_metrics():
    for kind, codes in DEVICE_KINDS.items():
        assert codes, kind
        assert all(c in BY_CODE for c in codes), kind


def test_unknown_names_are_named_in_the_error():
    with pytest.raises(KeyError, match=r"'elec\.nope'"):
        metric("elec.nope")
    with pytest.raises(KeyError, match="'toaster'"):
        kind_metrics("toaster")
