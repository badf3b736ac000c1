"""Why a packet was refused: stable reason codes (Prometheus labels, rejected messages)."""

from __future__ import annotations

BAD_HEADER = "bad_header"  # the frame does not start with ##
BAD_LENGTH = "bad_length"  # length field not 4 digits, or not the length of the data segment
BAD_CRC = "bad_crc"  # CRC field not 4 hex digits, or not the CRC of the data segment
BAD_TRAILER = "bad_trailer"  # no CR LF after the CRC
BAD_ENCODING = "bad_encoding"  # bytes outside ASCII
TRUNCATED = "truncated"  # connection dropped or next ## arrived before the frame ended
TOO_LONG = "too_long"  # no frame end within the largest length the 4-digit field allows
GARBAGE = "garbage"  # bytes between frames
MISSING_FIELD = "missing_field"
BAD_FIELD = "bad_field"  # QN, ST, CN, PW, MN, Flag, PNUM/PNO or CP malformed
BAD_DATATIME = "bad_datatime"
BAD_VALUE = "bad_value"
BAD_FLAG = "bad_flag"  # a pollutant's -Flag is not one of the standard's data flags
BAD_SPLIT = "bad_split"  # split packets that do not add up
UNKNOWN_MN = "unknown_mn"
BAD_PASSWORD = "bad_password"
TOO_MANY_REFUSED = "too_many_refused"  # the connection was closed


class Hj212Error(ValueError):
    """A packet that cannot be used at all; ``reason`` is one of the codes above."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
