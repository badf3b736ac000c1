"""Versioned code tables of HJ 212: protocol versions, pollutant codes, data flags, field suffixes.

Sources: HJ 212-2017 (Flag bits, appendix B pollutant codes, data flags) and HJ/T 212-2005
(the older pollutant codes, which loggers still in service keep sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Flag bits V5..V0 (bits 7..2): the protocol version. HJ/T 212-2005 had no version bits (0);
# HJ 212-2017 is 000001. HJ 212-2025 keeps the frame; 000010 is its version as we read the new
# edition's Flag table: verify against the published text before relying on it.
VERSIONS: Mapping[int, str] = MappingProxyType({0: "2005", 1: "2017", 2: "2025"})
VERSION_BITS: Mapping[str, int] = MappingProxyType({v: k for k, v in VERSIONS.items()})
FLAG_REPLY = 0b01  # A: the sender wants a reply
FLAG_SPLIT = 0b10  # D: the packet is one of several (PNUM/PNO present)

# HJ/T 212-2005 code -> HJ 212-2017 code (HJ 212-2017 appendix B, "原编码" column).
CODES_2005: Mapping[str, str] = MappingProxyType(
    {
        "01": "a34013",  # smoke dust
        "02": "a21026",  # SO2
        "03": "a21002",  # NOx
        "04": "a21005",  # CO
        "S01": "a19001",  # O2
        "S02": "a01011",  # flue-gas velocity
        "S03": "a01012",  # flue-gas temperature
        "B02": "a00000",  # flue-gas flow
        "B01": "w00000",  # wastewater flow
        "001": "w01001",  # pH
        "011": "w01018",  # COD
        "060": "w21003",  # ammonia nitrogen
        "101": "w21011",  # total phosphorus
        "065": "w21001",  # total nitrogen
    }
)


def code_2017(code: str) -> str:
    """The HJ 212-2017 pollutant code of a code as sent (2005 codes translated)."""
    return CODES_2005.get(code, code)


# Data flags of HJ 212-2017 (the -Flag field); the stored value is smartpark.catalogue.HJ212_FLAGS.
DATA_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "N": "normal",
        "F": "stopped",
        "M": "maintenance",
        "S": "set manually",
        "D": "fault",
        "C": "calibration",
        "T": "over range",
        "B": "communication fault",
    }
)

# Field suffixes that carry a number (the others, e.g. -Flag, -EFlag, -SampleTime, are text).
NUMERIC_SUFFIXES = frozenset(
    {
        "Rtd",
        "Min",
        "Avg",
        "Max",
        "Cou",
        "ZsRtd",
        "ZsMin",
        "ZsAvg",
        "ZsMax",
        "RS",
        "RT",
        "Ala",
        "UpValue",
        "LowValue",
        "Data",
        "DayData",
        "NightData",
    }
)
TIME_SUFFIXES = frozenset({"SampleTime"})

# Command numbers (CN).
CN_REALTIME = "2011"
CN_MINUTE = "2051"
CN_HOURLY = "2061"
CN_DAILY = "2031"
CN_REQUEST_REPLY = "9011"
CN_RESULT = "9012"
CN_NOTICE_REPLY = "9013"
CN_DATA_REPLY = "9014"
DATA_CNS: Mapping[str, str] = MappingProxyType(
    {CN_REALTIME: "real-time", CN_MINUTE: "minute", CN_HOURLY: "hourly", CN_DAILY: "daily"}
)
ST_SYSTEM = "91"  # system interaction: replies
# System codes (ST) of the data this platform takes (HJ 212-2017, the system code table).
ST_AMBIENT_AIR = "22"
ST_AIR_SOURCE = "31"
ST_WATER_SOURCE = "32"

# The field that is the reading of each data command, and its O2-corrected twin: the real-time
# value of 2011 data, the average of minute, hourly and daily data (HJ 212-2017 field names).
VALUE_SUFFIX: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        CN_REALTIME: ("Rtd", "ZsRtd"),
        CN_MINUTE: ("Avg", "ZsAvg"),
        CN_HOURLY: ("Avg", "ZsAvg"),
        CN_DAILY: ("Avg", "ZsAvg"),
    }
)

# QnRtn of a 9011 request reply.
QN_READY = 1
QN_REFUSED = 2
QN_BAD_PASSWORD = 3
QN_BAD_MN = 4
QN_BAD_ST = 5
QN_BAD_FLAG = 6
QN_BAD_QN = 7
QN_BAD_CN = 8
QN_BAD_CRC = 9
QN_UNKNOWN = 100
