from __future__ import annotations

import pytest

from device_sim.hj212_logger import UploadEncoder
from hj212.packet import decode_frame
from ingest.hj212.mapping import map_packet
from smartpark.hj212_metrics import pollutants_of
from tests.hj212.test_mapping import SHANGHAI, TS


@pytest.mark.parametrize(
    ("values", "st"),
    [
        ({"stack.so2_mgm3": 35.0, "stack.o2_pct": 9.5, "stack.flow_m3h": 50000.0}, "31"),
        ({"ww.cod_mgl": 25.5, "ww.ph": 7.1, "ww.flow_m3h": 12.0}, "32"),
        ({"air.pm25_ugm3": 80.0, "air.no2_ugm3": 45.0, "air.co_mgm3": 1.2, "air.o3_ugm3": 130.0}, "22"),
    ],
)
def test_catalogue_readings_survive_the_wire(values: dict[str, float], st: str) -> None:
    enc = UploadEncoder(mn="MN0001", pw="123456")
    for cn in ("2011", "2051"):
        qn, frames = enc.frames(values, ts_ms=TS, cn=cn, flags={next(iter(values)): "M"})
        packet = decode_frame(frames[0])
        assert (packet.qn, packet.st, packet.cn, packet.wants_reply) == (qn, st, cn, True)
        mapped, skipped = map_packet(packet, tz=SHANGHAI, store_cns={cn})  # the logger's telemetry command
        assert skipped == []
        assert {m.metric: m.value for m in mapped} == values
        assert [m.flag for m in mapped] == [2] + [0] * (len(values) - 1)
        assert {m.ts_ms for m in mapped} == {TS}


def test_qns_are_unique_per_upload() -> None:
    enc = UploadEncoder(mn="MN0001", pw="123456")
    qns = {enc.frames({"ww.ph": 7.0}, ts_ms=TS)[0] for _ in range(200)}
    assert len(qns) == 200


def test_readings_the_standard_cannot_carry_are_refused() -> None:
    with pytest.raises(ValueError, match=r"'elec\.import_kwh'"):
        pollutants_of({"elec.import_kwh": 1.0})
    with pytest.raises(ValueError, match="ST=32"):
        pollutants_of({"stack.so2_mgm3": 1.0, "ww.ph": 7.0})
    with pytest.raises(ValueError, match="no readings"):
        pollutants_of({})


def test_split_carried_groups_by_system() -> None:
    from smartpark.hj212_metrics import split_carried

    got = split_carried({"stack.so2_mgm3": 1.0, "ww.ph": 7.0, "elec.power_kw": 3.0, "stack.o2_pct": 9.0})
    assert got == {"31": {"stack.so2_mgm3": 1.0, "stack.o2_pct": 9.0}, "32": {"ww.ph": 7.0}, "": {"elec.power_kw": 3.0}}
