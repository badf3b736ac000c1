"""Issue 14 M7: split uploads could hold 9 999 parts × 1 000 uploads per connection (3 000 parts
added 121 MB). What is held is now bounded in bytes, per connection and over all connections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hj212 import codes
from hj212.packet import decode_frame
from hj212.reassembly import ByteBudget, Reassembler
from tests.support.hj212 import data_frame

ROOT = Path(__file__).resolve().parents[2]
CP = "DataTime=20260126080000;" + ";".join(f"a{i:05d}-Rtd={i}.5,a{i:05d}-Flag=N" for i in range(30))


def part(qn: str, pno: int, pnum: int = 9999) -> bytes:
    return data_frame("2051", CP, qn=qn, flag=5 | codes.FLAG_SPLIT, extra=f"PNUM={pnum};PNO={pno};")


def test_a_connection_holds_at_most_its_bytes_and_reports_what_it_gave_up() -> None:
    r = Reassembler(max_bytes=64 * 1024, budget=ByteBudget(10 * 1024 * 1024))
    given_up = []
    for i in range(3000):  # 3 000 parts of never-ending uploads, ten at a time
        frame = part(f"2026012608000{i % 10:04d}", i // 10 + 1)
        whole, expired = r.add(decode_frame(frame), frame)
        assert whole is None
        given_up += expired
        assert r.held_bytes <= 64 * 1024
    assert given_up and all("given up: over the 65536 bytes per connection" in e.detail for e in given_up)
    assert len(r.flush()) <= 10 and r.held_bytes == 0


def test_all_connections_together_hold_at_most_the_shared_budget() -> None:
    budget = ByteBudget(100 * 1024)
    conns = [Reassembler(max_bytes=64 * 1024, budget=budget) for _ in range(5)]
    for i in range(2000):
        frame = part(f"20260126080{i % 5:06d}", i // 5 + 1)
        conns[i % 5].add(decode_frame(frame), frame)
        assert budget.used == sum(c.held_bytes for c in conns) <= 100 * 1024
    for c in conns:
        c.flush()
    assert budget.used == 0


def test_an_upload_that_completes_is_whole_and_frees_its_bytes() -> None:
    budget = ByteBudget(1024 * 1024)
    r = Reassembler(budget=budget)
    frames = [part("20260126080000001", pno, pnum=3) for pno in (3, 1, 2)]
    results = [r.add(decode_frame(f), f) for f in frames]
    whole = results[-1][0]
    assert whole is not None and len(whole.readings) == 3 * 30 * 1 and budget.used == 0 == r.held_bytes


MEASURE = """
import tracemalloc
from hj212 import reassembly
from hj212.packet import decode_frame
from hj212.reassembly import ByteBudget, Reassembler
from tests.hj212.test_split_bounds import part

frames = [part(f"2026012608{i % 1000:07d}", i // 1000 + 1) for i in range(3000)]
packets = [decode_frame(f) for f in frames]
tracemalloc.start()
r = Reassembler(max_bytes=256 * 1024, budget=ByteBudget(16 * 1024 * 1024))
for p, f in zip(packets, frames, strict=True):
    r.add(p, f)
mine = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, reassembly.__file__)])
print(sum(stat.size for stat in mine.statistics("filename")), r.held_bytes)
"""


def test_memory_held_for_split_uploads_is_bounded() -> None:
    """Measured with tracemalloc: 3 000 parts on one connection stay within its byte limit
    (plus bookkeeping), where the unbounded version held every decoded part. Measured in a
    fresh interpreter: threads of other tests in this process would allocate in the same module."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    held, counted = (int(x) for x in out.stdout.split())
    assert counted <= 256 * 1024
    assert held < 2 * 256 * 1024, f"{held} bytes held"
    print(f"held by the reassembler: {held} bytes for 3000 parts")
