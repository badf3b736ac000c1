"""The generated park model: realistic structure, deterministic, readable by the registry."""

from __future__ import annotations

import copy
import re
import stat
from collections import Counter
from pathlib import Path

import pytest

from device_sim.industries import INDUSTRIES, PARK_OPERATIONS, SOURCES
from device_sim.model import (
    DEVICES_PER_GATEWAY,
    ModelError,
    generate_model,
    read_model,
    sim_parks,
    write_model,
)
from smartpark import park_plan, registry
from smartpark.catalogue import DEVICE_KINDS
from smartpark.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def model() -> dict:
    return generate_model(enterprises=40, seed=7)


def enterprises(model: dict) -> list[dict]:
    return model["parks"][0]["enterprises"]


def devices(ent: dict) -> list[dict]:
    return [d for g in ent["gateways"] for d in g["devices"]]


def without_credentials(model: dict) -> dict:
    """The model with every broker and data-logger password blanked (they come from secrets)."""
    out = copy.deepcopy(model)
    for e in enterprises(out):
        for g in e["gateways"]:
            g["password"] = "-"
            for d in g["devices"]:
                if "hj212_pw" in d["attributes"]:
                    d["attributes"]["hj212_pw"] = "-"
    return out


def test_same_seed_same_model_other_seed_other_model() -> None:
    first, again = generate_model(enterprises=5, seed=3), generate_model(enterprises=5, seed=3)
    assert without_credentials(first) == without_credentials(again)
    assert without_credentials(first) != without_credentials(generate_model(enterprises=5, seed=4))


def credentials(model: dict) -> list[str]:
    found = []
    for e in enterprises(model):
        for g in e["gateways"]:
            found.append(g["password"])
            found += [d["attributes"]["hj212_pw"] for d in g["devices"] if "hj212_pw" in d["attributes"]]
    return found


def test_credentials_do_not_follow_from_the_seed() -> None:
    """Issue 14 C1: anyone who knew the seed recomputed every gateway and logger password."""
    first, again = (
        credentials(generate_model(enterprises=5, seed=3)),
        credentials(generate_model(enterprises=5, seed=3)),
    )
    assert len(first) == len(again) > 5
    assert all(a != b for a, b in zip(first, again, strict=True) if len(a) == 20)
    # six-digit logger passwords may repeat by chance (1 in a million each), not all of them
    assert sum(a == b for a, b in zip(first, again, strict=True)) < len(first) // 2


def test_seed_is_not_a_served_attribute() -> None:
    park = generate_model(enterprises=2, seed=11)["parks"][0]
    assert "sim_seed" not in park.get("attributes", {})
    assert sim_parks(generate_model(enterprises=2, seed=11))[0].seed == 11
    # model files written before keep working
    old = generate_model(enterprises=2, seed=11)
    old["parks"][0]["attributes"] = {"sim_seed": old["parks"][0].pop("sim_seed")}
    assert sim_parks(old)[0].seed == 11


def test_model_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Issue 14 H7: demo/park.yaml holds every password; an existing file is narrowed too."""
    path = tmp_path / "park.yaml"
    path.write_text("old")
    path.chmod(0o644)
    write_model(generate_model(enterprises=1, seed=1), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_park_has_the_requested_enterprises_plus_operations(model: dict) -> None:
    ents = enterprises(model)
    assert len(ents) == 41
    assert [e["industry"] for e in ents].count(PARK_OPERATIONS) == 1
    industries = Counter(e["industry"] for e in ents)
    assert len(industries) >= 6
    assert set(industries) <= set(INDUSTRIES)
    park = model["parks"][0]
    assert park["timezone"] == "Asia/Shanghai" and park["grid_region"] == "inner_mongolia_west"
    assert park["land_area_mu"] > sum(e["land_area_mu"] for e in ents)


def test_enterprises_have_chinese_names_land_and_unique_codes(model: dict) -> None:
    ents = enterprises(model)
    assert len({e["code"] for e in ents}) == len(ents)
    assert len({e["name"] for e in ents}) == len(ents)
    for e in ents:
        assert CJK.search(e["name"]), e["name"]
        lo, hi = INDUSTRIES[e["industry"]].land_mu
        assert lo <= e["land_area_mu"] <= hi


def test_every_device_kind_appears_with_valid_metrics(model: dict) -> None:
    kinds = Counter(d["kind"] for e in enterprises(model) for d in devices(e))
    assert set(kinds) == set(DEVICE_KINDS)
    for e in enterprises(model):
        codes = [d["code"] for d in devices(e)]
        assert len(codes) == len(set(codes)), e["code"]
        for d in devices(e):
            assert set(d.get("metrics", DEVICE_KINDS[d["kind"]])) <= set(DEVICE_KINDS[d["kind"]])
            assert CJK.search(d["name"]) and d["zone"]


def test_air_stations_belong_to_park_operations_only(model: dict) -> None:
    for e in enterprises(model):
        stations = [d for d in devices(e) if d["kind"] == "air_station"]
        assert bool(stations) == (e["industry"] == PARK_OPERATIONS)


def test_cems_carry_source_reference_oxygen_and_hj212_identity(model: dict) -> None:
    cems = [d for e in enterprises(model) for d in devices(e) if d["kind"] == "stack_cems"]
    assert cems
    for d in cems:
        a = d["attributes"]
        assert a["o2_ref_pct"] == SOURCES[a["source_type"]]["o2_ref_pct"]
        assert re.fullmatch(r"[0-9A-F]{24}", a["hj212_mn"])
        assert re.fullmatch(r"[0-9]{6}", a["hj212_pw"])
    mns = [d["attributes"]["hj212_mn"] for d in cems]
    assert len(set(mns)) == len(mns)


def test_counters_declare_their_register_maximum(model: dict) -> None:
    counters = {"elec_meter", "water_meter", "gas_meter", "steam_meter", "heat_meter", "coal_scale"}
    for e in enterprises(model):
        for d in devices(e):
            if d["kind"] in counters:
                assert d["attributes"]["register_max"] > 0


def test_gateways_have_own_credentials_and_bounded_size(model: dict) -> None:
    park = model["parks"][0]["code"]
    users, passwords = [], []
    for e in enterprises(model):
        for g in e["gateways"]:
            assert g["username"] == f"{park}.{e['code']}.{g['code']}"
            assert len(g["password"]) == 20
            assert 1 <= len(g["devices"]) <= DEVICES_PER_GATEWAY
            users.append(g["username"])
            passwords.append(g["password"])
    assert len(set(users)) == len(users) and len(set(passwords)) == len(passwords)


def test_written_file_is_what_the_registry_reads(model: dict, tmp_path: Path) -> None:
    path = tmp_path / "park.yaml"
    write_model(model, path)
    loaded = registry.read_model(path)
    assert loaded == model
    for park, ent, gw in registry.iter_gateways(loaded):
        for d in gw["devices"]:
            registry.device_metric_codes(d, f"{park['code']}/{ent['code']}/{d['code']}")
    gateways = sum(len(e["gateways"]) for e in enterprises(model))
    assert len(registry.broker_accounts(loaded)) == gateways


def test_cli_init_writes_a_model_and_names_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.yaml"
    assert main(["sim", "init", "--enterprises", "3", "--seed", "1", "--park", "p1", "-o", str(out)]) == 0
    written = read_model(out)
    expected = generate_model(enterprises=3, seed=1, park="p1")
    # the park's plan beside the model, named in it and read back as its SVG
    assert (tmp_path / "p-plan.svg").is_file()
    assert written["parks"][0].pop("plan") == park_plan.generate(park_plan.plot_specs(expected["parks"][0]))
    assert without_credentials(written) == without_credentials(expected)
    assert main(["sim", "init", "--park", "Bad/Code", "-o", str(out)]) == 2
    assert "'Bad/Code'" in capsys.readouterr().err


def test_simulator_view_restricts_enterprises_and_names_unknown_ones(model: dict) -> None:
    (park,) = sim_parks(model, enterprises=["e001", "e002"])
    assert {g.enterprise for g in park.gateways} == {"e001", "e002"}
    assert park.seed == 7
    with pytest.raises(ModelError, match="e999"):
        sim_parks(model, enterprises=["e999"])
    with pytest.raises(ModelError, match="'nosuch'"):
        sim_parks(model, park="nosuch")


def test_simulator_view_rejects_unknown_kind_by_name() -> None:
    bad = generate_model(enterprises=1, seed=1)
    bad["parks"][0]["enterprises"][1]["gateways"][0]["devices"][0]["kind"] = "toaster"
    with pytest.raises(ModelError, match="'toaster'"):
        sim_parks(bad)


def test_missing_or_broken_model_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nosuch\.yaml"):
        read_model(tmp_path / "nosuch.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parks: [\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"bad\.yaml"):
        read_model(bad)
