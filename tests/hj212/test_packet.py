from __future__ import annotations

from datetime import datetime

import pytest

from hj212 import errors
from hj212.errors import Hj212Error
from hj212.packet import Reading, decode_frame, parse_segment
from tests.support.hj212 import APPENDIX, MN, data_frame


def test_appendix_example() -> None:
    p = decode_frame(APPENDIX)
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
        5,
    )
    assert p.version == "2017" and p.wants_reply and not p.is_split
    assert p.params == (("RtdInterval", "30"),)
    assert p.readings == () and p.problems == ()


def test_real_time_data_2011() -> None:
    p = decode_frame(
        data_frame(
            "2011",
            "DataTime=20260126080000;a21026-Rtd=35.2,a21026-ZsRtd=40.1,a21026-Flag=N;"
            "a19001-Rtd=10.5,a19001-Flag=N;a00000-Rtd=12.5,a00000-Flag=M",
        )
    )
    assert p.data_time == datetime(2026, 1, 26, 8, 0, 0)
    assert p.readings == (
        Reading("a21026", "a21026", "Rtd", 35.2, "N"),
        Reading("a21026", "a21026", "ZsRtd", 40.1, "N"),
        Reading("a19001", "a19001", "Rtd", 10.5, "N"),
        Reading("a00000", "a00000", "Rtd", 12.5, "M"),
    )


@pytest.mark.parametrize("cn", ["2051", "2061", "2031"])
def test_interval_data_minute_hourly_daily(cn: str) -> None:
    p = decode_frame(
        data_frame(
            cn,
            "DataTime=20260126080000;w01018-Cou=1.2,w01018-Min=20.1,w01018-Avg=25.5,w01018-Max=30.0,w01018-Flag=N",
            st="32",
        )
    )
    assert p.cn == cn
    assert [(r.suffix, r.value) for r in p.readings] == [
        ("Cou", 1.2),
        ("Min", 20.1),
        ("Avg", 25.5),
        ("Max", 30.0),
    ]
    assert all(r.flag == "N" for r in p.readings)


def test_reading_without_flag_has_none() -> None:
    p = decode_frame(data_frame("2011", "DataTime=20260126080000;w01001-Rtd=7.1", st="32"))
    assert p.readings == (Reading("w01001", "w01001", "Rtd", 7.1, None),)


def test_text_fields_are_kept_as_params() -> None:
    p = decode_frame(
        data_frame(
            "2011",
            "DataTime=20260126080000;w01018-Rtd=25,w01018-SampleTime=20260126075500,w01018-EFlag=A01",
            st="32",
        )
    )
    assert p.params == (("w01018-SampleTime", "20260126075500"), ("w01018-EFlag", "A01"))
    assert [r.value for r in p.readings] == [25.0]


def test_2005_codes_are_translated() -> None:
    p = decode_frame(
        data_frame(
            "2011",
            "DataTime=20260126080000;02-Rtd=33.0,02-Flag=N;03-Rtd=44;01-Rtd=5;S01-Rtd=9.5;B02-Rtd=10",
            flag=0,
        )
    )
    assert p.version == "2005" and not p.wants_reply
    assert [(r.code, r.raw_code) for r in p.readings] == [
        ("a21026", "02"),
        ("a21002", "03"),
        ("a34013", "01"),
        ("a19001", "S01"),
        ("a00000", "B02"),
    ]
    water = decode_frame(
        data_frame("2011", "DataTime=20260126080000;011-Rtd=25;060-Rtd=2;001-Rtd=7;B01-Rtd=3", st="32", flag=0)
    )
    assert [r.code for r in water.readings] == ["w01018", "w21003", "w01001", "w00000"]


@pytest.mark.parametrize(
    ("flag", "version", "reply"), [(4, "2017", False), (5, "2017", True), (9, "2025", True), (0, "2005", False)]
)
def test_flag_version_bits(flag: int, version: str, reply: bool) -> None:
    p = decode_frame(data_frame(flag=flag))
    assert p.version == version and p.wants_reply is reply


def test_split_packet_fields() -> None:
    p = decode_frame(data_frame(flag=7, extra="PNUM=3;PNO=2;"))
    assert p.is_split and (p.pnum, p.pno) == (3, 2)


def test_qn_and_flag_are_optional_as_in_older_loggers() -> None:
    p = parse_segment(f"ST=31;CN=2011;PW=123456;MN={MN};CP=&&DataTime=20260126080000;a21026-Rtd=1&&")
    assert p.qn is None and p.flag == 0 and not p.wants_reply


BASE = (
    "QN=20260126080000123;ST=31;CN=2011;PW=123456;MN=88888880000001;Flag=5;CP=&&DataTime=20260126080000;a21026-Rtd=1&&"
)


@pytest.mark.parametrize(
    ("segment", "reason", "names"),
    [
        (BASE.replace("PW=123456;", ""), errors.MISSING_FIELD, "PW"),
        (BASE.replace("MN=88888880000001;", ""), errors.MISSING_FIELD, "MN"),
        (BASE.replace("ST=31;", ""), errors.MISSING_FIELD, "ST"),
        (BASE.replace("CN=2011;", ""), errors.MISSING_FIELD, "CN"),
        (BASE.replace("CP=&&", "XP=&&"), errors.MISSING_FIELD, "CP"),
        (BASE.replace("DataTime=20260126080000;", ""), errors.MISSING_FIELD, "DataTime"),
        (BASE.replace("Flag=5", "Flag=7"), errors.MISSING_FIELD, "PNUM/PNO"),
        (BASE.replace("Flag=5", "Flag=7;PNUM=2;PNO=3"), errors.BAD_SPLIT, "PNO 3"),
        (BASE.replace("Flag=5", "Flag=x"), errors.BAD_FIELD, "'x'"),
        (BASE.replace("Flag=5", "Flag=17"), errors.BAD_FIELD, "version 4"),
        (BASE.replace("QN=20260126080000123", "QN=2026012608"), errors.BAD_FIELD, "'2026012608'"),
        (BASE.replace("QN=20260126080000123", "QN=20261326080000123"), errors.BAD_FIELD, "valid time"),
        (BASE.replace("ST=31", "ST=3a"), errors.BAD_FIELD, "'3a'"),
        (BASE.replace("CN=2011", "CN=20x1"), errors.BAD_FIELD, "'20x1'"),
        (BASE.replace("MN=88888880000001", "MN=88 8"), errors.BAD_FIELD, "'88 8'"),
        (BASE.replace("ST=31;", "ST=31;ST=32;"), errors.BAD_FIELD, "twice"),
        (BASE.replace("ST=31;", "ST31;"), errors.BAD_FIELD, "'ST31'"),
        (BASE[:-2], errors.BAD_FIELD, "&&"),
        (BASE.replace("DataTime=20260126080000", "DataTime=2026012608000"), errors.BAD_DATATIME, "'2026012608000'"),
        (BASE.replace("DataTime=20260126080000", "DataTime=20260230080000"), errors.BAD_DATATIME, "valid time"),
        (BASE.replace("DataTime=20260126080000", "DataTime=2026-01-26 08"), errors.BAD_DATATIME, "YYYYMMDDhhmmss"),
    ],
)
def test_malformed_segments_name_the_fault(segment: str, reason: str, names: str) -> None:
    with pytest.raises(Hj212Error) as caught:
        parse_segment(segment)
    assert caught.value.reason == reason
    assert names in caught.value.detail


@pytest.mark.parametrize(
    ("cp", "reason", "names"),
    [
        ("a21026-Rtd=abc", errors.BAD_VALUE, "'abc'"),
        ("a21026-Rtd=nan", errors.BAD_VALUE, "'nan'"),
        ("a21026-Rtd=1_000", errors.BAD_VALUE, "'1_000'"),
        ("a21026-Rtd=", errors.BAD_VALUE, "''"),
        ("a21026-Rtd=1,a21026-Flag=X", errors.BAD_FLAG, "'X'"),
        ("a21026-Rtd=1,a21026-Rtd=2", errors.BAD_FIELD, "twice"),
        ("a21026-Rtd", errors.BAD_FIELD, "key=value"),
        ("a21026-Rtd=1,a21026-SampleTime=2026", errors.BAD_DATATIME, "'2026'"),
    ],
)
def test_bad_pollutant_fields_cost_only_that_pollutant(cp: str, reason: str, names: str) -> None:
    p = parse_segment(BASE.replace("a21026-Rtd=1", cp + ";a21002-Rtd=50"))
    assert [p.reason for p in p.problems] == [reason]
    assert names in p.problems[0].detail
    assert Reading("a21002", "a21002", "Rtd", 50.0, None) in p.readings


def test_numbers_in_exponent_and_signed_forms() -> None:
    p = parse_segment(BASE.replace("a21026-Rtd=1", "a21026-Rtd=1.5E+01;a21002-Rtd=-0.5;a34013-Rtd=.25"))
    assert [r.value for r in p.readings] == [15.0, -0.5, 0.25]
