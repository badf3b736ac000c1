from __future__ import annotations

import pytest

from hj212 import errors
from hj212.crc import crc16, crc16_reference, crc_hex
from hj212.errors import Hj212Error
from hj212.frame import FrameScanner, Junk, encode_frame, parse_frame
from tests.support.hj212 import APPENDIX, data_frame

SEGMENT = APPENDIX[6:-6]


def test_crc_of_the_appendix_example() -> None:
    assert crc_hex(SEGMENT) == "1C80"
    assert len(SEGMENT) == 101


def test_crc_is_not_modbus() -> None:
    modbus = 0xFFFF
    for b in SEGMENT:
        modbus ^= b
        for _ in range(8):
            modbus = (modbus >> 1) ^ 0xA001 if modbus & 1 else modbus >> 1
    assert modbus != 0x1C80


@pytest.mark.parametrize("data", [b"", b"a", b"QN=1;ST=32", bytes(range(256))])
def test_table_crc_equals_the_standards_loop(data: bytes) -> None:
    assert crc16(data) == crc16_reference(data)


def test_appendix_frame_parses() -> None:
    frame = parse_frame(APPENDIX)
    assert frame.segment == SEGMENT.decode()
    assert frame.crc == "1C80"


def test_crc_is_compared_case_insensitively() -> None:
    lower = APPENDIX.replace(b"1C80\r\n", b"1c80\r\n")
    assert parse_frame(lower).crc == "1c80"


def test_encode_frame_round_trip() -> None:
    assert encode_frame(SEGMENT.decode()) == APPENDIX


@pytest.mark.parametrize(
    ("raw", "reason", "names"),
    [
        (APPENDIX.replace(b"##0101", b"#!0101"), errors.BAD_HEADER, "##"),
        (APPENDIX.replace(b"##0101", b"##01a1"), errors.BAD_LENGTH, "'01a1'"),
        (APPENDIX.replace(b"##0101", b"##0100"), errors.BAD_LENGTH, "says 100"),
        (APPENDIX.replace(b"##0101", b"##0102"), errors.BAD_LENGTH, "has 101"),
        (APPENDIX.replace(b"1C80\r\n", b"1C81\r\n"), errors.BAD_CRC, "1C81"),
        (APPENDIX.replace(b"1C80\r\n", b"1CZ0\r\n"), errors.BAD_CRC, "'1CZ0'"),
        (APPENDIX.replace(b"Flag=5", b"Flag=6"), errors.BAD_CRC, "computed"),
        (APPENDIX[:-2], errors.BAD_TRAILER, "CR LF"),
        (APPENDIX.replace(b"PW=100000", b"PW=10000\xe4"), errors.BAD_ENCODING, "0xe4"),
    ],
)
def test_malformed_frames_name_the_fault(raw: bytes, reason: str, names: str) -> None:
    with pytest.raises(Hj212Error) as caught:
        parse_frame(raw)
    assert caught.value.reason == reason
    assert names in caught.value.detail


def test_frame_without_crlf_when_lines_are_read() -> None:
    assert parse_frame(APPENDIX[:-2], tail_required=False).crc == "1C80"


def test_scanner_cuts_frames_in_any_chunking() -> None:
    stream = APPENDIX + data_frame() + APPENDIX
    for size in (1, 3, 7, 64, len(stream)):
        scanner = FrameScanner()
        out: list[bytes | Junk] = []
        for i in range(0, len(stream), size):
            out += scanner.feed(stream[i : i + size])
        assert out == [APPENDIX, data_frame(), APPENDIX]
        assert scanner.close() is None


def test_scanner_reports_garbage_between_frames() -> None:
    scanner = FrameScanner()
    out = scanner.feed(b"\x00\xffnoise" + APPENDIX + b"#x#" + APPENDIX)
    assert out[1] == APPENDIX and out[3] == APPENDIX
    assert isinstance(out[0], Junk) and out[0].reason == errors.GARBAGE and out[0].size == 7
    assert isinstance(out[2], Junk) and out[2].size == 3


def test_scanner_reports_a_frame_cut_off_by_the_next() -> None:
    scanner = FrameScanner()
    out = scanner.feed(APPENDIX[:40] + APPENDIX)
    assert isinstance(out[0], Junk) and out[0].reason == errors.TRUNCATED and out[0].size == 40
    assert out[1] == APPENDIX


def test_scanner_reports_a_frame_cut_off_by_the_connection() -> None:
    scanner = FrameScanner()
    assert scanner.feed(APPENDIX[:50]) == []
    junk = scanner.close()
    assert junk is not None and junk.reason == errors.TRUNCATED and junk.size == 50


def test_scanner_bounds_a_frame_that_never_ends() -> None:
    scanner = FrameScanner(max_frame=200)
    out = scanner.feed(b"##0101" + b"A" * 300)
    assert len(out) == 1 and isinstance(out[0], Junk) and out[0].reason == errors.TOO_LONG
    assert scanner.pending == 0
    assert scanner.feed(APPENDIX) == [APPENDIX]
