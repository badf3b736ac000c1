"""The CRC of HJ 212 (appendix of HJ 212-2017).

It looks like CRC-16/MODBUS (same polynomial 0xA001, same 0xFFFF start) but folds each byte in
as ``(crc >> 8) ^ byte`` instead of ``crc ^ byte``, so MODBUS libraries give wrong answers.
"""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    # After ``crc = (crc >> 8) ^ b`` the eight shift/xor rounds depend only on the low byte
    # (the high byte is < 256 after the shift and is just shifted out); precomputing them makes
    # the loop one lookup per byte.
    out = []
    for low in range(256):
        crc = low
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
        out.append(crc)
    return tuple(out)


_TABLE = _table()


def crc16_reference(data: bytes) -> int:
    """The standard's algorithm as written, kept to check the table-driven one against."""
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ b
        for _ in range(8):
            lsb = crc & 1
            crc >>= 1
            if lsb:
                crc ^= 0xA001
    return crc


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    table = _TABLE
    for b in data:
        x = (crc >> 8) ^ b  # < 256: the high byte of crc is gone after the shift
        crc = table[x]
    return crc


def crc_hex(data: bytes) -> str:
    return f"{crc16(data):04X}"
