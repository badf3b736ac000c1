"""Properties over many generated packets: round trips and stream cutting never lose a frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hj212.encode import Pollutant
from hj212.frame import FrameScanner, Junk
from hj212.packet import decode_frame
from hj212.reassembly import Reassembler
from tests.support.hj212 import upload

values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
codes = st.from_regex(r"[aw][0-9]{5}", fullmatch=True)
pollutant = st.builds(
    Pollutant,
    codes,
    st.dictionaries(st.sampled_from(["Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd"]), values, min_size=1),
    st.sampled_from(["N", "F", "M", "S", "D", "C", "T", "B", None]),
)
uploads = st.lists(pollutant, min_size=1, max_size=40, unique_by=lambda p: p.code)


@settings(max_examples=50, deadline=None)
@given(uploads, st.sampled_from(["2005", "2017", "2025"]), st.booleans())
def test_encode_then_decode_gives_the_same_readings(pollutants: list[Pollutant], version: str, reply: bool) -> None:
    frames = upload(pollutants, cn="2051", version=version, reply=reply)
    r = Reassembler()
    wholes = [w for w in (r.add(decode_frame(f))[0] for f in frames) if w is not None]
    assert len(wholes) == 1 and wholes[0].problems == ()
    whole = wholes[0]
    assert (whole.version, whole.wants_reply) == (version, reply)
    assert [(x.code, x.suffix, x.flag) for x in whole.readings] == [
        (p.code, s, p.flag) for p in pollutants for s in p.values
    ]
    sent = [v for p in pollutants for v in p.values.values()]
    for got, want in zip((x.value for x in whole.readings), sent, strict=True):
        assert abs(got - want) <= 1e-6 * max(1.0, abs(want))  # tiny values are written with 12 decimals


garbage = st.binary(max_size=30).filter(lambda b: b"\r\n" not in b and b"#" not in b)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(garbage, uploads), min_size=1, max_size=5), st.integers(min_value=1, max_value=200))
def test_scanner_finds_every_frame_between_garbage_in_any_chunking(
    parts: list[tuple[bytes, list[Pollutant]]], chunk: int
) -> None:
    per_part = [upload(pollutants) for _, pollutants in parts]
    frames = [f for fs in per_part for f in fs]
    stream = b"".join(g + b"".join(fs) for (g, _), fs in zip(parts, per_part, strict=True))
    scanner = FrameScanner()
    out: list[bytes | Junk] = []
    for i in range(0, len(stream), chunk):
        out += scanner.feed(stream[i : i + chunk])
    assert scanner.close() is None
    assert [p for p in out if isinstance(p, bytes)] == frames
    assert sum(p.size for p in out if isinstance(p, Junk)) == sum(len(g) for g, _ in parts)
