from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from hj212.encode import Pollutant
from hj212.packet import decode_frame
from ingest.hj212 import mapping
from ingest.hj212.mapping import Mapped, map_packet, telemetry_cn
from smartpark import catalogue, hj212_metrics
from tests.support.hj212 import data_frame, upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
TS = 1769385600000  # 2026-01-26T08:00:00+08:00


def test_stack_real_time_to_catalogue() -> None:
    p = decode_frame(
        data_frame(
            "2011",
            "DataTime=20260126080000;a21026-Rtd=35.2,a21026-Flag=N;a21002-Rtd=48,a21002-Flag=C;"
            "a34013-Rtd=4.5,a34013-Flag=N;a19001-Rtd=10.5,a19001-Flag=N;a00000-Rtd=12.5,a00000-Flag=N",
        )
    )
    mapped, skipped = map_packet(p, tz=SHANGHAI)
    assert skipped == []
    assert mapped == [
        Mapped("stack.so2_mgm3", TS, 35.2, 0),
        Mapped("stack.nox_mgm3", TS, 48.0, catalogue.HJ212_FLAGS["C"]),
        Mapped("stack.dust_mgm3", TS, 4.5, 0),
        Mapped("stack.o2_pct", TS, 10.5, 0),
        Mapped("stack.flow_m3h", TS, 45000.0, 0),  # 12.5 m³/s
    ]


def test_only_n_is_valid() -> None:
    assert [catalogue.HJ212_FLAGS[f] == catalogue.FLAG_VALID for f in "NFMSDCTB"] == [True] + [False] * 7


def test_minute_data_take_the_average() -> None:
    p = decode_frame(
        data_frame(
            "2051",
            "DataTime=20260126080000;w01018-Min=20,w01018-Avg=25.5,w01018-Max=30,w01018-Flag=N;"
            "w21003-Avg=1.5;w01001-Avg=7.2;w00000-Avg=10,w00000-Cou=0.6",
            st="32",
        )
    )
    mapped, skipped = map_packet(p, tz=SHANGHAI, store_cns={"2051"})  # a logger sending minute data only
    assert [(m.metric, m.value) for m in mapped] == [
        ("ww.cod_mgl", 25.5),
        ("ww.nh3n_mgl", 1.5),
        ("ww.ph", 7.2),
        ("ww.flow_m3h", 36.0),  # 10 L/s
    ]
    assert skipped == []


def test_ambient_air_uses_air_metrics() -> None:
    p = decode_frame(
        data_frame(
            "2011",
            "DataTime=20260126080000;a34004-Rtd=80;a34002-Rtd=120;a21026-Rtd=20",
            st="22",
        )
    )
    mapped, _ = map_packet(p, tz=SHANGHAI)
    assert [(m.metric, m.value) for m in mapped] == [
        ("air.pm25_ugm3", 80.0),
        ("air.pm10_ugm3", 120.0),
        ("air.so2_ugm3", 20.0),
    ]


def test_o2_corrected_figures_get_their_own_metrics() -> None:
    p = decode_frame(data_frame("2011", "DataTime=20260126080000;a21026-Rtd=40,a21026-ZsRtd=54.55"))
    everything = map_packet(p, tz=SHANGHAI, known=lambda code: True)[0]
    assert [(m.metric, m.value) for m in everything] == [("stack.so2_mgm3", 40.0), ("stack.so2_zs_mgm3", 54.55)]
    # until the catalogue has the corrected metric, the figure is reported, not stored elsewhere
    mapped, skipped = map_packet(p, tz=SHANGHAI, known=lambda code: "_zs_" not in code)
    assert [m.metric for m in mapped] == ["stack.so2_mgm3"]
    assert [s.reason for s in skipped] == [mapping.NOT_IN_CATALOGUE]
    assert "stack.so2_zs_mgm3" in skipped[0].detail


def test_hourly_and_daily_data_are_not_stored_by_default() -> None:
    for cn in ("2061", "2031"):
        p = decode_frame(data_frame(cn, "DataTime=20260126080000;a21026-Avg=40"))
        mapped, skipped = map_packet(p, tz=SHANGHAI)
        assert mapped == [] and [s.reason for s in skipped] == [mapping.NOT_STORED_CN]
        mapped, _ = map_packet(p, tz=SHANGHAI, store_cns={cn})
        assert [m.metric for m in mapped] == ["stack.so2_mgm3"]


def test_one_command_becomes_telemetry_the_coarser_are_for_reconciliation() -> None:
    """Issue 16 item 3: minute data (2051) average the real-time data (2011) of the same
    instrument; stored under the same metric they would count every reading twice. With both
    configured, 2011 is telemetry and 2051 is not stored; a minute-only logger stores 2051."""
    rt = decode_frame(data_frame("2011", "DataTime=20260126080000;a21026-Rtd=40"))
    minute = decode_frame(data_frame("2051", "DataTime=20260126080000;a21026-Avg=40"))
    both = {"2011", "2051", "2061"}
    assert telemetry_cn(both) == "2011" and telemetry_cn({"2061", "2051"}) == "2051"
    assert [m.metric for m in map_packet(rt, tz=SHANGHAI, store_cns=both)[0]] == ["stack.so2_mgm3"]
    mapped, skipped = map_packet(minute, tz=SHANGHAI, store_cns=both)
    assert mapped == [] and [s.reason for s in skipped] == [mapping.RECONCILIATION]
    assert "CN=2011" in skipped[0].detail
    # the server's default: real-time data only
    assert map_packet(minute, tz=SHANGHAI)[1][0].reason == mapping.NOT_STORED_CN
    assert [m.metric for m in map_packet(minute, tz=SHANGHAI, store_cns={"2051"})[0]] == ["stack.so2_mgm3"]


def test_unknown_pollutants_and_systems_are_reported() -> None:
    p = decode_frame(data_frame("2011", "DataTime=20260126080000;a99999-Rtd=1;a21026-Rtd=2"))
    mapped, skipped = map_packet(p, tz=SHANGHAI)
    assert [m.metric for m in mapped] == ["stack.so2_mgm3"]
    assert [s.reason for s in skipped] == [mapping.UNMAPPED_CODE] and "a99999" in skipped[0].detail
    other = decode_frame(data_frame("2011", "DataTime=20260126080000;a21026-Rtd=2", st="23"))
    assert [s.reason for s in map_packet(other, tz=SHANGHAI)[1]] == [mapping.UNMAPPED_ST]


def test_2005_packets_map_like_2017() -> None:
    p = decode_frame(data_frame("2011", "DataTime=20260126080000;02-Rtd=33;B02-Rtd=1", flag=0))
    mapped, _ = map_packet(p, tz=SHANGHAI)
    assert [(m.metric, m.value) for m in mapped] == [("stack.so2_mgm3", 33.0), ("stack.flow_m3h", 3600.0)]


def test_every_target_is_in_the_catalogue_or_a_corrected_figure() -> None:
    for st, table in hj212_metrics.TARGETS.items():
        for code, target in table.items():
            assert target.metric in catalogue.BY_CODE, (st, code)
            assert target.corrected is None or "_zs_" in target.corrected


def test_sources_invert_targets() -> None:
    frames = upload([Pollutant("a00000", {"Rtd": 45000.0 / hj212_metrics.SOURCES["stack.flow_m3h"][2]})])
    mapped, _ = map_packet(decode_frame(frames[0]), tz=SHANGHAI)
    assert hj212_metrics.SOURCES["stack.flow_m3h"][:2] == ("31", "a00000")
    assert [(m.metric, m.value) for m in mapped] == [("stack.flow_m3h", 45000.0)]


def test_payload_is_the_contracts_device_telemetry() -> None:
    from smartpark.contract import Topic, decode

    mapped = [Mapped("stack.so2_mgm3", TS, 35.2, 0), Mapped("stack.nox_mgm3", TS, 48.0, 5)]
    body = mapping.to_payload(mapped)
    assert json.loads(body) == {
        "ts": TS,
        "values": {"stack.so2_mgm3": 35.2, "stack.nox_mgm3": 48.0},
        "flags": {"stack.nox_mgm3": 5},
    }
    decoded = decode(Topic("p", "e", "d", None, "telemetry"), body, received_ms=TS)
    assert (decoded.metric, decoded.value, decoded.flag, decoded.problems) == (
        ["stack.so2_mgm3", "stack.nox_mgm3"],
        [35.2, 48.0],
        [0, 5],
        [],
    )
    two = mapping.to_payload([mapped[0], Mapped("stack.so2_mgm3", TS + 60_000, 30.0, 0)])
    assert [e["ts"] for e in json.loads(two)] == [TS, TS + 60_000]
    assert "flags" not in json.loads(two)[0]  # only flags other than N travel
